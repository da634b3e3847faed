"""What a chart of a series keeps, worked out from the values themselves (for tests of
``RunStore.metric_series`` on any store)."""

from __future__ import annotations

from runyard.store import metric_series


def expected_series(values: list[float], points: int, start: int = 0, end: int | None = None) -> list[int]:
    """The points a chart keeps, worked out from the values: all when they fit, else each grid
    bucket's lowest and highest (the first of equal ones); the grid's width as documented."""
    stop = len(values) if end is None else min(end, len(values))
    if stop - start <= points:
        return list(range(start, stop))
    _, width = metric_series.grid(stop - start, points)
    kept = set()
    for bucket in range(start // width, (stop - 1) // width + 1):
        rows = range(max(start, bucket * width), min(stop, (bucket + 1) * width))
        kept |= {min(rows, key=lambda i: (values[i], i)), min(rows, key=lambda i: (-values[i], i))}
    return sorted(kept)
