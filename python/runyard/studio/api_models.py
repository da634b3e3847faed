"""The workspace server's request and response bodies: what a client may send, field by field.

Every model forbids unknown fields and is strict about types (a time is a number,
not a string that looks like one), so a request that does not fit is refused with
a 422 naming the field before anything is read or written. The store checks the
same values again (``runyard.store.checks``) for its other callers; these models
are what the OpenAPI schema shows a client.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from .. import ids
from .. import status as st
from ..designer.document import Graph, Problem
from ..pipeline._parallel import table as partition_table
from ..store import checks, metric_series, query

_NO_NUL = r"^[^\x00]*$"

Id = Annotated[str, StringConstraints(pattern=ids.ID_PATTERN)]
AssetName = Annotated[str, StringConstraints(pattern=ids.ASSET_NAME_PATTERN)]
ExperimentName = Annotated[str, StringConstraints(pattern=ids.EXPERIMENT_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=ids.SHA256_PATTERN)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=checks.KEY_LENGTH, pattern=_NO_NUL)]
Text = Annotated[str, StringConstraints(max_length=checks.KEY_LENGTH, pattern=_NO_NUL)]
LongText = Annotated[str, StringConstraints(max_length=checks.ERROR_LENGTH, pattern=_NO_NUL)]
JsonText = Annotated[str, StringConstraints(max_length=checks.DEFINITION_LENGTH, pattern=_NO_NUL)]
Time = Annotated[float, Field(ge=0, lt=1e11, allow_inf_nan=False)]
Int32 = Annotated[int, Field(ge=-2 ** 31, le=2 ** 31 - 1)]
Pid = Annotated[int, Field(ge=1, le=2 ** 22)]
Version = Annotated[int, Field(ge=1, le=2 ** 31 - 1)]
TagValue = Union[Annotated[str, StringConstraints(max_length=checks.VALUE_LENGTH, pattern=_NO_NUL)],
                 bool, int, float, None]
KeyValues = dict[Key, TagValue]

RunType = Literal[tuple(sorted(checks.RUN_TYPES))]  # type: ignore[valid-type]
Status = Literal[tuple(st.ALL)]  # type: ignore[valid-type]
InitialStatus = Literal[tuple(s for s in st.ALL if s in st.INITIAL)]  # type: ignore[valid-type]
TerminalStatus = Literal[tuple(s for s in st.ALL if s in st.TERMINAL)]  # type: ignore[valid-type]
AssetKind = Literal[tuple(sorted(checks.ASSET_KINDS))]  # type: ignore[valid-type]
AssetState = Literal[tuple(sorted(checks.ASSET_STATES))]  # type: ignore[valid-type]
PartitionStatus = Literal[partition_table.STATUSES]  # type: ignore[valid-type]
LineageRole = Literal[tuple(sorted(checks.LINEAGE_ROLES))]  # type: ignore[valid-type]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# -- runs ------------------------------------------------------------------------------
class RunCreate(Body):
    """A new run. The server sets ``created_at`` and ``run_number``; the process fields come
    later from the run's supervisor (``PUT /runs/{id}/process``)."""

    run_id: Id
    experiment: ExperimentName
    parent_id: Optional[Id] = None
    display_name: Optional[Text] = None
    run_type: RunType
    status: InitialStatus
    target: Optional[Text] = None
    definition: Optional[JsonText] = Field(None, description="JSON of the job spec")
    environment_name: Optional[Text] = None
    environment_version: Optional[Annotated[str, StringConstraints(max_length=64, pattern=_NO_NUL)]] = None
    environment_hash: Optional[Sha256] = None
    snapshot_hash: Optional[Sha256] = None
    start_time: Optional[Time] = None
    end_time: Optional[Time] = None
    exit_code: Optional[Int32] = None
    error: Optional[LongText] = None


class CreateRunBody(Body):
    row: RunCreate
    tags: Optional[KeyValues] = None
    properties: Optional[KeyValues] = None


class RunUpdate(Body):
    """The fields of a run a client may change: its display name, and the error a job reports
    (``run.fail()`` inside a job; the supervisor then ends the run Failed)."""

    display_name: Optional[Text] = None
    error: Optional[LongText] = None


class RunUpdateBody(Body):
    fields: RunUpdate


class RunProcessBody(Body):
    """Which process of which machine supervises (or is) the run's job. Only a user's token
    may set it: a job cannot point a client at a process to signal."""

    host: Key
    supervisor_pid: Optional[Pid] = None
    supervisor_started: Optional[Time] = None
    job_pid: Optional[Pid] = None
    job_started: Optional[Time] = None


class StatusBody(Body):
    status: Status
    allow_from_terminal: bool = False
    error: Optional[LongText] = None
    exit_code: Optional[Int32] = None


class EndChildrenBody(Body):
    status: TerminalStatus


class MetricFilterBody(Body):
    name: Key
    op: Literal[query.OPERATORS]  # type: ignore[valid-type]
    value: Annotated[float, Field(allow_inf_nan=False)]


class RunQueryBody(Body):
    """A page of runs (``runyard.store.query``): filters, one sort key (a run column,
    ``metric:<name>``, ``tag:<key>`` or ``property:<key>``), offset and limit, and the metric
    columns whose latest values come back."""

    run_ids: Optional[list[Id]] = Field(None, max_length=query.MAX_LIMIT, description="only these runs (a comparison)")
    experiment: Optional[ExperimentName] = None
    parent_id: Optional[Id] = None
    top_level_only: bool = False
    status: Optional[list[Status]] = Field(None, max_length=len(st.ALL))
    run_type: Optional[RunType] = None
    text: Optional[Text] = Field(None, description="in the run id or display name, any case")
    tags: Optional[KeyValues] = Field(None, max_length=query.MAX_FILTERS,
                                      description="key -> value, or null for any value")
    properties: Optional[KeyValues] = Field(None, max_length=query.MAX_FILTERS)
    metrics: Optional[list[MetricFilterBody]] = Field(None, max_length=query.MAX_FILTERS,
                                                      description="comparisons of a metric's latest value")
    sort: Key = "created_at"
    descending: bool = True
    offset: int = Field(0, ge=0, le=query.MAX_OFFSET)
    limit: int = Field(50, ge=0, le=query.MAX_LIMIT, description="0: the total alone")
    columns: Optional[list[Key]] = Field(None, max_length=query.MAX_COLUMNS,
                                         description="metrics whose latest value each run of the page gets")
    total: bool = Field(True, description="count the runs the filters match; false: total is null and the page "
                                          "comes back without waiting for the count")


class SeriesBody(Body):
    """A scalar metric's series of each run, for a chart (``runyard.store.metric_series``)."""

    run_ids: list[Id] = Field(min_length=1, max_length=metric_series.MAX_RUNS)
    name: Key
    points: int = Field(1000, ge=metric_series.MIN_POINTS, le=metric_series.MAX_POINTS,
                        description="a range longer than this comes back as each bucket's lowest and highest")
    start: int = Field(0, ge=0, le=metric_series.MAX_INDEX, description="the first point (numbered from 0)")
    end: Optional[int] = Field(None, ge=1, le=metric_series.MAX_INDEX, description="the point after the last")


class Series(BaseModel):
    run_id: str
    count: int = Field(description="points in the range")
    downsampled: bool
    i: list[int] = Field(description="each point's number in the series")
    value: list[float]
    step: list[Optional[int]]
    logged_at: list[float]


class MetricName(BaseModel):
    name: str
    kind: str
    count: int = Field(description="rows logged under this name and kind")
    latest: Optional[float] = Field(None, description="a scalar's last value")


class StepInput(BaseModel):
    name: str
    output: str = Field(description="the output it reads")
    step: str = Field(description="the step that writes that output")


class PipelineStep(BaseModel):
    """A step of a pipeline run's definition and where it stands (``runyard.pipeline.progress``)."""

    name: str
    kind: str
    upstream: list[str] = Field(description="the steps it waits for")
    inputs: list[StepInput]
    outputs: list[str]
    target: Optional[str] = None
    status: str = Field(description="its step run's status; NotStarted before the driver starts it")
    run_id: Optional[str] = None
    reused_run_id: Optional[str] = Field(None, description="the run whose outputs it reused (it did not run)")
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    duration_seconds: Optional[float] = None
    error: Optional[str] = None


class LogFile(BaseModel):
    name: str = Field(description="a file of the run's logs/ folder")
    size: int


class LogChunk(BaseModel):
    name: str
    offset: int
    next_offset: int = Field(description="where the next read starts: the text ends with a whole character")
    size: int = Field(description="the log's size when it was read")
    text: str


class RunSummary(BaseModel):
    """A run as stored, but for its definition (a page of runs)."""

    run_id: str
    experiment: str
    parent_id: Optional[str] = None
    run_number: int
    display_name: Optional[str] = None
    run_type: str
    status: str
    target: Optional[str] = None
    environment_name: Optional[str] = None
    environment_version: Optional[str] = None
    environment_hash: Optional[str] = None
    snapshot_hash: Optional[str] = None
    created_at: float
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    exit_code: Optional[int] = None
    error: Optional[str] = None
    host: Optional[str] = None
    supervisor_pid: Optional[int] = None
    supervisor_started: Optional[float] = None
    job_pid: Optional[int] = None
    job_started: Optional[float] = None


class RunRow(RunSummary):
    """A run as stored."""

    definition: Optional[str] = None


class RunPage(BaseModel):
    total: Optional[int] = Field(description="how many runs the filters match (null when not asked for)")
    runs: list[RunSummary] = Field(description="the page, without each run's definition (GET /runs/{id} has it)")
    metrics: dict[str, dict[str, Optional[float]]] = Field(description="run id -> column -> latest value")
    tags: dict[str, dict[str, Optional[str]]] = Field(description="run id -> the run's tags")
    properties: dict[str, dict[str, Optional[str]]] = Field(description="run id -> the run's properties")


class PartitionRow(BaseModel):
    """A mini batch of a ParallelRunStep's run (``runyard.pipeline._parallel.table``); fields a
    later table adds pass through."""

    model_config = ConfigDict(extra="allow")

    batch_id: str
    input: Optional[str] = None
    partition: Optional[dict[str, JsonValue]] = Field(None, description="its partition keys' values")
    status: str
    tries: int = 0
    duration_s: Optional[float] = None
    items: Optional[int] = None
    results: Optional[int] = None
    error: Optional[str] = None
    traceback: Optional[str] = None
    reused_from: Optional[str] = Field(None, description="the earlier run that ran it")
    models: list[str] = Field(default_factory=list, description="ids (NAME:VERSION) of the models it registered")


class PartitionPage(BaseModel):
    counts: dict[str, int] = Field(description="mini batches per status, the whole table")
    total: int = Field(description="mini batches the status filter keeps")
    offset: int
    rows: list[PartitionRow]


class StatusEvent(BaseModel):
    status: str
    time: float


class JobToken(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>'; it ends with the run")


# -- metrics ---------------------------------------------------------------------------
class MetricsBody(Body):
    rows: list[checks.CheckedMetricRow] = Field(max_length=100_000)


class MetricQueryBody(Body):
    run_ids: list[Id] = Field(max_length=10_000)
    name: Optional[Key] = None


class StoredMetric(BaseModel):
    run_id: str
    name: str
    kind: str
    value_num: Optional[float] = None
    value_text: Optional[str] = None
    logged_at: float
    step: Optional[int] = None
    description: Optional[str] = None


# -- tags and properties ---------------------------------------------------------------
class TagsBody(Body):
    tags: KeyValues


class KeysBody(Body):
    keys: list[Key] = Field(max_length=10_000)


class PropertiesBody(Body):
    properties: KeyValues


# -- environments and compute targets --------------------------------------------------
class EnvironmentBody(Body):
    name: Key
    hash: Sha256
    spec: dict[str, JsonValue]


class ComputeTargetBody(Body):
    type: Key
    config: dict[str, JsonValue] = {}


# -- assets, lineage, schedule firings -------------------------------------------------
class AssetBody(Body):
    name: AssetName
    spec: dict[str, JsonValue] = Field(description="in the shape of the asset's kind (runyard.store.asset_specs); "
                                                   "one that does not fit is refused with a 400 naming the field")
    content_hash: Optional[Sha256] = None
    create_new_version: bool = True
    run_id: Optional[Id] = None
    asset_id: Optional[Id] = None
    state: AssetState = "active"


class AssetItem(Body):
    name: AssetName
    spec: dict[str, JsonValue] = Field(description="in the shape of the asset's kind (runyard.store.asset_specs)")
    content_hash: Optional[Sha256] = None
    run_id: Optional[Id] = None


class AssetsBody(Body):
    """Many versions registered at once, all or none (``RunStore.register_assets``)."""

    assets: list[AssetItem] = Field(max_length=1000)


class AssetUpdateBody(Body):
    spec: Optional[dict[str, JsonValue]] = Field(None, description="the whole new spec, in the shape of the "
                                                                   "asset's kind (runyard.store.asset_specs)")
    state: Optional[AssetState] = None


class LineageBody(Body):
    run_id: Id
    role: LineageRole
    kind: AssetKind
    name: AssetName
    version: Version
    label: Optional[Text] = None


class FiringBody(Body):
    slot: Key
    run_id: Optional[Id] = None
    error: Optional[LongText] = None


class PipelineSubmitBody(Body):
    experiment_name: ExperimentName
    pipeline_parameters: dict[Key, JsonValue] = {}
    display_name: Optional[Text] = None
    tags: KeyValues = {}
    pipeline_version: Optional[Key] = None


# -- the designer ------------------------------------------------------------------------
class Drawing(BaseModel):
    """A designer pipeline: its graph (each parameter at the value it runs with), the YAML it
    is saved as, and what stops it from running, per node."""

    name: str
    path: str = Field(description="its folder: runyard pipeline submit -f PATH/pipeline.yml runs it")
    graph: Graph
    problems: list[Problem]
    yaml: str


class DesignerSubmitBody(Body):
    experiment_name: Optional[ExperimentName] = Field(None, description="default: the pipeline's, else its name")
    display_name: Optional[Text] = None
    tags: KeyValues = {}


class DesignerPublishBody(Body):
    name: Optional[Key] = Field(None, description="the published pipeline's name (default: the drawing's)")
    description: Optional[Text] = None
    version: Optional[Key] = None
