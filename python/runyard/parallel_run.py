"""What an entry script of a ``ParallelRunStep`` imports (Azure ML's ``azureml_user.parallel_run``).

>>> from runyard.parallel_run import EntryScript
>>> def run(mini_batch):
...     EntryScript().logger.info("scoring %d files", len(mini_batch))
...     return [f"{path} ok" for path in mini_batch]
"""

from __future__ import annotations

import logging
import os
from typing import Any

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

    def register_model(self, model_name: str, model_path: str | os.PathLike, tags: dict[str, Any] | None = None,
                       properties: dict[str, Any] | None = None, description: str | None = None,
                       model_framework: str | None = None, model_framework_version: str | None = None,
                       datasets: list[tuple[str, Any]] | None = None, sample_input_dataset: Any = None,
                       sample_output_dataset: Any = None, resource_configuration: dict[str, Any] | None = None,
                       partition: dict[str, Any] | None = None) -> str:
        """Register the local file or folder ``model_path`` as a model of the step's run, in
        bulk with the other workers' once this mini batch has succeeded (a try that fails
        registers nothing; a retried one registers once). ``partition`` (the mini batch's
        ``partition_key_value``) makes it that partition's model: registered as
        ``partition_model_name(model_name, partition)``, tagged with the partition's key
        values, found again with ``Model.get_by_partition``. Returns the name it is
        registered under; the partition table's ``models`` column has its version.

        >>> def run(mini_batch, mini_batch_context):
        ...     joblib.dump(fit(mini_batch), "model.pkl")
        ...     EntryScript().register_model("sales", "model.pkl", partition=mini_batch_context.partition_key_value)
        ...     return [1]
        """
        from .pipeline._parallel import models
        return models.register(model_name, model_path, partition, dict(
            tags=tags, properties=properties, description=description, datasets=datasets,
            model_framework=model_framework, model_framework_version=model_framework_version,
            sample_input_dataset=sample_input_dataset, sample_output_dataset=sample_output_dataset,
            resource_configuration=resource_configuration))
