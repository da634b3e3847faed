"""Printing for the CLI: rich tables for people, ``--json`` for programs."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable

from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for i, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=(i == 0))
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def format_metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        shown = ", ".join(format_metric(v) for v in value[:5])
        more = f", ... ({len(value)} values)" if len(value) > 5 else ""
        return f"[{shown}{more}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {len(v) if isinstance(v, list) else v} rows" for k, v in value.items()) + "}"
    return str(value)
