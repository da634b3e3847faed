"""What an entry script of a ``ParallelRunStep`` imports (Azure ML's ``azureml_user.parallel_run``).

>>> from runyard.parallel_run import EntryScript
>>> def run(mini_batch):
...     EntryScript().logger.info("scoring %d files", len(mini_batch))
...     return [f"{path} ok" for path in mini_batch]
"""

from __future__ import annotations

import logging
import os

__all__ = ["EntryScript"]


class EntryScript:
    """The worker's view of its step: a logger whose lines go to the step run's log, tagged with
    the worker, and the folder to write files into (the step's output)."""

    @property
    def logger(self) -> logging.Logger:
        from .pipeline._parallel.worker import LOGGER_NAME
        return logging.getLogger(LOGGER_NAME)

    @property
    def output_dir(self) -> str:
        """The step's output folder (``output=``), or the run's outputs/ without one."""
        from .pipeline._parallel.worker import OUTPUT_DIR_ENV
        return os.environ.get(OUTPUT_DIR_ENV) or os.path.abspath("outputs")

    @property
    def working_dir(self) -> str:
        return os.getcwd()
