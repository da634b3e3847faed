"""Data between pipeline steps, and pipeline parameters.

``OutputFileDatasetConfig(name)`` is a folder one step writes and others read;
``PipelineData`` is the older name users know for the same thing. Where one
appears in a step's ``arguments`` the script gets a path: the folder to write
(``outputs/<name>`` of the step's working folder, kept as the step run's
``outputs/<name>/`` files) or, through ``.as_input()``, the folder holding the
producing step's files (``inputs/<name>``); ``register_on_complete(name)``
registers those files as a dataset version when the step completes.
``PipelineParameter`` is a value given at submission, in place in ``arguments``.

>>> prepared = OutputFileDatasetConfig("prepared")
>>> prepared.as_input().name
'prepared'
>>> PipelineParameter("alpha", default_value=0.5).default_value
0.5
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError, refuse_options

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_Scalar = (str, int, float, bool)

#: where an output is written and an input found, relative to a step's working folder
OUTPUTS_FOLDER = "outputs"
INPUTS_FOLDER = "inputs"


def _check_name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{what} name {name!r}: use 1-128 letters, digits or '_', not starting with a digit")
    return name


class OutputFileDatasetConfig:
    """A folder a step writes (an output) and later steps read (with ``.as_input()``).

    >>> out = OutputFileDatasetConfig("model")
    >>> out.name
    'model'
    """

    def __init__(self, name: str | None = None, destination: Any = None, source: str | None = None):
        if name is None:
            raise ConfigError(f"{type(self).__name__}: give it a name (it names the step's output folder)")
        self.name = _check_name("output", name)
        refuse_options(f"{type(self).__name__} {name!r}", "the step writes this output to the folder its argument "
                       f"names ({OUTPUTS_FOLDER}/{name} of its working folder); write the files there", source=source)
        #: where the files are copied when the step completes: ``{"datastore", "path"}``
        self.destination = _destination(type(self).__name__, name, destination)
        #: whether that copy replaces files already at the destination (``as_upload(overwrite=)``)
        self.overwrite = True
        #: the dataset this output becomes when its step completes (``register_on_complete``)
        self.registration: dict[str, Any] | None = None
        self._format: dict[str, Any] | None = None

    def as_input(self, name: str | None = None) -> "StepInput":
        """This output, as an input of a later step (in ``inputs=`` or ``arguments=``)."""
        return StepInput(self, name or self.name)

    def as_mount(self) -> "OutputFileDatasetConfig":
        return self

    def as_upload(self, overwrite: bool = False, source_globs: Any = None) -> "OutputFileDatasetConfig":
        """Copy the files to the ``destination`` when the step completes (what runyard does
        for every output); ``overwrite=False``, Azure's default here, keeps files already at
        the destination (an output without ``as_upload`` replaces them).

        >>> OutputFileDatasetConfig("scores").as_upload(overwrite=True).overwrite
        True
        """
        if not isinstance(overwrite, bool):
            raise ConfigError(f"{type(self).__name__} {self.name!r}: as_upload: overwrite must be True or False, "
                              f"got {overwrite!r}")
        refuse_options(f"{type(self).__name__} {self.name!r}: as_upload", "every file the step writes to the "
                       "output is copied; write only those it should hold", source_globs=source_globs)
        self.overwrite = overwrite
        return self

    def read_delimited_files(self, include_path: bool = False, separator: str = ",", header: bool = True,
                             partition_format: str | None = None, path_glob: str | None = None,
                             set_column_types: Any = None, encoding: str = "utf8",
                             support_multi_line: bool = False, empty_as_string: bool = False,
                             infer_column_types: bool = True) -> "OutputFileDatasetConfig":
        """Register this output as a tabular dataset of delimited files (with
        ``register_on_complete``); the options are those of
        ``Dataset.Tabular.from_delimited_files``."""
        from ..data.tabular import delimited_format
        where = f"{type(self).__name__} {self.name!r}: read_delimited_files"
        _no_path_glob(where, path_glob)
        self._format = delimited_format(separator, header, encoding, include_path,
                                        infer_column_types=infer_column_types, set_column_types=set_column_types,
                                        partition_format=partition_format, support_multi_line=support_multi_line,
                                        empty_as_string=empty_as_string, where=where)
        if self.registration:
            self.registration["format"] = self._format
        return self

    def read_parquet_files(self, include_path: bool = False, partition_format: str | None = None,
                           path_glob: str | None = None, set_column_types: Any = None) -> "OutputFileDatasetConfig":
        """Register this output as a tabular dataset of Parquet files."""
        from ..data.tabular import parquet_format
        where = f"{type(self).__name__} {self.name!r}: read_parquet_files"
        _no_path_glob(where, path_glob)
        self._format = parquet_format(include_path, set_column_types=set_column_types,
                                      partition_format=partition_format, where=where)
        if self.registration:
            self.registration["format"] = self._format
        return self

    def register_on_complete(self, name: str, description: str | None = None,
                             tags: dict[str, str] | None = None) -> "OutputFileDatasetConfig":
        """When the step that writes this output completes, register its files as a new version
        of dataset ``name`` (the same content: the version that has it), produced by that run.

        >>> OutputFileDatasetConfig("prepared").register_on_complete("prepared-data").registration["name"]
        'prepared-data'
        """
        from ..data.dataset import _NAME_RE as dataset_name
        if not isinstance(name, str) or not dataset_name.match(name):
            raise ConfigError(f"{type(self).__name__} {self.name!r}: register_on_complete: dataset name {name!r}: "
                              f"use 1-255 letters, digits, '.', '_', '-' or spaces inside")
        if tags is not None and not isinstance(tags, dict):
            raise ConfigError(f"{type(self).__name__} {self.name!r}: register_on_complete: tags must be a dict")
        self.registration = {"name": name, "description": description,
                             "tags": {str(k): str(v) for k, v in (tags or {}).items()}, "format": self._format}
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _no_path_glob(where: str, path_glob: str | None) -> None:
    refuse_options(where, "the dataset registered is every file the step writes to this output; write only "
                          "the files it should hold", path_glob=path_glob)


class PipelineData(OutputFileDatasetConfig):
    """Azure ML's earlier name for a step output; behaves as ``OutputFileDatasetConfig``.

    >>> PipelineData("prepared", is_directory=True).name
    'prepared'
    """

    def __init__(self, name: str | None = None, datastore: Any = None, output_name: str | None = None,
                 output_mode: str = "mount", output_path_on_compute: str | None = None,
                 output_overwrite: bool | None = None, data_type: str | None = None,
                 is_directory: bool | None = None, pipeline_output_name: str | None = None,
                 training_output: Any = None):
        """``output_mode`` "mount" or "upload": either way the files are kept (and copied to
        ``datastore``) when the step completes; ``output_overwrite`` as ``as_upload(overwrite=)``."""
        super().__init__(output_name or name, destination=None if datastore is None else
                         (datastore, "azureml/{run-id}/{output-name}"))
        where = f"PipelineData {self.name!r}"
        if output_mode not in ("mount", "upload"):
            raise ConfigError(f"{where}: output_mode must be 'mount' or 'upload', got {output_mode!r}")
        if is_directory is False:
            raise ConfigError(f"{where}: is_directory=False: a step's output is a folder; write the file into it")
        if data_type not in (None, "AnyDirectory"):
            raise ConfigError(f"{where}: data_type {data_type!r}: a step's output is a folder ('AnyDirectory')")
        refuse_options(where, "a step writes its output to the folder its argument names",
                       output_path_on_compute=output_path_on_compute)
        refuse_options(where, "read a step's outputs with run.get_steps() and the step run's files",
                       pipeline_output_name=pipeline_output_name)
        if training_output is not None and not isinstance(training_output, TrainingOutput):
            raise ConfigError(f"{where}: training_output must be a TrainingOutput, got {type(training_output).__name__}")
        #: which of an AutoMLStep's results this output holds
        self.training_output = training_output
        if output_overwrite is not None:
            self.as_upload(overwrite=output_overwrite)


class TrainingOutput:
    """Which result of an ``AutoMLStep`` a ``PipelineData`` holds (Azure ML's names):
    ``type='Model'``, a folder with the best model as ``model.pkl``, or ``type='Metrics'``, a
    folder with ``metrics.json`` (each completed iteration's run id and its metrics). For the
    model, ``iteration`` or ``metric`` choose another than the best by the primary metric.

    >>> TrainingOutput("Model", metric="r2_score").metric
    'r2_score'
    """

    TYPES = ("Model", "Metrics")

    def __init__(self, type: str, iteration: int | None = None, metric: str | None = None,
                 model_file: str | None = None):
        if type not in self.TYPES:
            raise ConfigError(f"TrainingOutput: type must be 'Model' or 'Metrics', got {type!r}")
        if iteration is not None and metric is not None:
            raise ConfigError("TrainingOutput: give iteration or metric, not both")
        if type == "Metrics" and (iteration is not None or metric is not None):
            raise ConfigError("TrainingOutput: iteration and metric choose a model; the metrics output holds every "
                              "iteration's")
        if iteration is not None and (isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0):
            raise ConfigError(f"TrainingOutput: iteration must be a whole number from 0, got {iteration!r}")
        refuse_options("TrainingOutput", "the model is written as model.pkl in the output's folder",
                       model_file=model_file)
        self.type, self.iteration, self.metric = type, iteration, metric

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "iteration": self.iteration, "metric": self.metric}

    def __repr__(self) -> str:
        return f"TrainingOutput(type={self.type!r})"


def _destination(kind: str, name: Any, destination: Any) -> dict[str, str] | None:
    """``destination=(datastore, "path/{run-id}")`` as stored in the pipeline's definition."""
    from ..data import Datastore
    if destination is None:
        return None
    if isinstance(destination, Datastore):
        destination = (destination, "{output-name}/{run-id}")
    if not (isinstance(destination, tuple) and len(destination) == 2 and isinstance(destination[0], Datastore)
            and isinstance(destination[1], str) and destination[1].strip("/")):
        raise ConfigError(f"{kind} {name!r}: destination must be (datastore, path), e.g. "
                          f"(ws.get_default_datastore(), 'prepared/{{run-id}}'), got {destination!r}")
    path = destination[1].strip("/")
    unknown = set(re.findall(r"{([^}]*)}", path)) - {"run-id", "output-name"}
    if unknown or ".." in path.split("/"):
        raise ConfigError(f"{kind} {name!r}: destination path {path!r}: only {{run-id}} and {{output-name}} "
                          f"are filled in, and '..' is not allowed")
    return {"datastore": destination[0].name, "path": path}


class StepInput:
    """An output of one step, read by another: ``output.as_input(name)``."""

    def __init__(self, output: OutputFileDatasetConfig, name: str):
        if not isinstance(output, OutputFileDatasetConfig):
            raise ConfigError(f"as_input: expected an OutputFileDatasetConfig, got {type(output).__name__}")
        self.output = output
        self.name = _check_name("input", name)

    def __repr__(self) -> str:
        return f"StepInput(name={self.name!r}, output={self.output.name!r})"


class PipelineParameter:
    """A value given when the pipeline is submitted (``pipeline_parameters={name: value}``),
    else ``default_value``; put it in a step's ``arguments``.

    >>> p = PipelineParameter("n_estimators", default_value=100)
    >>> p.name, p.default_value
    ('n_estimators', 100)
    """

    def __init__(self, name: str, default_value: Any):
        self.name = _check_name("PipelineParameter", name)
        if not isinstance(default_value, _Scalar):
            raise ConfigError(f"PipelineParameter {name!r}: default_value must be a string, number or bool, "
                              f"got {type(default_value).__name__}")
        self.default_value = default_value

    def check(self, value: Any) -> Any:
        """``value`` if it may replace the default (same kind: text, whole number, number, bool)."""
        default = self.default_value
        ok = (isinstance(value, bool) if isinstance(default, bool) else
              isinstance(value, int) and not isinstance(value, bool) if isinstance(default, int) else
              isinstance(value, (int, float)) and not isinstance(value, bool) if isinstance(default, float) else
              isinstance(value, str))
        if not ok:
            raise ConfigError(f"pipeline_parameters[{self.name!r}]: expected a {type(default).__name__} like the "
                              f"default {default!r}, got {value!r}")
        return value

    def __repr__(self) -> str:
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"
