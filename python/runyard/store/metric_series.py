"""A scalar metric's series as a chart draws it: ``RunStore.metric_series``.

A series is a run's numeric scalar rows of one name in logging order; its points are numbered
from 0 (``i``, stored as ``metrics.seq``). A range of them (``start`` to ``end``, a chart's
zoom) comes back whole when it holds at most ``points`` rows. A longer one is cut into buckets
of ``width`` consecutive points on a fixed grid (bucket ``k`` holds the points ``k * width`` to
``(k + 1) * width - 1``), and of each bucket its lowest and its highest point are kept (the
first of equal ones), so no minimum or maximum is lost and a spike stays a spike. The width is
a multiple of the largest block of the series' pyramid (``metric_blocks``) that fits about
``points // 2`` buckets into the range, so each bucket is read as whole blocks (its edges of the
range as smaller blocks and single points): a million points cost some thousands of rows.
Zooming in asks for a narrower range and gets its rows at full resolution once they fit; the
grid does not move as the range pans.

>>> check(["run_1"], "loss", points=500, start=0, end=None)
(['run_1'], 'loss', 500, 0, None)
>>> grid(1_000_000, 1000)  # (the block level read, the bucket width)
(1, 2048)
>>> grid(6000, 100), grid(900, 1000)
((1, 128), (0, 1))
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import sqlalchemy as sa

from .. import ids
from ..errors import ConfigError
from . import checks
from . import metric_blocks as blocks
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


def grid(n: int, points: int) -> tuple[int, int]:
    """For a range of ``n`` points drawn as at most ``points``: the pyramid level to read and
    the bucket width (a multiple of that level's block size; 1 when the range fits whole)."""
    if n <= points:
        return 0, 1
    buckets = max(1, points // 2 - 1)  # one more may fall in, the range's start being off the grid
    ideal = n / buckets
    level = max((lv for lv in blocks.LEVELS if blocks.size(lv) <= ideal), default=0)
    unit = blocks.size(level)
    return level, unit * math.ceil(ideal / unit)


def pieces(start: int, stop: int, level: int) -> Iterator[tuple[int, int, int]]:
    """``[start, stop)`` as ``(level, first, end)`` runs of whole blocks of that level (level 0:
    points), the largest blocks in the middle, smaller ones at each edge."""
    if start >= stop:
        return
    unit = blocks.size(level)
    first, last = -(-start // unit), stop // unit  # the whole blocks inside
    if level == 0 or first >= last:
        if level == 0:
            yield 0, start, stop
        else:
            yield from pieces(start, stop, level - 1)
        return
    yield from pieces(start, first * unit, level - 1)
    yield level, first, last
    yield from pieces(last * unit, stop, level - 1)


def read(conn: sa.Connection, run_id: str, name: str, points: int, start: int, end: int | None) -> dict[str, Any]:
    """One run's answer: ``count`` (the points in the range), ``downsampled``, and the kept
    points' ``i``, ``value``, ``step`` and ``logged_at``, in order."""
    latest = t.latest_metrics
    total = conn.execute(sa.select(latest.c.points).where(latest.c.run_id == run_id, latest.c.name == name)
                         ).scalar_one_or_none() or 0
    stop = total if end is None else min(end, total)
    n = max(0, stop - start)
    level, width = grid(n, points)
    kept: dict[int, list[tuple[int, float, Any, float]]] = {}  # bucket -> [lowest, highest]
    m, b = t.metrics, t.metric_blocks
    for lv, first, last in pieces(start, stop, level):
        if lv == 0:
            rows = conn.execute(sa.select(m.c.seq, m.c.value_num, m.c.step, m.c.logged_at, m.c.seq, m.c.value_num,
                                          m.c.step, m.c.logged_at)
                                .where(m.c.run_id == run_id, m.c.name == name, m.c.seq >= first, m.c.seq < last)
                                .order_by(m.c.seq))
        else:
            rows = conn.execute(sa.select(b.c.min_seq, b.c.min_value, b.c.min_step, b.c.min_logged_at, b.c.max_seq,
                                          b.c.max_value, b.c.max_step, b.c.max_logged_at)
                                .where(b.c.run_id == run_id, b.c.name == name, b.c.level == lv, b.c.block >= first,
                                       b.c.block < last)
                                .order_by(b.c.block))
        for row in rows:
            low, high = tuple(row[:4]), tuple(row[4:])
            mine = kept.get(low[0] // width)
            if mine is None:
                kept[low[0] // width] = [low, high]
                continue
            if low[1] < mine[0][1] or (low[1] == mine[0][1] and low[0] < mine[0][0]):
                mine[0] = low
            if high[1] > mine[1][1] or (high[1] == mine[1][1] and high[0] < mine[1][0]):
                mine[1] = high
    chosen = sorted({p for pair in kept.values() for p in pair})
    return {"run_id": run_id, "count": n, "downsampled": n > points, "i": [p[0] for p in chosen],
            "value": [p[1] for p in chosen], "step": [p[2] for p in chosen], "logged_at": [p[3] for p in chosen]}
