"""Each scalar series' pyramid of blocks, kept as its numbers are logged (schema v7).

A series is a run's numeric scalar rows of one name, numbered in logging order by ``seq``
(0, 1, 2, ...). Block ``b`` of level ``L`` covers the points whose ``seq // 64**L`` is ``b``
and keeps how many there are (``n``) and its lowest and its highest point (the first of equal
ones: the lowest ``seq``), each with its value, step and time. Points only ever join the end of
a series, so a batch updates the last block or two of each level: ``merge`` folds the batch's
own blocks into the stored ones (an upsert keeping the lower minimum and the higher maximum).
``metric_series`` reads the blocks of the coarsest level that still draws each bucket of a
chart from several blocks: a million points become some thousands of rows.

>>> [(b.level, b.block, b.n, b.min_seq, b.max_seq) for b in of_points([(0, 5.0, None, 1.0), (1, 2.0, None, 1.0)], "r", "m")][:1]
[(1, 0, 2, 1, 0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

from . import schema as t

FANOUT = 64
#: levels 1..4: blocks of 64, 4,096, 262,144 and 16,777,216 points
LEVELS = (1, 2, 3, 4)
#: the rows a series numbers: scalars that are numbers
IS_POINT = sa.and_(t.metrics.c.kind == "scalar", t.metrics.c.value_num.is_not(None))


def size(level: int) -> int:
    """How many points one block of ``level`` covers (level 0: one point)."""
    return FANOUT ** level


@dataclass
class Block:
    """One block's summary: where it is and its extreme points (seq, value, step, logged_at)."""
    run_id: str
    name: str
    level: int
    block: int
    n: int
    min_seq: int
    min_value: float
    min_step: int | None
    min_logged_at: float
    max_seq: int
    max_value: float
    max_step: int | None
    max_logged_at: float

    def take(self, other: "Block") -> None:
        """Folds in a block of the same place made of later points."""
        self.n += other.n
        if other.min_value < self.min_value:
            self.min_seq, self.min_value, self.min_step, self.min_logged_at = (
                other.min_seq, other.min_value, other.min_step, other.min_logged_at)
        if other.max_value > self.max_value:
            self.max_seq, self.max_value, self.max_step, self.max_logged_at = (
                other.max_seq, other.max_value, other.max_step, other.max_logged_at)

    def row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def of_points(points: Iterable[tuple[int, float, int | None, float]], run_id: str, name: str) -> list[Block]:
    """The blocks of every level made of one series' new points ``(seq, value, step,
    logged_at)``, given in seq order: level 1 from the points, each next level from the one
    before."""
    out: list[Block] = []
    below: list[Block] = []
    for seq, value, step, logged_at in points:
        b = seq // FANOUT
        if below and below[-1].block == b:
            if value < below[-1].min_value:
                below[-1].min_seq, below[-1].min_value, below[-1].min_step, below[-1].min_logged_at = seq, value, step, logged_at
            if value > below[-1].max_value:
                below[-1].max_seq, below[-1].max_value, below[-1].max_step, below[-1].max_logged_at = seq, value, step, logged_at
            below[-1].n += 1
        else:
            below.append(Block(run_id, name, 1, b, 1, seq, value, step, logged_at, seq, value, step, logged_at))
    out.extend(below)
    for level in LEVELS[1:]:
        above: list[Block] = []
        for part in below:
            b = part.block // FANOUT
            if above and above[-1].block == b:
                above[-1].take(part)
            else:
                above.append(Block(**{**part.row(), "level": level, "block": b}))
        out.extend(above)
        below = above
    return out


#: the columns of metric_blocks, in the order ``merge`` sends them
_COLUMNS = ("run_id", "name", "level", "block", "n", "min_seq", "min_value", "min_step", "min_logged_at",
            "max_seq", "max_value", "max_step", "max_logged_at")


def _kept(side: str, better: str) -> str:
    """SET clauses keeping a side's point, replaced by the new block's when it is ``better``
    (each right-hand side reads the row as it was: standard SQL, SQLite and PostgreSQL alike)."""
    return ", ".join(f"{side}_{part} = CASE WHEN excluded.{side}_value {better} metric_blocks.{side}_value "
                     f"THEN excluded.{side}_{part} ELSE metric_blocks.{side}_{part} END"
                     for part in ("seq", "value", "step", "logged_at"))


#: the upsert, as each driver marks its parameters (the same SQL on both databases)
_MERGE = (f"INSERT INTO metric_blocks ({', '.join(_COLUMNS)}) VALUES ({{marks}}) "
          f"ON CONFLICT (run_id, name, level, block) DO UPDATE SET n = metric_blocks.n + excluded.n, "
          f"{_kept('min', '<')}, {_kept('max', '>')}")
_MERGE_SQLITE = _MERGE.format(marks=", ".join("?" * len(_COLUMNS)))
_MERGE_POSTGRESQL = _MERGE.format(marks=", ".join(["%s"] * len(_COLUMNS)))


def merge(conn: sa.Connection, blocks: list[Block], *, sqlite: bool) -> None:
    """Folds ``blocks`` (made of points logged after those stored) into the stored ones: the
    counts add up, a lower minimum or a higher maximum replaces the stored one. One upsert
    through the driver (SQLAlchemy's per-row handling cost more than the statement), in key
    order (so concurrent writers take row locks in the same order)."""
    if not blocks:
        return
    rows = sorted((tuple(getattr(b, c) for c in _COLUMNS) for b in blocks), key=lambda r: r[:4])
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(_MERGE_SQLITE if sqlite else _MERGE_POSTGRESQL, rows)
    finally:
        cursor.close()


def backfill(level: int) -> Any:
    """An INSERT of every series' blocks of ``level`` from the numbered rows (migration v7)."""
    m = t.metrics
    block = (m.c.seq // size(level)).label("block")
    key = (m.c.run_id, m.c.name, block)
    ranked = sa.select(
        m.c.run_id, m.c.name, block, m.c.seq, m.c.value_num, m.c.step, m.c.logged_at,
        sa.func.count().over(partition_by=key).label("n"),
        sa.func.row_number().over(partition_by=key, order_by=(m.c.value_num, m.c.seq)).label("low"),
        sa.func.row_number().over(partition_by=key, order_by=(m.c.value_num.desc(), m.c.seq)).label("high"),
    ).where(m.c.seq.is_not(None)).subquery("ranked")
    low, high = ranked.alias("low_point"), ranked.alias("high_point")
    chosen = (sa.select(low.c.run_id, low.c.name, sa.literal(level), low.c.block, low.c.n,
                        low.c.seq, low.c.value_num, low.c.step, low.c.logged_at,
                        high.c.seq, high.c.value_num, high.c.step, high.c.logged_at)
              .join(high, sa.and_(high.c.run_id == low.c.run_id, high.c.name == low.c.name,
                                  high.c.block == low.c.block, high.c.high == 1))
              .where(low.c.low == 1))
    columns = ["run_id", "name", "level", "block", "n", "min_seq", "min_value", "min_step", "min_logged_at",
               "max_seq", "max_value", "max_step", "max_logged_at"]
    return sa.insert(t.metric_blocks).from_select(columns, chosen)
