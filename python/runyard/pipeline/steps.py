"""Pipeline steps: a script (Python or R), a command, an R function, or an estimator, as one
child run each.

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
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..config import RunConfiguration, ScriptRunConfig
from ..data import Dataset, DatasetConsumptionConfig
from ..data.references import as_reference
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
        if source_directory is not None and not isinstance(source_directory, (str, os.PathLike)):
            raise ConfigError(f"step {self.name!r}: source_directory must be a folder path, "
                              f"got {type(source_directory).__name__}")
        self.source_directory = str(Path(source_directory if source_directory is not None else ".").absolute())
        self.inputs: list[StepInput] = []
        self.outputs: list[OutputFileDatasetConfig] = []
        #: the datasets the step reads (``dataset.as_named_input(name)``)
        self.datasets: list[DatasetConsumptionConfig] = []
        for index, item in enumerate(inputs or []):
            item = as_reference(item)
            if isinstance(item, OutputFileDatasetConfig):
                item = item.as_input()
            if isinstance(item, Dataset):
                item = item.as_named_input(item._input_name())
            if isinstance(item, DatasetConsumptionConfig):
                self._add_dataset(item)
                continue
            if not isinstance(item, StepInput):
                raise ConfigError(f"step {self.name!r}: inputs[{index}] must be an OutputFileDatasetConfig "
                                  f"(or its .as_input()), a dataset (or its .as_named_input()), a DataReference "
                                  f"or (DataPath, DataPathComputeBinding), got {type(item).__name__}")
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

    def _add_dataset(self, item: DatasetConsumptionConfig) -> None:
        from ..data.consumption import collect
        self.datasets = collect([*self.datasets, item], f"step {self.name!r}")

    def _add_output(self, item: OutputFileDatasetConfig) -> None:
        for known in self.outputs:
            if known.name == item.name:
                if known is item:
                    return
                raise ConfigError(f"step {self.name!r}: two outputs are named {item.name!r}")
        self.outputs.append(item)
        # who writes it: a pipeline given only later steps adds this one (as Azure ML does)
        writers = item.__dict__.setdefault("_writers", [])
        if self not in writers:
            writers.append(self)

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
            elif isinstance(value, DatasetConsumptionConfig):  # the script gets the path of its files
                self._add_dataset(value.delivered())
                tokens.append({"input": value.name})
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
                         inputs=[*(inputs or []), *estimator.inputs], outputs=outputs, allow_reuse=allow_reuse,
                         compute_target=compute_target if compute_target is not None else estimator.compute_target,
                         source_directory=estimator.source_directory)

    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        config = self.estimator.run_config()
        if self.estimator._curated:  # registered in the workspace under its reserved name on first use
            config.environment = self.estimator.environment.register(workspace)
        config.compute_target = self.compute_target
        return config


class RFunctionStep(PipelineStep):
    """Call an R function (or run an R script) inside the step's Python process through rpy2,
    on the local target. Each input whose folder holds one table file (.parquet, .csv) arrives
    as an R data.frame, converted in memory; one holding a .rds or .json file as that R value;
    any other input as its folder's path. The function's inputs are its named arguments, and
    ``arguments`` (a dict: more named ones; a list: positional ones) follow. A data.frame it
    returns is written to its output as ``data.parquet``, any other value as ``value.json``
    (or ``value.rds`` when JSON cannot hold it); with several outputs it returns a named list
    with one element per output. An R error fails the step with R's message and traceback.
    ``function=None`` runs the script for its last value, its inputs and ``arguments`` set
    as variables first.

    >>> prepared, coefs = OutputFileDatasetConfig("prepared"), OutputFileDatasetConfig("coefs")
    >>> step = RFunctionStep(name="fit", source_directory="src", script_name="model.R", function="fit",
    ...                      inputs=[prepared.as_input("data")], outputs=[coefs],
    ...                      arguments={"formula": "y ~ x"})  # doctest: +SKIP
    """

    kind = "rfunction"

    def __init__(self, name: str | None = None, source_directory: str | os.PathLike | None = None,
                 script_name: str = "model.R", function: str | None = "fit", inputs: list[Any] | None = None,
                 outputs: list[Any] | None = None, arguments: list[Any] | dict[str, Any] | None = None,
                 compute_target: Any = None, runconfig: RunConfiguration | None = None, allow_reuse: bool = True):
        what = f"RFunctionStep {name!r}" if name else "RFunctionStep"
        if not isinstance(script_name, str) or not script_name.lower().endswith(".r"):
            raise ConfigError(f"{what}: script_name must name an R script (ending in .R), got {script_name!r}")
        if Path(script_name).is_absolute() or ".." in Path(script_name).parts:
            raise ConfigError(f"{what}: script_name {script_name!r} must be a path relative to source_directory")
        if function is not None and not _is_r_name(function):
            raise ConfigError(f"{what}: function {function!r} is not an R function name (letters, digits, "
                              f"'.' and '_', starting with a letter or '.'; not a reserved word); use None to "
                              f"run the script for its last value")
        self.script_name = script_name
        self.function = function
        super().__init__(name or function or script_name, arguments=None, inputs=inputs, outputs=outputs,
                         allow_reuse=allow_reuse, compute_target=compute_target, runconfig=runconfig,
                         source_directory=source_directory)
        target = compute_target if compute_target is not None else (runconfig.target if runconfig else None)
        if not _is_local(target):
            shown = target.name if hasattr(target, "name") else target
            raise ConfigError(f"step {self.name!r}: compute_target {shown!r} is not the local target; an "
                              f"RFunctionStep runs R inside the step's own Python process, which it does on "
                              f"the local target only (use RScriptStep to run R on Docker or Ray)")
        self.r_arguments = self._r_arguments(arguments)
        self.command = self._command()

    def _r_arguments(self, arguments: Any) -> list[tuple[str | None, dict[str, Any]]]:
        """``arguments`` as (name or None, token) pairs, a token typed so R gets numbers as numbers."""
        if arguments is None:
            return []
        if isinstance(arguments, dict):
            pairs = list(arguments.items())
            for key, _ in pairs:
                if not isinstance(key, str) or not key:
                    raise ConfigError(f"step {self.name!r}: arguments keys are R argument names, got {key!r}")
        elif isinstance(arguments, (list, tuple)):
            if self.function is None and arguments:
                raise ConfigError(f"step {self.name!r}: with function=None the script gets its arguments as "
                                  f"variables: give them as a dict of name -> value")
            pairs = [(None, value) for value in arguments]
        else:
            raise ConfigError(f"step {self.name!r}: arguments must be a dict (named R arguments) or a list "
                              f"(positional ones), got {type(arguments).__name__}")
        taken = [i.name for i in self.inputs]
        tokens = []
        for index, (key, value) in enumerate(pairs):
            where = f"arguments[{key!r}]" if key is not None else f"arguments[{index}]"
            if isinstance(value, (StepInput, OutputFileDatasetConfig, PipelineParameter)):
                (token,) = self._template(where, [value])
            elif isinstance(value, _Scalar):
                token = {"text": json.dumps(value)}
            else:
                raise ConfigError(f"step {self.name!r}: {where} must be text, a number, a bool, a "
                                  f"PipelineParameter or step data, got {type(value).__name__}")
            if key is not None and key in taken and token.get("input") != key:
                raise ConfigError(f"step {self.name!r}: {where}: input {key!r} is passed to the R function "
                                  f"under that name already; rename the input (.as_input(name=...)) or "
                                  f"the argument")
            tokens.append((key, token))
        return tokens

    def _command(self) -> list[dict[str, Any]]:
        """``python -m runyard.pipeline._rfunction ...`` in the job's own Python (the one its
        environment gives it, which the local target exports as RETICULATE_PYTHON so that R
        code finds it; for the same reason, here)."""
        passed = {t.get("input") for _, t in self.r_arguments} | {t.get("output") for _, t in self.r_arguments}
        words: list[Any] = ["/bin/sh", "-c", 'exec "${RETICULATE_PYTHON:-python3}" -m runyard.pipeline._rfunction "$@"',
                            "rfunction", "--script", self.script_name]
        if self.function is not None:
            words += ["--function", self.function]
        tokens = [{"text": w} for w in words]
        for item in self.inputs:
            if item.name not in passed:
                tokens += [{"text": "--input"}, {"text": item.name}, {"input": item.name}]
        for output in self.outputs:
            if output.name not in passed:
                tokens += [{"text": "--output"}, {"text": output.name}, {"output": output.name}]
        for key, token in self.r_arguments:
            tokens += [{"text": "--arg"}, {"text": key or ""}, {"text": _argument_kind(token)}, token]
        return tokens

    def parameters(self) -> list[PipelineParameter]:
        return [t["object"] for _, t in self.r_arguments if "parameter" in t]

    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        from ..compute import get_target
        config = ScriptRunConfig(source_directory=self.source_directory, command="true",
                                 run_config=self.runconfig, compute_target=self.compute_target)
        if not (Path(self.source_directory) / self.script_name).is_file():
            raise ConfigError(f"script {self.script_name!r} does not exist in source_directory "
                              f"{self.source_directory!r}")
        target = get_target(workspace, config.resolved_target())
        if target.type != "local":
            raise ConfigError(f"compute_target {target.name!r} is a {target.type} target; an RFunctionStep "
                              f"runs on the local target only (use RScriptStep to run R on {target.type})")
        _check_r_python(config.resolved_environment())
        return config


_R_RESERVED = {"if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL",
               "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_", "in", "..."}


def _is_r_name(name: Any) -> bool:
    """A syntactic R name: ``fit``, ``fit_model``, ``.fit``, ``fit.lm``; not ``2fit``, ``.2fit``,
    ``_fit``, ``..1`` or a reserved word."""
    return (isinstance(name, str) and name not in _R_RESERVED and re.fullmatch(r"\.\.[0-9]+", name) is None
            and re.fullmatch(r"(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*", name) is not None)


def _is_local(target: Any) -> bool:
    if target is None or target in ("", "local", "azureml:local"):
        return True
    return getattr(target, "type", None) == "local"


def _argument_kind(token: dict[str, Any]) -> str:
    """How ``runyard.pipeline._rfunction`` reads the filled-in token back."""
    if "input" in token:
        return "input"
    if "output" in token:
        return "path"
    if "parameter" in token:
        default = token["object"].default_value
        return ("bool" if isinstance(default, bool) else "int" if isinstance(default, int) else
                "float" if isinstance(default, float) else "str")
    return "json"


def _check_r_python(environment: Any) -> None:
    """The job's Python can run R through rpy2: the submitting Python has rpy2 and pandas
    (when the job runs in it), or the environment's packages list them; and R is installed."""
    import importlib.util
    import shutil
    python = environment.python if environment is not None else None
    if python is None or python.user_managed_dependencies or (
            environment.r is not None and python == type(python)()):
        if python is None or not python.interpreter_path:
            missing = [m for m in ("rpy2", "pandas") if importlib.util.find_spec(m) is None]
            if missing:
                raise ConfigError(f"an RFunctionStep runs R through rpy2 in this Python ({sys.executable}), "
                                  f"which lacks {' and '.join(missing)}: pip install \"runyard[r]\"")
    else:
        from packaging.requirements import InvalidRequirement, Requirement
        names = set()
        for requirement in python.conda_dependencies.pip_packages:
            try:
                names.add(Requirement(requirement).name.lower())
            except InvalidRequirement:
                continue
        missing = [m for m in ("rpy2", "pandas") if m not in names]
        if missing:
            raise ConfigError(f"an RFunctionStep runs R through rpy2 in its environment's Python, and "
                              f"environment {environment.name!r} does not list {' and '.join(missing)} in "
                              f"its pip packages: add \"rpy2==3.5.17\" and \"pandas>=2\"")
    if not os.environ.get("R_HOME") and shutil.which("R") is None:
        raise ConfigError("an RFunctionStep needs R, and there is no R on this machine's PATH (nor R_HOME): "
                          "install R (Debian/Ubuntu: apt-get install r-base)")


# Azure ML's import path: ``from azureml.pipeline.steps import ParallelRunStep, ParallelRunConfig``
from .parallel_run_config import ParallelRunConfig  # noqa: E402
from .parallel_run_step import ParallelRunStep  # noqa: E402

__all__ = ["CommandStep", "EstimatorStep", "ParallelRunConfig", "ParallelRunStep", "PipelineStep", "PythonScriptStep",
           "RFunctionStep", "RScriptStep"]
