"""A scalar metric's series as a chart draws it: ``RunStore.metric_series``.

A series is a run's rows of one scalar metric in logging order; its points are numbered from
0 (``i``). A range of them (``start`` to ``end``, a chart's zoom) comes back whole when it
holds at most ``points`` rows; a longer one is cut into ``points // 2`` buckets of consecutive
rows, and of each bucket its lowest and its highest row are kept (the first of equal ones),
so no minimum or maximum is lost and a spike stays a spike. Zooming in asks for a narrower
range and gets its rows at full resolution once they fit. The database does the bucketing
(window functions, on SQLite and PostgreSQL alike): the rows never travel to Python.

>>> check(["run_1"], "loss", points=500, start=0, end=None)
(['run_1'], 'loss', 500, 0, None)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .. import ids
from ..errors import ConfigError
from . import checks
from . import schema as t

MAX_RUNS = 100
MIN_POINTS, MAX_POINTS = 4, 10_000
MAX_INDEX = 2 ** 62


def check(run_ids: Any, name: Any, *, points: Any, start: Any, end: Any) -> tuple[list[str], str, int, int, int | None]:
    """The arguments, checked: a ``ConfigError`` names the one that does not fit."""
    if not isinstance(run_ids, (list, tuple)) or not 1 <= len(run_ids) <= MAX_RUNS:
        raise ConfigError(f"run_ids: expected a list of 1 to {MAX_RUNS} run ids")
    run_ids = list(dict.fromkeys(ids.check_id(r, "run_ids") for r in run_ids))
    checks.text(name, "name", empty=False)
    checks.integer(points, "points", MIN_POINTS, MAX_POINTS)
    checks.integer(start, "start", 0, MAX_INDEX)
    if end is not None:
        checks.integer(end, "end", 0, MAX_INDEX)
        if end <= start:
            raise ConfigError(f"end: {end} is not after start ({start})")
    return run_ids, name, points, start, end


def statement(run_id: str, name: str, points: int, start: int, end: int | None) -> Any:
    """The kept rows of one run's range: ``i``, ``value``, ``step``, ``logged_at`` and ``count``
    (the rows in the range), in order."""
    m = t.metrics
    numbered = (sa.select(m.c.value_num.label("value"), m.c.step, m.c.logged_at,
                          (sa.func.row_number().over(order_by=m.c.id) - 1).label("i"))
                .where(m.c.run_id == run_id, m.c.name == name, m.c.kind == "scalar", m.c.value_num.is_not(None))
                .subquery("numbered"))
    in_range = [numbered.c.i >= start] + ([numbered.c.i < end] if end is not None else [])
    counted = (sa.select(numbered, sa.func.count().over().label("count"), sa.func.min(numbered.c.i).over()
                         .label("first")).where(*in_range).subquery("counted"))
    buckets = max(1, points // 2)
    # bucket 0 .. buckets - 1 by position in the range (floor division on both databases)
    bucket = ((counted.c.i - counted.c.first) * buckets // counted.c.count).label("bucket")
    ranked = sa.select(
        counted,
        sa.func.row_number().over(partition_by=bucket, order_by=(counted.c.value, counted.c.i)).label("low"),
        sa.func.row_number().over(partition_by=bucket, order_by=(counted.c.value.desc(), counted.c.i)).label("high"),
    ).subquery("ranked")
    return (sa.select(ranked.c.i, ranked.c.value, ranked.c.step, ranked.c.logged_at, ranked.c.count)
            .where(sa.or_(ranked.c.count <= points, ranked.c.low == 1, ranked.c.high == 1))
            .order_by(ranked.c.i))


def collect(rows: Any, run_id: str, points: int) -> dict[str, Any]:
    """One run's answer from ``statement``'s rows."""
    series: dict[str, Any] = {"run_id": run_id, "count": 0, "downsampled": False, "i": [], "value": [],
                              "step": [], "logged_at": []}
    for row in rows:
        series["count"] = row.count
        for key in ("i", "value", "step", "logged_at"):
            series[key].append(getattr(row, key))
    series["downsampled"] = series["count"] > points
    return series
