"""``PipelineRun``: the run of a pipeline; its steps are its child runs (``StepRun``), whose
outputs are read as Azure's ``PortDataReference``.

>>> run = experiment.submit(pipeline)  # doctest: +SKIP
>>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
>>> [step.display_name for step in run.get_steps()]  # doctest: +SKIP
['prep', 'train', 'evaluate']
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..run import Run
from . import reuse
from .data import OUTPUTS_FOLDER


class PipelineRun(Run):
    """A run of type ``pipeline``: status, wait and cancel as for any run, plus its steps.

    Its driver process (see ``runyard.pipeline._driver``) is its supervisor: ``cancel()``
    stops it, and it stops the running steps.
    """

    def get_steps(self) -> list[Run]:
        """The step runs, in the order they were started (reused and not-run steps included):
        a ``StepRun`` each, or the sweep's or AutoML's own run class for those steps."""
        return [StepRun._from_row(self.workspace, step._row) if type(step) is Run else step
                for step in self.get_children()]

    def find_step_run(self, name: str) -> list[Run]:
        """The step runs of the step called ``name`` (a list, as in Azure ML). A step given no
        ``name`` is called by its script's name, so ``find_step_run("train.py")`` finds it.
        """
        return [step for step in self.get_steps() if step.display_name == name]

    def get_step_reuse(self) -> dict[str, str | None]:
        """Step name -> the run it reused, or None for a step that ran."""
        return {step.display_name: step.get_properties().get(reuse.REUSED_RUN_PROPERTY)
                for step in self.get_children()}


class StepRun(Run):
    """The run of one pipeline step, with its outputs by name (Azure's ``StepRun``).

    >>> step = pipeline_run.find_step_run("prep.py")[0]  # doctest: +SKIP
    >>> step.get_output_data("prepared").download("here")  # doctest: +SKIP
    """

    def get_output_data(self, name: str) -> "PortDataReference":
        """The files the step wrote to its output ``name`` (for a reused step: those of the run
        it reused)."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"get_output_data: name must be an output's name, got {name!r}")
        holder = self.get_properties().get(reuse.REUSED_RUN_PROPERTY) or self.id
        prefix = f"{OUTPUTS_FOLDER}/{name}/"
        files = [n for n in self.workspace._artifacts.list(holder) if n.startswith(prefix)]
        if not files:
            written = sorted({n.split("/")[1] for n in self.workspace._artifacts.list(holder)
                              if n.startswith(f"{OUTPUTS_FOLDER}/") and n.count("/") >= 2})
            raise ConfigError(f"step {self.display_name!r} (run {self.id}) has no files in output {name!r}; "
                              f"its outputs with files: {', '.join(written) or 'none'}")
        return PortDataReference(self, holder, name, files)

    def get_output(self, name: str) -> "StepRunOutput":
        """Output ``name`` of this step; ``.get_port_data_reference()`` gives its files."""
        return StepRunOutput(self, name)


class StepRunOutput:
    """One output of a step run (Azure's ``StepRunOutput``)."""

    def __init__(self, step_run: StepRun, name: str):
        self.step_run = step_run
        self.name = name

    def get_port_data_reference(self) -> "PortDataReference":
        return self.step_run.get_output_data(self.name)

    def __repr__(self) -> str:
        return f"StepRunOutput(name={self.name!r}, run={self.step_run.id!r})"


class PortDataReference:
    """The files of a step's output. ``path_on_datastore`` is Azure's layout
    (``azureml/<run id>/<output name>``); ``download(local_path)`` puts the files there under
    ``local_path`` and returns that folder, as Azure's did."""

    def __init__(self, step_run: StepRun, holder: str, name: str, files: list[str]):
        self.step_run = step_run
        self.name = name
        #: the run that wrote the files (the reused run, for a reused step)
        self.run_id = holder
        self.path_on_datastore = f"azureml/{holder}/{name}"
        self._files = files

    def download(self, local_path: str | os.PathLike, overwrite: bool = False, show_progress: bool = False) -> str:
        """Copy the output's files to ``local_path/azureml/<run id>/<output name>/``; an existing
        file there is an error unless ``overwrite``."""
        if not isinstance(local_path, (str, os.PathLike)):
            raise ConfigError(f"download: local_path must be a folder path, got {type(local_path).__name__}")
        if not isinstance(overwrite, bool) or not isinstance(show_progress, bool):
            raise ConfigError("download: overwrite and show_progress must be True or False")
        folder = Path(local_path) / self.path_on_datastore
        prefix = f"{OUTPUTS_FOLDER}/{self.name}/"
        targets = [(name, folder / name[len(prefix):]) for name in self._files]
        existing = [str(t) for _, t in targets if t.exists()]
        if existing and not overwrite:
            raise ConfigError(f"download: {existing[0]} exists (and {len(existing) - 1} more); pass overwrite=True "
                              f"to replace them")
        artifacts = self.step_run.workspace._artifacts
        for name, target in targets:
            artifacts.download(self.run_id, name, target)
            if show_progress:
                print(f"downloaded {target}")
        return str(folder)

    def __repr__(self) -> str:
        return f"PortDataReference(name={self.name!r}, path_on_datastore={self.path_on_datastore!r})"
