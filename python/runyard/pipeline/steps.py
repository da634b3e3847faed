"""Pipeline steps: a script (Python or R), a command, or an estimator, as one child run each.

A step says what to run and which data it reads and writes; ``Pipeline`` links
steps through their data and the pipeline run's driver submits each step as an
ordinary job (``runyard.job.submit_job``) on the step's compute target.

>>> prepared = OutputFileDatasetConfig("prepared")
>>> prep = PythonScriptStep("prep.py", arguments=["--out", prepared], source_directory="src")  # doctest: +SKIP
>>> train = PythonScriptStep("train.py", arguments=["--data", prepared.as_input()],
...                          source_directory="src")  # doctest: +SKIP
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..config import RunConfiguration, ScriptRunConfig
from ..errors import ConfigError
from .data import OutputFileDatasetConfig, PipelineParameter, StepInput, _Scalar

if TYPE_CHECKING:
    from ..workspace import Workspace


class PipelineStep(abc.ABC):
    """What every step has: a name, inputs, outputs, arguments and ``allow_reuse``."""

    kind: ClassVar[str] = "step"

    def __init__(self, name: str, *, arguments: list[Any] | None, inputs: list[Any] | None,
                 outputs: list[Any] | None, allow_reuse: bool, compute_target: Any = None,
                 runconfig: RunConfiguration | None = None, source_directory: str | os.PathLike | None = None):
        self.name = _check_step_name(name)
        if runconfig is not None and not isinstance(runconfig, RunConfiguration):
            raise ConfigError(f"step {self.name!r}: runconfig must be a RunConfiguration, "
                              f"got {type(runconfig).__name__}")
        if not isinstance(allow_reuse, bool):
            raise ConfigError(f"step {self.name!r}: allow_reuse must be True or False, got {allow_reuse!r}")
        self.allow_reuse = allow_reuse
        self.compute_target = compute_target
        self.runconfig = runconfig
        self.source_directory = str(Path(source_directory if source_directory is not None else ".").absolute())
        self.inputs: list[StepInput] = []
        self.outputs: list[OutputFileDatasetConfig] = []
        for index, item in enumerate(inputs or []):
            if isinstance(item, OutputFileDatasetConfig):
                item = item.as_input()
            if not isinstance(item, StepInput):
                raise ConfigError(f"step {self.name!r}: inputs[{index}] must be an OutputFileDatasetConfig "
                                  f"(or its .as_input()), got {type(item).__name__}")
            self._add_input(item)
        for index, item in enumerate(outputs or []):
            if not isinstance(item, OutputFileDatasetConfig):
                raise ConfigError(f"step {self.name!r}: outputs[{index}] must be an OutputFileDatasetConfig "
                                  f"or PipelineData, got {type(item).__name__}")
            self._add_output(item)
        self.arguments = self._template("arguments", arguments)

    # -- data ----------------------------------------------------------------
    def _add_input(self, item: StepInput) -> None:
        for known in self.inputs:
            if known.name == item.name:
                if known.output is item.output:
                    return
                raise ConfigError(f"step {self.name!r}: two inputs are named {item.name!r}; "
                                  f"name one with .as_input(name=...)")
        self.inputs.append(item)

    def _add_output(self, item: OutputFileDatasetConfig) -> None:
        for known in self.outputs:
            if known.name == item.name:
                if known is item:
                    return
                raise ConfigError(f"step {self.name!r}: two outputs are named {item.name!r}")
        self.outputs.append(item)

    def _template(self, field: str, values: list[Any] | None) -> list[dict[str, Any]]:
        """Arguments as tokens the driver fills in: text, a parameter, an input or an output path."""
        if values is not None and not isinstance(values, (list, tuple)):
            raise ConfigError(f"step {self.name!r}: {field} must be a list, got {type(values).__name__}")
        tokens = []
        for index, value in enumerate(values or []):
            if isinstance(value, StepInput):
                self._add_input(value)
                tokens.append({"input": value.name})
            elif isinstance(value, OutputFileDatasetConfig):
                read = next((i for i in self.inputs if i.output is value), None)
                if read is not None:  # a PipelineData listed in inputs=
                    tokens.append({"input": read.name})
                else:
                    self._add_output(value)
                    tokens.append({"output": value.name})
            elif isinstance(value, PipelineParameter):
                tokens.append({"parameter": value.name, "object": value})
            elif isinstance(value, _Scalar):
                tokens.append({"text": str(value)})
            else:
                raise ConfigError(f"step {self.name!r}: {field}[{index}] must be text, a number, a "
                                  f"PipelineParameter or step data, got {type(value).__name__}")
        return tokens

    def parameters(self) -> list[PipelineParameter]:
        return [t["object"] for t in self.arguments if "parameter" in t]

    # -- what the driver runs ----------------------------------------------------------
    @abc.abstractmethod
    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        """The run this step becomes (its arguments are the step's, filled in by the driver)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _check_step_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise ConfigError(f"step name {name!r}: give a non-empty name of at most 255 characters")
    return name


class PythonScriptStep(PipelineStep):
    """Run a Python script as a step.

    >>> step = PythonScriptStep("train.py", name="train", arguments=["--alpha", 0.5],
    ...                         source_directory="src")  # doctest: +SKIP
    """

    kind = "python"

    def __init__(self, script_name: str, name: str | None = None, arguments: list[Any] | None = None,
                 compute_target: Any = None, runconfig: RunConfiguration | None = None,
                 inputs: list[Any] | None = None, outputs: list[Any] | None = None,
                 source_directory: str | os.PathLike | None = None, allow_reuse: bool = True):
        if not isinstance(script_name, str) or not script_name:
            raise ConfigError(f"{type(self).__name__}: script_name must be a file name, got {script_name!r}")
        self.script_name = script_name
        super().__init__(name or script_name, arguments=arguments, inputs=inputs, outputs=outputs,
                         allow_reuse=allow_reuse, compute_target=compute_target, runconfig=runconfig,
                         source_directory=source_directory)

    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        return ScriptRunConfig(source_directory=self.source_directory, script=self.script_name,
                               run_config=self.runconfig, compute_target=self.compute_target)


class RScriptStep(PythonScriptStep):
    """Run an R script with ``Rscript`` as a step (the R environment comes from
    ``runconfig.environment.r``).

    >>> step = RScriptStep("model.R", name="model", source_directory="src")  # doctest: +SKIP
    """

    kind = "r"

    def __init__(self, script_name: str, name: str | None = None, arguments: list[Any] | None = None,
                 compute_target: Any = None, runconfig: RunConfiguration | None = None,
                 inputs: list[Any] | None = None, outputs: list[Any] | None = None,
                 source_directory: str | os.PathLike | None = None, allow_reuse: bool = True):
        if isinstance(script_name, str) and not script_name.lower().endswith(".r"):
            raise ConfigError(f"RScriptStep: script_name {script_name!r} must be an R script (ending in .R)")
        super().__init__(script_name, name=name, arguments=arguments, compute_target=compute_target,
                         runconfig=runconfig, inputs=inputs, outputs=outputs,
                         source_directory=source_directory, allow_reuse=allow_reuse)


class CommandStep(PipelineStep):
    """Run a command as a step: a string for the shell, or a list whose items may be step data
    and parameters.

    >>> out = OutputFileDatasetConfig("listing")
    >>> step = CommandStep(["sh", "-c", "ls > $0/files.txt", out], name="list")  # doctest: +SKIP
    """

    kind = "command"

    def __init__(self, command: str | list[Any] | None = None, name: str | None = None,
                 compute_target: Any = None, runconfig: RunConfiguration | None = None,
                 inputs: list[Any] | None = None, outputs: list[Any] | None = None,
                 source_directory: str | os.PathLike | None = None, allow_reuse: bool = True):
        if not command or not isinstance(command, (str, list, tuple)):
            raise ConfigError(f"CommandStep {name or ''}: command must be a non-empty string or list, "
                              f"got {command!r}")
        super().__init__(name or (command if isinstance(command, str) else str(command[0]))[:255],
                         arguments=None, inputs=inputs, outputs=outputs, allow_reuse=allow_reuse,
                         compute_target=compute_target, runconfig=runconfig, source_directory=source_directory)
        self.command = command if isinstance(command, str) else self._template("command", list(command))

    def parameters(self) -> list[PipelineParameter]:
        tokens = self.command if isinstance(self.command, list) else []
        return [t["object"] for t in tokens if "parameter" in t]

    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        return ScriptRunConfig(source_directory=self.source_directory, command="true",
                               run_config=self.runconfig, compute_target=self.compute_target)


class EstimatorStep(PipelineStep):
    """Run an estimator (``SKLearn``, ``PyTorch``, ``Estimator``...) as a step.

    >>> est = SKLearn("src", entry_script="train.py")  # doctest: +SKIP
    >>> step = EstimatorStep("train", est, ["--data", prepared.as_input()], inputs=[], outputs=[],
    ...                      compute_target="local")  # doctest: +SKIP
    """

    kind = "estimator"

    def __init__(self, name: str | None = None, estimator: Any = None,
                 estimator_entry_script_arguments: list[Any] | None = None, inputs: list[Any] | None = None,
                 outputs: list[Any] | None = None, compute_target: Any = None, allow_reuse: bool = True):
        from ..estimators import Estimator
        if not isinstance(estimator, Estimator):
            raise ConfigError(f"EstimatorStep {name!r}: estimator must be an Estimator (SKLearn, PyTorch, ...), "
                              f"got {type(estimator).__name__}")
        self.estimator = estimator
        arguments = (estimator_entry_script_arguments if estimator_entry_script_arguments is not None
                     else list(estimator.arguments))
        super().__init__(name or estimator.entry_script or type(estimator).__name__, arguments=arguments,
                         inputs=inputs, outputs=outputs, allow_reuse=allow_reuse,
                         compute_target=compute_target if compute_target is not None else estimator.compute_target,
                         source_directory=estimator.source_directory)

    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        config = self.estimator.run_config()
        if self.estimator._curated:  # registered in the workspace under its reserved name on first use
            config.environment = self.estimator.environment.register(workspace)
        config.compute_target = self.compute_target
        return config
