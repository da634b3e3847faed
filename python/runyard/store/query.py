"""A page of runs, as a runs table shows it: ``RunStore.query_runs(RunQuery)``.

Filters (run ids, experiment, parent, status, run type, text in the run id or display name, tags,
properties, comparisons of a metric's latest value), one sort key (a run column, a metric's
latest value, a tag or a property: runs that lack it come last either way), a page (offset,
limit) with the total the filters match (``total=False`` leaves the count out: it reads every
matching run, where a page of the newest reads a page's worth; ``limit=0`` asks for the count
alone, so a table can draw its rows first and its count when it comes), the latest values of the metric columns asked for,
and the page's tags and properties (a sweep's trials hold their hyperparameters there). A page's rows leave out the run's definition (the job spec, up to megabytes): ``get_run``
has it. Metric values come from ``latest_metrics`` (schema v5): each scalar metric's last value
per run, kept as rows are logged, so sorting 100,000 runs by a metric reads an index rather
than every metric row.

>>> RunQuery.of(sort="metric:loss", descending=False, limit=20).sort
'metric:loss'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from .. import ids
from .. import status as st
from ..errors import ConfigError
from . import checks
from . import schema as t

#: run columns a page sorts by; ``duration`` is end (or now) minus start
RUN_SORTS = ("created_at", "start_time", "end_time", "duration", "run_number", "status", "display_name",
             "experiment", "run_type", "target")
#: run columns that always have a value (no "missing last" term, so an index serves the order)
NEVER_NULL = ("created_at", "run_number", "status", "experiment", "run_type")
#: sorts by a named value: ``metric:loss``, ``tag:team``, ``property:seed``
NAMED_SORTS = ("metric", "tag", "property")
OPERATORS = ("<", "<=", ">", ">=", "=", "!=")
MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
MAX_COLUMNS = 50
MAX_FILTERS = 20
FIELDS = ("run_ids", "experiment", "parent_id", "top_level_only", "status", "run_type", "text", "tags", "properties",
          "metrics", "sort", "descending", "offset", "limit", "columns", "total")


@dataclass(frozen=True)
class MetricFilter:
    """Runs whose latest value of metric ``name`` compares to ``value`` by ``op``."""

    name: str
    op: str
    value: float


@dataclass(frozen=True)
class RunQuery:
    run_ids: tuple[str, ...] = ()
    experiment: str | None = None
    parent_id: str | None = None
    top_level_only: bool = False
    status: tuple[str, ...] = ()
    run_type: str | None = None
    text: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str | None] = field(default_factory=dict)
    metrics: tuple[MetricFilter, ...] = ()
    sort: str = "created_at"
    descending: bool = True
    offset: int = 0
    limit: int = 50
    columns: tuple[str, ...] = ()
    total: bool = True

    @classmethod
    def of(cls, **fields: Any) -> "RunQuery":
        """A query from plain values (a request's JSON), each checked: a ``ConfigError`` names
        the field that does not fit."""
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise ConfigError(f"{unknown[0]}: not a field of a run query; valid: {', '.join(FIELDS)}")
        out: dict[str, Any] = {}
        if fields.get("run_ids") is not None:
            out["run_ids"] = tuple(dict.fromkeys(
                ids.check_id(r, "run_ids") for r in _listed(fields["run_ids"], "run_ids", MAX_LIMIT)))
        if fields.get("experiment") is not None:
            out["experiment"] = ids.check_experiment_name(fields["experiment"], "experiment")
        if fields.get("parent_id") is not None:
            out["parent_id"] = ids.check_id(fields["parent_id"], "parent_id")
        if fields.get("run_type") is not None:
            out["run_type"] = checks.one_of(fields["run_type"], "run_type", checks.RUN_TYPES)
        if fields.get("text") is not None:
            out["text"] = checks.text(fields["text"], "text")
        for name in ("top_level_only", "descending", "total"):
            if name in fields:
                if not isinstance(fields[name], bool):
                    raise ConfigError(f"{name}: expected true or false, got {type(fields[name]).__name__}")
                out[name] = fields[name]
        if fields.get("status") is not None:
            out["status"] = tuple(checks.one_of(s, "status", st.ALL) for s in _listed(fields["status"], "status"))
        for name in ("tags", "properties"):
            if fields.get(name) is not None:
                values = checks.key_values(fields[name], name)
                if len(values) > MAX_FILTERS:
                    raise ConfigError(f"{name}: at most {MAX_FILTERS} filters, got {len(values)}")
                out[name] = values
        if fields.get("metrics") is not None:
            out["metrics"] = tuple(_metric_filter(f, f"metrics[{i}]")
                                   for i, f in enumerate(_listed(fields["metrics"], "metrics", MAX_FILTERS)))
        if fields.get("sort") is not None:
            out["sort"] = _sort(fields["sort"])
        if fields.get("offset") is not None:
            out["offset"] = checks.integer(fields["offset"], "offset", 0, MAX_OFFSET)
        if fields.get("limit") is not None:
            out["limit"] = checks.integer(fields["limit"], "limit", 0, MAX_LIMIT)
        if fields.get("columns") is not None:
            out["columns"] = tuple(dict.fromkeys(
                checks.text(c, "columns", empty=False) for c in _listed(fields["columns"], "columns", MAX_COLUMNS)))
        return cls(**out)


def _listed(value: Any, name: str, most: int = 100) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{name}: expected a list, got {type(value).__name__}")
    if len(value) > most:
        raise ConfigError(f"{name}: at most {most} items, got {len(value)}")
    return list(value)


def _metric_filter(value: Any, where: str) -> MetricFilter:
    if isinstance(value, MetricFilter):
        value = {"name": value.name, "op": value.op, "value": value.value}
    if not isinstance(value, dict) or set(value) != {"name", "op", "value"}:
        raise ConfigError(f"{where}: expected {{'name': ..., 'op': ..., 'value': ...}}, got {value!r:.200}")
    number = value["value"]
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        raise ConfigError(f"{where}.value: expected a finite number, got {number!r:.100}")
    return MetricFilter(checks.text(value["name"], f"{where}.name", empty=False),
                        checks.one_of(value["op"], f"{where}.op", OPERATORS), float(number))


def _sort(value: Any) -> str:
    checks.text(value, "sort", empty=False)
    kind, colon, name = value.partition(":")
    if colon:
        if kind not in NAMED_SORTS or not name:
            raise ConfigError(f"sort: {value!r} is not a sort key; valid: {', '.join(RUN_SORTS)}, or "
                              f"metric:<name>, tag:<key>, property:<key>")
        return value
    return checks.one_of(value, "sort", RUN_SORTS)


def _conditions(query: RunQuery) -> list[Any]:
    """The filters, as conditions on ``runs``."""
    runs = t.runs
    conditions = []
    if query.run_ids:
        conditions.append(runs.c.run_id.in_(query.run_ids))
    if query.experiment is not None:
        conditions.append(runs.c.experiment == query.experiment)
    if query.parent_id is not None:
        conditions.append(runs.c.parent_id == query.parent_id)
    elif query.top_level_only:
        conditions.append(runs.c.parent_id.is_(None))
    if query.status:
        conditions.append(runs.c.status.in_(query.status))
    if query.run_type is not None:
        conditions.append(runs.c.run_type == query.run_type)
    if query.text:
        pattern = "%" + query.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(sa.or_(sa.func.lower(runs.c.run_id).like(pattern, escape="\\"),
                                 sa.func.lower(sa.func.coalesce(runs.c.display_name, "")).like(pattern, escape="\\")))
    # each named filter as EXISTS on the run's own row of it (a primary-key lookup): a page of
    # the newest runs stops after its limit's worth of matches, where IN (...) built the list
    # of every matching run first
    for key, value in query.tags.items():
        conditions.append(_has(t.tags, t.tags.c.key == key, *([t.tags.c.value == value] if value is not None else [])))
    for key, value in query.properties.items():
        conditions.append(_has(t.properties, t.properties.c.key == sa.bindparam(None, key, literal_execute=True),
                               t.properties.c.value == value))
    for f in query.metrics:
        latest = t.latest_metrics
        compared = {"<": latest.c.value_num < f.value, "<=": latest.c.value_num <= f.value,
                    ">": latest.c.value_num > f.value, ">=": latest.c.value_num >= f.value,
                    "=": latest.c.value_num == f.value, "!=": latest.c.value_num != f.value}[f.op]
        conditions.append(_has(latest, latest.c.name == f.name, compared))
    return conditions


def _ties(query: RunQuery, key: Any) -> list[Any]:
    """Ties broken by creation, in the sort's direction (so a page by creation is read off an
    index, ix_runs_*_order, rather than sorted)."""
    runs = t.runs
    return [c.desc() if query.descending else c.asc() for c in (runs.c.created_at, runs.c.run_number, runs.c.run_id)
            if c is not key]


#: a page by a metric within this many runs of the top is read in two parts (``by_metric``)
SPLIT_WITHIN = 5000


def by_metric(query: RunQuery) -> tuple[Any, Any] | None:
    """A page sorted by a metric as two statements, for pages near the top (offset + limit
    within SPLIT_WITHIN): (the runs that have the metric, read off ix_latest_metrics_value in
    the sort's order; those without it, by creation). Reading the first part's page stops after
    the page, where one statement sorting every run by "missing last, then value" sorted them
    all (80 ms at 100,000 runs, against about 2). The caller pages through the first and goes
    on into the second where the first runs out (``SqlStore.query_runs``). None when the query
    is not sorted by a metric or reaches deeper."""
    kind, _, name = query.sort.partition(":")
    if kind != "metric" or query.offset + query.limit > SPLIT_WITHIN or not query.limit:
        return None
    runs, latest = t.runs, t.latest_metrics.alias("sort_metric")
    columns = [c for c in runs.c if c.name != "definition"]
    conditions = _conditions(query)
    value = latest.c.value_num
    having = (sa.select(*columns).join(latest, sa.and_(latest.c.run_id == runs.c.run_id, latest.c.name == name))
              .where(*conditions, value.is_not(None))
              .order_by(value.desc() if query.descending else value.asc(), *_ties(query, None)))
    lacking = (sa.select(*columns).where(*conditions, ~_has(t.latest_metrics, t.latest_metrics.c.name == name,
                                                            t.latest_metrics.c.value_num.is_not(None)))
               .order_by(*_ties(query, None)))
    return having, lacking


def statements(query: RunQuery, now: float) -> tuple[Any, Any]:
    """(the count of runs the filters match, the page of them) as SQLAlchemy statements."""
    runs = t.runs
    conditions = _conditions(query)
    count = sa.select(sa.func.count()).select_from(runs).where(*conditions)

    page = sa.select(*(c for c in runs.c if c.name != "definition")).where(*conditions)
    kind, _, name = query.sort.partition(":")
    if kind == "metric":
        joined = t.latest_metrics.alias("sort_metric")
        page = page.outerjoin(joined, sa.and_(joined.c.run_id == runs.c.run_id, joined.c.name == name))
        key = joined.c.value_num
    elif kind in ("tag", "property"):
        table = (t.tags if kind == "tag" else t.properties).alias("sort_value")
        page = page.outerjoin(table, sa.and_(table.c.run_id == runs.c.run_id, table.c.key == name))
        key = table.c.value
    elif kind == "duration":
        key = sa.func.coalesce(runs.c.end_time, now) - runs.c.start_time
    else:
        key = runs.c[kind]
    # those without a value last, whichever the direction; then ties (_ties)
    order = ([] if kind in NEVER_NULL else [key.is_(None)]) + [key.desc() if query.descending else key.asc()]
    page = page.order_by(*order, *_ties(query, key))
    return count, page.offset(query.offset).limit(query.limit)


def _has(table: sa.Table, *where: Any) -> Any:
    """The run has a row in ``table`` (keyed by run id) where ``where`` holds."""
    return sa.exists().where(table.c.run_id == t.runs.c.run_id, *where)


def key_values(conn: sa.Connection, table: sa.Table, run_ids: list[str]) -> dict[str, dict[str, str | None]]:
    """Each run's tags or properties (runs without any: absent)."""
    out: dict[str, dict[str, str | None]] = {}
    if run_ids:
        for run_id, key, value in conn.execute(sa.select(table.c.run_id, table.c.key, table.c.value)
                                               .where(table.c.run_id.in_(run_ids)).order_by(table.c.key)):
            out.setdefault(run_id, {})[key] = value
    return out


def latest_values(conn: sa.Connection, run_ids: list[str], names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Each run's latest value of each metric named (runs without any: absent)."""
    out: dict[str, dict[str, float]] = {}
    if not run_ids or not names:
        return out
    latest = t.latest_metrics
    rows = conn.execute(sa.select(latest.c.run_id, latest.c.name, latest.c.value_num)
                        .where(latest.c.run_id.in_(run_ids), latest.c.name.in_(names)))
    for run_id, name, value in rows:
        out.setdefault(run_id, {})[name] = value
    return out
