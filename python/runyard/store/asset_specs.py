"""The shape of each asset kind's spec: what runyard itself writes, and what its readers index.

To the store a spec is JSON, but every kind has readers that index it: ``Dataset``,
``Datastore``, ``Model``, ``PublishedPipeline``, ``PipelineEndpoint``, ``Schedule``, the
scheduler and a pipeline's driver (which runs a published pipeline's definition). The
store checks each spec against its kind's model before it is written (``check_spec``),
so no client can store one those readers would crash on, and a reader of a row stored
before this check existed calls ``check_stored`` to get a ``ConfigError`` naming the
asset instead of a ``KeyError``.

The rules of the models: a key runyard always writes and a reader indexes
(``spec["x"]``) is required; one a reader gets with ``spec.get("x")`` may be left out.
Types are strict (JSON's: a number is no string that looks like one, ``null`` only
where runyard writes it). A mapping runyard fills in one place forbids other keys;
those that grow with the engine (a pipeline's definition, its steps, their jobs, a
tabular format's options) allow them. Paths that become file names (a dataset's files, a model's name, a
step's inputs and outputs) stay inside their folder. What is checked is the spec as
stored (after a JSON round trip), and the stored spec is the one given, unchanged.

>>> check_spec("pipeline_endpoint", {"default_version": "0",
...                                  "pipelines": [{"version": "0", "pipeline_id": 7}]})
Traceback (most recent call last):
...
runyard.errors.ConfigError: spec of a pipeline_endpoint: field 'pipelines.0.pipeline_id': Input should be a valid string (got 7)
"""

from __future__ import annotations

import functools
import json
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (AfterValidator, BaseModel, ConfigDict, Discriminator, Field, JsonValue, StringConstraints, Tag,
                      TypeAdapter, ValidationError, model_validator)

from .. import _yaml, ids
from ..errors import ConfigError


class _Closed(BaseModel):
    """A mapping runyard fills in one place: other keys are refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


class _Open(BaseModel):
    """A mapping that grows with the pipeline engine: other keys are kept as they are."""

    model_config = ConfigDict(strict=True, extra="allow")


# -- values ----------------------------------------------------------------------------
def _absolute(value: str) -> str:
    if not PurePosixPath(value).is_absolute():
        raise ValueError("expected an absolute path")
    return value


def _inside(value: str) -> str:
    """A relative path that stays in its folder (no '..', not absolute, not empty)."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or path.as_posix() == ".":
        raise ValueError("expected a relative path inside its folder (no '..')")
    return value


def _one_name(value: str) -> str:
    """One file or folder name: no '/', not '.' or '..'."""
    if "/" in value or "\\" in value or value in ("", ".", ".."):
        raise ValueError("expected one file or folder name (no '/', not '.' or '..')")
    return value


Text = Annotated[str, StringConstraints(min_length=1)]
Id = Annotated[str, StringConstraints(pattern=ids.ID_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=ids.SHA256_PATTERN)]
ExperimentName = Annotated[str, StringConstraints(pattern=ids.EXPERIMENT_PATTERN)]
#: a pipeline's parameter, input and output names, and a run's dataset input names
DataName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
AbsolutePath = Annotated[str, AfterValidator(_absolute)]
InsidePath = Annotated[str, AfterValidator(_inside)]
Url = Annotated[str, StringConstraints(pattern=r"^[^/]+://")]
Count = Annotated[int, Field(ge=0)]
Time = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: a pipeline parameter's value (``PipelineParameter``: text, a whole number, a number, a bool)
Scalar = Union[bool, int, Annotated[float, Field(allow_inf_nan=False)], str]
#: stored tags: text values (a model's may be null)
Tags = dict[str, str]


# -- datasets: sources, files, formats (runyard.data.sources, runyard.data.tabular) ------
class LocalSource(_Closed):
    kind: Literal["local"]
    base: AbsolutePath
    pattern: Optional[Text] = None
    datastore: Optional[str] = None
    path: Optional[str] = None


class FsspecSource(_Closed):
    kind: Literal["fsspec"]
    base: Url
    pattern: Optional[Text] = None
    datastore: Optional[str] = None
    storage_options: Optional[dict[str, JsonValue]] = None
    path: Optional[str] = None


class RunSource(_Closed):
    kind: Literal["run"]
    run_id: Id
    base: InsidePath
    pattern: Optional[Text] = None
    datastore: Optional[str] = None
    path: Optional[str] = None


Source = Annotated[Union[LocalSource, FsspecSource, RunSource], Field(discriminator="kind")]


class ListedFile(_Closed):
    """A file as ``sources.resolve`` lists it: its path in the dataset, the index of its
    source, its size; ``mtime_ns`` for a file on this machine, ``sha256`` once hashed
    (each absent, never null)."""

    path: InsidePath
    source: Count
    size: Count
    mtime_ns: int = Field(None, description="absent for an fsspec file")
    sha256: Sha256 = Field(None, description="absent until the file is hashed")


class RegisteredFile(ListedFile):
    """A file of a registered version: always hashed."""

    sha256: Sha256


class _FormatOptions(_Open):
    """Options a tabular format gained over time: a format stored before one existed has
    none of it (its readers take the old behaviour), and later ones may add more."""

    include_path: bool = False
    set_column_types: Optional[dict[str, dict[str, JsonValue]]] = None
    partition_format: Optional[str] = None


class DelimitedFormat(_FormatOptions):
    kind: Literal["delimited"]
    separator: Annotated[str, StringConstraints(min_length=1, max_length=1)]
    header: bool
    encoding: Text
    infer_column_types: bool = True
    support_multi_line: bool = True
    empty_as_string: bool = False


class ParquetFormat(_FormatOptions):
    kind: Literal["parquet"]


Format = Annotated[Union[DelimitedFormat, ParquetFormat], Field(discriminator="kind")]


def _files_of_sources(files: list[ListedFile], sources: list[Any], field: str = "files") -> None:
    for index, item in enumerate(files):
        if item.source >= len(sources):
            raise ValueError(f"{field}.{index}.source is {item.source}, but there are {len(sources)} source(s)")


def _format_of_type(type_: str, format_: Any) -> None:
    if (type_ == "tabular") != (format_ is not None):
        raise ValueError(f"a {type_} dataset has {'a' if type_ == 'tabular' else 'no'} format "
                         f"(got {'none' if format_ is None else format_.kind})")


class DatasetSpec(_Closed):
    """``Dataset.register``: a version's files where they are, and how to read them."""

    type: Literal["file", "tabular"]
    format: Optional[Format] = None
    sources: list[Source] = Field(min_length=1)
    files: list[RegisteredFile]
    content_hash: Optional[Sha256] = None
    description: Optional[str] = None
    tags: Optional[Tags] = None

    @model_validator(mode="after")
    def _consistent(self) -> "DatasetSpec":
        _format_of_type(self.type, self.format)
        _files_of_sources(self.files, self.sources)
        return self


# -- datastores (runyard.data.datastore) -----------------------------------------------
class LocalDatastoreSpec(_Closed):
    type: Literal["local"]
    path: AbsolutePath


class FsspecDatastoreSpec(_Closed):
    type: Literal["fsspec"]
    url: Url
    storage_options: Optional[dict[str, JsonValue]] = None


DatastoreSpec = Annotated[Union[LocalDatastoreSpec, FsspecDatastoreSpec], Field(discriminator="type")]


# -- models (runyard.model) ------------------------------------------------------------
class DatasetReference(_Closed):
    scenario: Text
    name: Text
    version: Annotated[int, Field(ge=1)]


class ResourceConfiguration(_Closed):
    cpu: JsonValue = None
    memory_in_gb: JsonValue = None
    gpu: JsonValue = None


class ModelSpec(_Closed):
    """``Model.register`` (files under the version's own id) and ``run.register_model`` (the
    run's files): ``files`` are names in the ``holder``'s files, each ``prefix`` or under it,
    laid out by ``download`` as ``path`` plus what follows ``prefix``."""

    path: Annotated[str, AfterValidator(_one_name)]
    folder: bool = False
    holder: Id
    prefix: InsidePath
    files: list[InsidePath] = Field(min_length=1)
    #: each file's sha256 when the version was registered (absent in a version registered
    #: before runyard recorded them): ``download`` refuses bytes that hash otherwise
    sha256: Optional[dict[str, Sha256]] = None
    tags: Optional[dict[str, Optional[str]]] = None
    properties: Optional[dict[str, Optional[str]]] = None
    description: Optional[str] = None
    datasets: Optional[list[DatasetReference]] = None
    framework: Optional[str] = None
    framework_version: Optional[str] = None
    resource_configuration: Optional[ResourceConfiguration] = None
    experiment_name: Optional[str] = None

    @model_validator(mode="after")
    def _files_under_prefix(self) -> "ModelSpec":
        for index, name in enumerate(self.files):
            if name != self.prefix and not name.startswith(self.prefix + "/"):
                raise ValueError(f"files.{index} {name!r} is not prefix {self.prefix!r} or a file under it")
        if self.sha256 is not None and set(self.sha256) != set(self.files):
            raise ValueError("sha256 must name each of files, and nothing else")
        return self


# -- published pipelines (runyard.pipeline.pipeline._definition, runyard.pipeline._driver) --
class TextToken(_Closed):
    text: str


class ParameterToken(_Closed):
    parameter: DataName


class InputToken(_Closed):
    input: DataName


class OutputToken(_Closed):
    output: DataName


#: a ParallelRunStep's ``--settings`` (``pipeline/parallel_run_config.py``): its JSON object,
#: and the settings pipeline parameters give (setting -> parameter name)
ParameterSetting = Literal["mini_batch_size", "error_threshold", "run_invocation_timeout", "run_max_try",
                           "process_count_per_node", "node_count", "logging_level", "allowed_failed_count",
                           "allowed_failed_percent"]


class SettingsToken(_Closed):
    settings: dict[str, Any]
    parameters: Optional[dict[ParameterSetting, DataName]] = None


_TOKEN_KEYS = ("text", "parameter", "input", "output", "settings")


def _token_kind(value: Any) -> str | None:
    """Which token ``value`` is, by its key (the tag is no key, so error paths skip it)."""
    if isinstance(value, dict):
        return next((f"{key} token" for key in _TOKEN_KEYS if key in value), None)
    return None


#: an argument as the driver fills it in: text, a parameter's value, an input's or output's path
Token = Annotated[Union[Annotated[TextToken, Tag("text token")], Annotated[ParameterToken, Tag("parameter token")],
                        Annotated[InputToken, Tag("input token")], Annotated[OutputToken, Tag("output token")],
                        Annotated[SettingsToken, Tag("settings token")]],
                  Discriminator(_token_kind, custom_error_type="token",
                                custom_error_message='expected {"text": ...}, {"parameter": ...}, {"input": ...}, '
                                                     '{"output": ...} or {"settings": ...}')]


class StepInput(_Closed):
    name: DataName
    output: DataName
    step: Text


class InputDataset(_Closed):
    """The dataset of a job's dataset input (``runyard.data.consumption.job_input``)."""

    id: Optional[Id] = None
    name: Optional[str] = None
    version: Optional[Annotated[int, Field(ge=1)]] = None
    type: Literal["file", "tabular"]
    format: Optional[Format] = None
    sources: list[Source] = Field(min_length=1)
    files: list[ListedFile]
    content_hash: Optional[Sha256] = None

    @model_validator(mode="after")
    def _consistent(self) -> "InputDataset":
        _format_of_type(self.type, self.format)
        _files_of_sources(self.files, self.sources)
        return self


class DatasetInput(_Closed):
    name: DataName
    mode: Literal["direct", "download", "mount"]
    folder: InsidePath
    argument: InsidePath
    dataset: InputDataset


class OutputRegistration(_Closed):
    """``register_on_complete``: the dataset a step's output becomes."""

    output: DataName
    name: Annotated[str, StringConstraints(pattern=ids.ASSET_NAME_PATTERN)]
    description: Optional[str] = None
    tags: Optional[Tags] = None
    format: Optional[Format] = None


class OutputDestination(_Closed):
    output: DataName
    datastore: Id
    path: InsidePath


class StepJob(_Open):
    """What the driver submits for a step."""

    source_directory: Optional[str] = None
    snapshot_hash: Optional[Sha256]
    script: Optional[str]
    command: Union[str, list[Token], None]
    arguments: list[Token]
    environment: Optional[dict[str, JsonValue]]
    environment_hash: str
    target: Text
    target_type: str
    environment_variables: dict[str, str]
    max_run_duration_seconds: Optional[Annotated[int, Field(gt=0)]]
    distributed: Optional[dict[str, JsonValue]]
    max_retries: Count
    resources: dict[str, JsonValue]


class PipelineStep(_Open):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"\S")]
    kind: Text
    allow_reuse: bool
    upstream: list[str]
    inputs: list[StepInput]
    outputs: list[DataName]
    datasets: list[DatasetInput] = []
    register_: list[OutputRegistration] = Field([], alias="register")  # BaseModel has a .register
    destinations: list[OutputDestination] = []
    job: StepJob

    @model_validator(mode="after")
    def _names_known(self) -> "PipelineStep":
        for item in self.inputs:
            if item.step not in self.upstream:
                raise ValueError(f"input {item.name!r} reads step {item.step!r}, which is not in upstream")
        outputs = set(self.outputs)
        for field, entries in (("register", self.register_), ("destinations", self.destinations)):
            for entry in entries:
                if entry.output not in outputs:
                    raise ValueError(f"{field}: output {entry.output!r} is not an output of the step")
        readable = {i.name for i in self.inputs} | {d.name for d in self.datasets if d.mode != "direct"}
        command = self.job.command if isinstance(self.job.command, list) else []
        for token in [*self.job.arguments, *command]:
            if isinstance(token, InputToken) and token.input not in readable:
                raise ValueError(f"an argument reads input {token.input!r}, which the step does not have")
            if isinstance(token, OutputToken) and token.output not in outputs:
                raise ValueError(f"an argument writes output {token.output!r}, which the step does not have")
        return self

    def parameter_names(self) -> list[str]:
        command = self.job.command if isinstance(self.job.command, list) else []
        return [*(t.parameter for t in [*self.job.arguments, *command] if isinstance(t, ParameterToken)),
                *(name for t in command if isinstance(t, SettingsToken) for name in (t.parameters or {}).values())]


class PipelineDefinition(_Open):
    """What the driver runs: steps in an order where each comes after its upstream steps."""

    description: Optional[str] = None
    max_concurrent_steps: Annotated[int, Field(ge=1)]
    parameters: dict[DataName, Scalar]
    steps: list[PipelineStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps_in_order(self) -> "PipelineDefinition":
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                raise ValueError(f"two steps are named {step.name!r}")
            later = [u for u in step.upstream if u not in seen]
            if later:  # the driver would wait for it forever
                raise ValueError(f"step {step.name!r} waits for {later[0]!r}, which is no step before it")
            unknown = [p for p in step.parameter_names() if p not in self.parameters]
            if unknown:
                raise ValueError(f"step {step.name!r} takes parameter {unknown[0]!r}, which is not in parameters")
            seen.add(step.name)
        return self


class PublishedPipelineSpec(_Closed):
    """``pipeline.publish``: the definition with its sources snapshotted."""

    definition: PipelineDefinition
    description: Optional[str] = None
    version: Optional[str] = None
    parameter_types: Optional[dict[DataName, Literal["str", "int", "float", "bool"]]] = None


# -- pipeline endpoints (runyard.pipeline.published) -----------------------------------
EndpointVersion = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,17})$")]


class EndpointPipeline(_Closed):
    version: EndpointVersion
    pipeline_id: Id


class PipelineEndpointSpec(_Closed):
    description: Optional[str] = None
    default_version: EndpointVersion
    pipelines: list[EndpointPipeline] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_is_a_version(self) -> "PipelineEndpointSpec":
        versions = [p.version for p in self.pipelines]
        if len(set(versions)) != len(versions):
            raise ValueError(f"pipelines: a version is listed twice ({versions})")
        if self.default_version not in versions:
            raise ValueError(f"default_version {self.default_version!r} is not one of the versions {versions}")
        return self


# -- schedules (runyard.pipeline.schedule, runyard.pipeline.scheduler) ------------------
class Recurrence(_Closed):
    """``ScheduleRecurrence.to_dict()``; it must also be one ``ScheduleRecurrence.from_dict``
    accepts (a known time zone, hours only with 'Day' or 'Week', ...)."""

    frequency: Literal["Minute", "Hour", "Day", "Week", "Month"]
    interval: Annotated[int, Field(ge=1)]
    start_time: Optional[str] = None
    time_zone: Optional[Text] = None
    hours: Optional[list[int]] = None
    minutes: Optional[list[int]] = None
    week_days: Optional[list[str]] = None
    time_of_day: Optional[str] = None

    @model_validator(mode="after")
    def _a_recurrence(self) -> "Recurrence":
        from ..pipeline.recurrence import ScheduleRecurrence
        try:
            ScheduleRecurrence.from_dict(self.model_dump())
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return self


class ScheduleSpec(_Closed):
    """A schedule fires a published pipeline (or an endpoint's default) on a recurrence, or
    when files change in a watched folder (``datastore_path``/``path_on_datastore``, polled
    every ``polling_interval`` minutes, compared with the manifest ``manifest_id``)."""

    description: Optional[str]
    pipeline_id: Optional[Id]
    pipeline_endpoint_id: Optional[Id]
    experiment_name: ExperimentName
    pipeline_parameters: dict[DataName, Scalar]
    continue_on_step_failure: Optional[bool]
    recurrence: Optional[Recurrence]
    datastore_name: Optional[str]
    datastore_path: Optional[AbsolutePath]
    path_on_datastore: Optional[InsidePath]
    polling_interval: Optional[Annotated[float, Field(gt=0, allow_inf_nan=False)]]
    data_path_parameter_name: Optional[DataName]
    manifest_id: Optional[Id]
    created_at: Time
    active_since: Time

    @model_validator(mode="after")
    def _one_target_one_trigger(self) -> "ScheduleSpec":
        if (self.pipeline_id is None) == (self.pipeline_endpoint_id is None):
            raise ValueError("a schedule has a pipeline_id or a pipeline_endpoint_id, one of them")
        watching = {"datastore_path": self.datastore_path, "polling_interval": self.polling_interval,
                    "manifest_id": self.manifest_id}
        if self.recurrence is None:
            missing = [field for field, value in watching.items() if value is None]
            if missing:
                raise ValueError(f"a schedule without a recurrence watches a folder: {', '.join(missing)} "
                                 f"must be set")
        else:
            given = [field for field, value in {**watching, "datastore_name": self.datastore_name,
                                                "path_on_datastore": self.path_on_datastore,
                                                "data_path_parameter_name": self.data_path_parameter_name}.items()
                     if value is not None]
            if given:
                raise ValueError(f"a schedule with a recurrence watches no folder: {', '.join(given)} must be null")
        return self


class ScheduleManifestSpec(_Closed):
    """A watched folder's files at the last poll: relative path -> [size, mtime_ns]."""

    files: dict[InsidePath, Annotated[list[int], Field(min_length=2, max_length=2)]]


#: each kind's model; ``checks.ASSET_KINDS`` names the same kinds
SPECS: dict[str, Any] = {
    "dataset": DatasetSpec,
    "datastore": DatastoreSpec,
    "model": ModelSpec,
    "published_pipeline": PublishedPipelineSpec,
    "pipeline_endpoint": PipelineEndpointSpec,
    "schedule": ScheduleSpec,
    "schedule_manifest": ScheduleManifestSpec,
}


@functools.cache
def _adapter(kind: str) -> TypeAdapter:
    return TypeAdapter(SPECS[kind])


def check_spec(kind: str, spec: Any) -> None:
    """Refuse a spec that does not fit ``kind`` with a ``ConfigError`` naming the kind and
    each field path that is wrong; the spec is checked as it will be stored (JSON).

    >>> check_spec("datastore", {"type": "local", "path": "/data/raw"})
    >>> check_spec("datastore", {"type": "local", "path": "raw"})
    Traceback (most recent call last):
    ...
    runyard.errors.ConfigError: spec of a datastore: field 'path': Value error, expected an absolute path (got 'raw')
    """
    if kind not in SPECS:
        raise ConfigError(f"kind: {kind!r} is not one of: {', '.join(sorted(SPECS))}")
    try:
        stored = json.loads(json.dumps(spec, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ConfigError(f"spec of a {kind}: not JSON ({e})") from e
    problem = _problem(kind, stored, f"spec of a {kind}")
    if problem is not None:
        raise ConfigError(problem)


def check_stored(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (an asset as a store returns it) if its spec fits its kind; else a ``ConfigError``
    naming the asset and what is wrong: a row stored before the store checked specs.

    >>> Schedule(ws, check_stored(row))  # doctest: +SKIP
    """
    kind = row.get("kind")
    what = f"{kind} {row.get('name')!r} version {row.get('version')} (id {row.get('id')})"
    if kind not in SPECS:
        raise ConfigError(f"{what}: {kind!r} is no kind of asset runyard knows")
    problem = _problem(kind, row.get("spec"), f"{what}: its stored spec does not fit a {kind}'s, so runyard cannot "
                                             f"use it (it was stored without the checks runyard makes now; store "
                                             f"it again through runyard)")
    if problem is not None:
        raise ConfigError(problem)
    return row


def _problem(kind: str, data: Any, what: str) -> str | None:
    try:
        _adapter(kind).validate_python(data)
    except ValidationError as e:
        return _yaml.validation_message(e, what, data)
    return None


__all__ = ["SPECS", "check_spec", "check_stored"]
