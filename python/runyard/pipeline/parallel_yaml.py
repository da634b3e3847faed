"""Parallel jobs described in YAML, in the shape of Azure ML CLI v2's ``type: parallel``.

A file of its own (``runyard job submit -f parallel.yml``, ``load_job_file``) or an entry of a
pipeline file's ``jobs:`` becomes the ``ParallelRunStep`` the same job written in Python is.
Azure's fields map onto ``ParallelRunConfig`` as Azure defines them:

=================================  ==================================================
YAML                               ``ParallelRunConfig`` / ``ParallelRunStep``
=================================  ==================================================
``input_data: ${{inputs.NAME}}``   ``inputs=[that input]``: the data split into mini batches
other data ``inputs``              ``side_inputs``, their paths given by ``program_arguments``
``mini_batch_size``                ``mini_batch_size`` (files; or ``"100kb"`` of a table);
                                   absent: 1 file (Azure CLI v2), ``"1MB"`` of a table
``partition_keys``                 ``partition_keys``
``resources.instance_count``       ``node_count``
``max_concurrency_per_instance``   ``process_count_per_node`` (absent: the machine's CPUs)
``mini_batch_error_threshold``     ``allowed_failed_count`` (failed mini batches; -1: any)
``error_threshold``                ``error_threshold`` (failed items; -1, the default: any)
``retry_settings.max_retries``     ``run_max_try = max_retries + 1`` (retries after the
                                   first try; default 2, Azure v1's 3 tries)
``retry_settings.timeout``         ``run_invocation_timeout`` (seconds, default 60)
``logging_level``                  ``logging_level``
``environment_variables``          ``environment_variables``
``compute``                        ``compute_target``
``task.code``                      ``source_directory`` (relative to the file)
``task.entry_script``              ``entry_script``
``task.environment``               ``environment`` (inline, a file, or ``azureml:NAME:VERSION``)
``task.program_arguments``         ``arguments``: ``${{inputs.X}}``, ``${{outputs.Y}}`` become
                                   paths (and literals, values); ``--error_threshold N`` and
                                   ``--allowed_failed_percent N`` set those settings, as in
                                   Azure; Azure's other predefined arguments are refused
``task.append_row_to``             ``output_action="append_row"`` into ``output`` (that
                                   output): ``parallel_run_step.txt`` in it; absent:
                                   ``summary_only``
=================================  ==================================================

A data input is a folder of files (``uri_folder``, the default), one file (``uri_file``), a
table (``mltable``: a CSV or Parquet file, or a folder of them), a registered dataset
(``azureml:NAME:VERSION``, ``azureml:NAME@latest``: its own type), or, in a pipeline, another
job's output (``${{parent.jobs.STEP.outputs.NAME}}``). ``partition_keys`` need a partitioned
tabular dataset (``TabularDataset.partition_by``), registered. Every problem is a
``ConfigError`` naming the file, the line and the field, before anything runs.

>>> job = load_job_file("score.yml", ws)  # doctest: +SKIP
>>> run = Experiment(ws, "score").submit(job.config)  # a ParallelRunStep run on its own  # doctest: +SKIP
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from .. import _yaml
from ..config import JobDefinition, JobFileHeader, LiteralInput, _job_environment
from ..errors import ConfigError, NotFoundError
from .data import OutputFileDatasetConfig, PipelineParameter, StepInput

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .parallel_run_step import ParallelRunStep

_Scalar = Union[str, int, float, bool]
_REF = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_DATASET = re.compile(r"^azureml:(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,254})(?::(?P<version>[0-9]{1,9})|@latest)?$")
_DATA_TYPES = {"uri_folder": "file", "uri_file": "file", "mltable": "tabular"}
#: Azure's predefined program arguments runyard reads -> the ParallelRunConfig setting
_PREDEFINED = {"--error_threshold": "error_threshold", "--allowed_failed_percent": "allowed_failed_percent"}
#: Azure's predefined program arguments with no runyard counterpart (refused, not ignored)
#: fields of ``task`` that a command job has at its top level
_TASK_FIELDS = ("code", "entry_script", "environment", "program_arguments", "append_row_to")
_PREDEFINED_ELSEWHERE = ("--task_overhead_timeout", "--progress_update_timeout", "--first_task_creation_timeout",
                         "--copy_logs_to_parent", "--metrics_name_prefix", "--push_metrics_to_parent",
                         "--resource_monitor_interval")


# -- the schema ----------------------------------------------------------------------------
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetrySettings(_Spec):
    """``retry_settings``: how often a mini batch is tried again, and how long ``run()`` may take."""

    max_retries: int = Field(2, ge=0)
    timeout: int = Field(60, gt=0, le=259200)


class ParallelResources(_Spec):
    instance_count: int = Field(1, ge=1)


class RunFunctionTask(_Spec):
    """``task``: an entry script with ``init()`` and ``run(mini_batch)`` (Azure's ``run_function``)."""

    type: Literal["run_function"] = "run_function"
    code: str = "."
    entry_script: str = Field(min_length=1)
    environment: str | dict[str, Any] | None = None
    program_arguments: str | None = None
    append_row_to: str | None = None


class ParallelDataInput(_Spec):
    """A data input: ``{type: uri_folder, path: ./images}``, ``{type: mltable, path: sales.csv}``,
    ``{path: azureml:sales:2}``, ``{path: ${{parent.jobs.prep.outputs.cleaned}}}``."""

    type: Literal["uri_folder", "uri_file", "mltable"] | None = None
    path: str = Field(min_length=1)
    mode: Literal["ro_mount", "download", "mount"] | None = None
    description: str | None = None


class ParallelOutput(_Spec):
    """An output: a folder the job writes (``scores: {}``)."""

    type: Literal["uri_folder"] = "uri_folder"
    mode: Literal["rw_mount", "upload", "mount"] | None = None
    description: str | None = None


class _ParallelFields(_Spec):
    #: each a literal, a ``${{parent...}}`` reference, or a ``ParallelDataInput`` (checked by the builder)
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, ParallelOutput | None] = Field(default_factory=dict)
    input_data: str = Field(min_length=1)
    mini_batch_size: str | int | None = None
    partition_keys: list[str] | None = None
    resources: ParallelResources = Field(default_factory=ParallelResources)
    max_concurrency_per_instance: int | None = Field(None, ge=1)
    mini_batch_error_threshold: int = Field(-1, ge=-1)
    error_threshold: int = Field(-1, ge=-1)
    logging_level: str = "INFO"
    retry_settings: RetrySettings = Field(default_factory=RetrySettings)
    environment_variables: dict[str, _Scalar] = Field(default_factory=dict)
    task: RunFunctionTask


class ParallelJob(_ParallelFields, JobFileHeader):
    """A parallel job file (``type: parallel``), submitted on its own."""

    type: Literal["parallel"] = "parallel"


class ParallelStepSpec(_ParallelFields):
    """One entry of a pipeline file's ``jobs:`` with ``type: parallel``."""

    type: Literal["parallel"] = "parallel"
    description: str | None = None
    compute: str | None = None
    allow_reuse: bool | None = None
    is_deterministic: bool | None = None


# -- reading -------------------------------------------------------------------------------
def validate(doc: _yaml.YamlDocument, data: Any, model: type[BaseModel], loc: tuple[Any, ...] = ()) -> Any:
    """``data`` (at ``loc`` of ``doc``) as ``model``; an unknown field is named with the valid
    ones, and ``task.type`` other than ``run_function`` says what runyard runs."""
    if isinstance(data, dict) and isinstance(data.get("task"), dict):
        kind = data["task"].get("type", "run_function")
        if kind != "run_function":
            raise doc.error([*loc, "task", "type"], f"task type {kind!r} is not supported; runyard runs type: "
                                                    f"run_function (an entry script defining init() and run())")
    misplaced = next((k for k in _TASK_FIELDS if isinstance(data, dict) and k in data), None)
    if misplaced is not None:
        raise doc.error([*loc, misplaced], f"{misplaced} belongs under task (task.{misplaced}), where Azure ML "
                                           f"CLI v2's parallel job has it")
    _yaml.refuse_unknown_fields(doc, data, model, loc)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        raise doc.validation_error(e, prefix=loc, data=data) from e


def load_parallel(doc: _yaml.YamlDocument, workspace: "Workspace | None") -> JobDefinition:
    """The ``ParallelRunStep`` of a parallel job file already read (``load_job_file`` reads it),
    to submit on its own."""
    spec = validate(doc, doc.data, ParallelJob)
    if workspace is None:
        raise doc.error([], "a parallel job reads its data through a workspace: open one to read the file")
    step = ParallelBuilder(doc, (), workspace).build(spec.name or doc.path.stem, spec, compute=spec.compute,
                                                     compute_loc=("compute",), allow_reuse=True)
    return JobDefinition(config=step, experiment_name=spec.experiment_name,
                         display_name=spec.display_name or spec.name, tags=spec.tags)


class ParallelBuilder:
    """Turns one parallel job (at ``loc`` of ``doc``) into a ``ParallelRunStep``; inside a
    pipeline, ``parent`` resolves ``${{parent...}}`` references and ``outputs`` are the
    pipeline's objects for the job's outputs (its readers share them)."""

    def __init__(self, doc: _yaml.YamlDocument, loc: tuple[Any, ...], workspace: "Workspace",
                 parent: Callable[[list[Any], str], Any] | None = None,
                 outputs: dict[str, OutputFileDatasetConfig] | None = None):
        self.doc = doc
        self.loc = loc
        self.workspace = workspace
        self.parent = parent
        self.given_outputs = outputs
        self.base = doc.path.parent.absolute()

    def error(self, loc: tuple[Any, ...] | list[Any], message: str) -> ConfigError:
        return self.doc.error([*self.loc, *loc], message)

    def build(self, name: str, spec: Any, *, compute: str | None, compute_loc: tuple[Any, ...],
              allow_reuse: bool) -> "ParallelRunStep":
        """The job's step; ``compute_loc``: where ``compute`` sits in the file (from its top)."""
        from .parallel_run_config import ParallelRunConfig
        from .parallel_run_step import ParallelRunStep
        task = spec.task
        code = (self.base / Path(task.code).expanduser()).resolve()
        if not code.is_dir():
            raise self.error(["task", "code"], f"folder {task.code!r} does not exist (relative to {self.base})")
        environment = _job_environment(self.doc, task.environment, self.workspace,
                                       loc=(*self.loc, "task", "environment"), default_name=f"{name}-environment")
        inputs = {key: self._input(key, value) for key, value in spec.inputs.items()}
        outputs = self.given_outputs if self.given_outputs is not None else {
            key: self._check(("outputs", key), OutputFileDatasetConfig, key) for key in spec.outputs}
        data_name = self._input_data(spec.input_data, inputs)
        output = None
        if task.append_row_to is not None:
            output = self._named(("task", "append_row_to"), task.append_row_to, "outputs", outputs)
        used: set[tuple[str, str]] = set()
        arguments = self._arguments(task.program_arguments or "", inputs, outputs, used)
        settings = _predefined(arguments, self.error)
        if "error_threshold" in settings and spec.error_threshold not in (-1, settings["error_threshold"]):
            raise self.error(["error_threshold"], f"error_threshold {spec.error_threshold} and --error_threshold "
                                                  f"{settings['error_threshold']} in task.program_arguments "
                                                  f"disagree; give one")
        for key, value in inputs.items():
            if key != data_name and ("inputs", key) not in used:
                raise self.error(["inputs", key], f"the job does not use this input: pass it to the entry script "
                                                  f"in task.program_arguments as ${{{{inputs.{key}}}}}, or make it "
                                                  f"input_data (or remove it)")
        for key, value in outputs.items():
            if value is not output and ("outputs", key) not in used:
                raise self.error(["outputs", key], f"the job does not use this output: name it in "
                                                   f"task.append_row_to or task.program_arguments as "
                                                   f"${{{{outputs.{key}}}}} (or remove it)")
        target = self._target(compute, compute_loc)
        partitioned = inputs[data_name]
        mini_batch_size = spec.mini_batch_size
        if mini_batch_size is None and spec.partition_keys is None and _is_files(partitioned):
            mini_batch_size = 1  # Azure CLI v2's default; a table's stays ParallelRunConfig's "1MB"
        arguments_map = {
            "entry_script": ("task", "entry_script"), "error_threshold": ("error_threshold",),
            "node_count": ("resources", "instance_count"),
            "process_count_per_node": ("max_concurrency_per_instance",), "mini_batch_size": ("mini_batch_size",),
            "logging_level": ("logging_level",), "run_invocation_timeout": ("retry_settings", "timeout"),
            "run_max_try": ("retry_settings", "max_retries"),
            "allowed_failed_count": ("mini_batch_error_threshold",),
            "allowed_failed_percent": ("task", "program_arguments"), "partition_keys": ("partition_keys",),
            "environment_variables": ("environment_variables",), "description": ("description",)}
        try:
            config = ParallelRunConfig(
                environment=environment, entry_script=task.entry_script,
                error_threshold=settings.get("error_threshold", spec.error_threshold),
                output_action="append_row" if output is not None else "summary_only", compute_target=target,
                node_count=spec.resources.instance_count, process_count_per_node=spec.max_concurrency_per_instance,
                mini_batch_size=mini_batch_size, source_directory=str(code), description=spec.description,
                logging_level=spec.logging_level, run_invocation_timeout=spec.retry_settings.timeout,
                run_max_try=spec.retry_settings.max_retries + 1,
                allowed_failed_count=spec.mini_batch_error_threshold,
                allowed_failed_percent=settings.get("allowed_failed_percent"), partition_keys=spec.partition_keys,
                environment_variables={k: _text(v) for k, v in spec.environment_variables.items()})
        except ConfigError as e:
            message = str(e).removeprefix("ParallelRunConfig: ")
            named = re.match(r"(?:give )?([a-z_]+)", message)
            argument = named.group(1) if named else ""
            if argument == "compute_target":  # the job's compute, or the pipeline's default_compute
                raise self.doc.error(list(compute_loc), message) from None
            raise self.error(arguments_map.get(argument, ()), message) from None
        side = [inputs[key] for key in inputs if key != data_name and not _is_literal(inputs[key])]
        try:
            return ParallelRunStep(name, config, inputs=[partitioned], output=output, side_inputs=side,
                                   arguments=arguments, allow_reuse=allow_reuse)
        except ConfigError as e:
            message = re.sub(r"^ParallelRunStep '[^']*': ", "", str(e))
            field = next((f for f in ("partition_keys", "mini_batch_size") if f in message), "input_data")
            raise self.error([field], message) from None

    # -- pieces ----------------------------------------------------------------------------
    def _check(self, loc: tuple[Any, ...], make: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return make(*args, **kwargs)
        except ConfigError as e:
            raise self.error(loc, str(e)) from None

    def _input(self, key: str, value: Any) -> Any:
        """A job input: a dataset (``as_named_input(key)``), an earlier job's output, a
        ``PipelineParameter`` or a literal."""
        loc = ("inputs", key)
        if isinstance(value, list):
            raise self.error(loc, "an input is a value, a reference, or a mapping with 'path' (data) or "
                                  "'type' and 'value' (a literal)")
        if isinstance(value, dict):
            if "path" in value or value.get("type") in _DATA_TYPES:
                return self._data(key, validate(self.doc, value, ParallelDataInput, (*self.loc, *loc)))
            literal = validate(self.doc, value, LiteralInput, (*self.loc, *loc))
            value = literal.value if literal.value is not None else literal.default
            if value is None:
                raise self.error(loc, "give the literal input a value (or a default)")
            return value
        if isinstance(value, str) and "${{" in value:
            return self._parent_reference(loc, value, key)
        return value

    def _parent_reference(self, loc: tuple[Any, ...], text: str, key: str) -> Any:
        match = _REF.fullmatch(text.strip())
        if not match:
            raise self.error(loc, f"{text!r}: a reference must be the whole value")
        if self.parent is None:
            raise self.error(loc, f"{text!r}: ${{{{parent...}}}} references are for a job inside a pipeline file; "
                                  f"here give data as {{path: ...}} and literals as values")
        target = self.parent([*self.loc, *loc], match.group(1))
        return target.output.as_input(key) if isinstance(target, StepInput) else target

    def _data(self, key: str, spec: ParallelDataInput) -> Any:
        from ..data.dataset import Dataset
        loc = ("inputs", key, "path")
        path = spec.path.strip()
        if _REF.fullmatch(path):
            found = self._parent_reference(loc, path, key)
            if not isinstance(found, StepInput):
                raise self.error(loc, f"{path!r} is a value, not data; a path names data")
            if spec.type == "mltable":
                raise self.error(("inputs", key, "type"), "another job's output is read as files here; register "
                                                          "it as a tabular dataset to read it as a table")
            return found
        registered = _DATASET.fullmatch(path)
        if registered:
            try:
                dataset = Dataset.get_by_name(self.workspace, registered["name"],
                                              int(registered["version"]) if registered["version"] else "latest")
            except (ConfigError, NotFoundError) as e:
                raise self.error(loc, str(e)) from None
            if spec.type is not None and _DATA_TYPES[spec.type] != dataset._type:
                raise self.error(("inputs", key, "type"), f"type {spec.type} reads {_DATA_TYPES[spec.type]} data, "
                                                          f"and dataset {registered['name']!r} is a "
                                                          f"{dataset._type} dataset")
        else:
            dataset = self._local_data(loc, path, spec.type or "uri_folder")
        consumed = self._check(loc, dataset.as_named_input, key)
        return consumed.as_mount() if spec.mode in ("ro_mount", "mount") else consumed.as_download()

    def _local_data(self, loc: tuple[Any, ...], path: str, kind: str) -> Any:
        """Files or a table at a path of the file's folder, as an unregistered dataset."""
        from ..data.dataset import Dataset
        target = (self.base / Path(path).expanduser()).resolve()
        if not target.exists():
            raise self.error(loc, f"{path!r} does not exist (relative to {self.base}); a path is a local file or "
                                  f"folder, a registered dataset (azureml:NAME:VERSION) or, in a pipeline, "
                                  f"${{{{parent.jobs.STEP.outputs.NAME}}}}")
        if kind == "uri_file" and not target.is_file():
            raise self.error(loc, f"{path!r} is a folder; type uri_file names one file (use uri_folder)")
        if kind == "uri_folder" and not target.is_dir():
            raise self.error(loc, f"{path!r} is a file; type uri_folder names a folder (use uri_file)")
        if kind != "mltable":
            return self._check(loc, Dataset.File.from_files, str(target))
        tables = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        suffixes = {p.suffix.lower() for p in tables}
        if not tables or not suffixes <= {".csv", ".parquet"} or len(suffixes) > 1:
            raise self.error(loc, f"{path!r}: type mltable reads a CSV or Parquet file, or a folder of files of "
                                  f"one of these kinds (an MLTable file is not read)")
        files = str(target) if target.is_file() else str(target / "**" / f"*{suffixes.pop()}")
        factory = Dataset.Tabular.from_parquet_files if files.endswith(".parquet") else \
            Dataset.Tabular.from_delimited_files
        return self._check(loc, factory, files)

    def _input_data(self, text: str, inputs: dict[str, Any]) -> str:
        match = _REF.fullmatch(text.strip())
        parts = match.group(1).split(".") if match else []
        if len(parts) != 2 or parts[0] != "inputs":
            raise self.error(["input_data"], f"{text!r}: input_data names the input to split into mini batches, "
                                             f"${{{{inputs.NAME}}}}")
        if parts[1] not in inputs:
            raise self.error(["input_data"], f"{text!r}: the job has no input {parts[1]!r} (its inputs: "
                                             f"{', '.join(inputs) or 'none'})")
        if _is_literal(inputs[parts[1]]):
            raise self.error(["input_data"], f"{text!r}: input {parts[1]!r} is a value; input_data is data "
                                             f"(files, a table or another job's output)")
        return parts[1]

    def _named(self, loc: tuple[Any, ...], text: str, kind: str, known: dict[str, Any]) -> Any:
        match = _REF.fullmatch(text.strip())
        parts = match.group(1).split(".") if match else []
        if len(parts) != 2 or parts[0] != kind:
            raise self.error(loc, f"{text!r}: name one of the job's {kind}, ${{{{{kind}.NAME}}}}")
        if parts[1] not in known:
            raise self.error(loc, f"{text!r}: the job has no {kind[:-1]} {parts[1]!r} (its {kind}: "
                                  f"{', '.join(known) or 'none'}); declare it under {kind}")
        return known[parts[1]]

    def _arguments(self, text: str, inputs: dict[str, Any], outputs: dict[str, Any],
                   used: set[tuple[str, str]]) -> list[Any]:
        """``program_arguments`` as words: a reference standing alone is the object it names, one
        glued to other text must be a value (``--alpha=${{inputs.alpha}}``)."""
        loc = ("task", "program_arguments")
        objects: list[Any] = []
        written: list[str] = []  # each reference as the file has it, to show in errors
        for match in _REF.finditer(text):
            parts = match.group(1).split(".")
            if parts[0] in ("inputs", "outputs") and len(parts) == 2:
                obj = self._named(loc, match.group(0), parts[0], inputs if parts[0] == "inputs" else outputs)
                used.add((parts[0], parts[1]))
            elif parts[0] == "parent":
                obj = self._parent_reference(loc, match.group(0), parts[-1])
            else:
                raise self.error(loc, f"{match.group(0)} is no reference runyard knows here; use "
                                      f"${{{{inputs.NAME}}}} or ${{{{outputs.NAME}}}}")
            objects.append(obj)
            written.append(match.group(0))
        marks = iter(range(len(objects)))
        marked = _REF.sub(lambda _: f"\ue000{next(marks)}\ue001", text)
        try:
            words = shlex.split(marked)
        except ValueError as e:
            raise self.error(loc, f"cannot split the arguments into words: {e}") from None
        out: list[Any] = []
        for word in words:
            whole = re.fullmatch("\ue000([0-9]+)\ue001", word)
            if whole:
                out.append(objects[int(whole.group(1))])
                continue

            def value(m: re.Match) -> str:
                obj = objects[int(m.group(1))]
                if not _is_literal(obj) or isinstance(obj, PipelineParameter):
                    shown = re.sub("\ue000([0-9]+)\ue001", lambda m: written[int(m.group(1))], word)
                    raise self.error(loc, f"{shown!r}: a reference to data, an output or a pipeline input must "
                                          f"stand as a word of its own ('--data ${{{{inputs.NAME}}}}')")
                return _text(obj)
            out.append(re.sub("\ue000([0-9]+)\ue001", value, word))
        return out

    def _target(self, compute: str | None, loc: tuple[Any, ...]) -> Any:
        from ..compute import get_target
        name = compute or "local"
        name = name[len("azureml:"):] if name.startswith("azureml:") else name
        if name == "local":
            return "local"
        try:
            return get_target(self.workspace, name)
        except ConfigError as e:
            raise self.doc.error(list(loc), str(e)) from None


def _predefined(arguments: list[Any], error: Callable[..., ConfigError]) -> dict[str, Any]:
    """Azure's predefined program arguments that set a ParallelRunConfig setting; one runyard
    has no counterpart for is refused, naming it."""
    loc = ("task", "program_arguments")
    found: dict[str, Any] = {}
    for index, word in enumerate(arguments):
        if not isinstance(word, str):
            continue
        flag, _, glued = word.partition("=")
        if flag in _PREDEFINED_ELSEWHERE:
            raise error(loc, f"{flag} is one of Azure's predefined arguments that runyard has no counterpart for "
                             f"(its workers report progress as they go and the log stays with the run); remove it. "
                             f"runyard reads --error_threshold and --allowed_failed_percent")
        if flag not in _PREDEFINED:
            continue
        text = glued if glued else (arguments[index + 1] if index + 1 < len(arguments) else None)
        try:
            number = float(text) if flag == "--allowed_failed_percent" else int(text)
        except (TypeError, ValueError):
            raise error(loc, f"{flag} takes a number, got {text!r}") from None
        found[_PREDEFINED[flag]] = int(number) if float(number).is_integer() else number
    return found


def _is_literal(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, PipelineParameter))


def _is_files(item: Any) -> bool:
    from ..data import DatasetConsumptionConfig
    return not isinstance(item, DatasetConsumptionConfig) or item.dataset._type == "file"


def _text(value: Any) -> str:
    return str(value)
