"""``RunDetails(run).show()``: a run's status, metrics and child runs, refreshed until it ends
(Azure ML v1's ``azureml.widgets.RunDetails``).

In a Jupyter kernel it shows a table that refreshes in place (an ``ipywidgets.HTML`` widget
when ipywidgets is installed, else an HTML display updated by its display id) and returns at
once, as Azure's widget did; nothing is loaded from the network. Anywhere else it writes a
text view to the terminal and returns when the run has ended: redrawn in place on a terminal,
printed again whenever it changes when output goes to a file or pipe. Ctrl-C stops watching;
the run goes on.
"""

from __future__ import annotations

import html
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, TextIO

from . import status as st
from .errors import ConfigError

if TYPE_CHECKING:
    from .run import Run

#: seconds between refreshes unless told otherwise
REFRESH_SECONDS = 2.0
#: metrics and children shown at most (the rest are counted)
_MAX_ROWS = 50


class RunDetails:
    """A live view of ``run_instance``.

    >>> RunDetails(run).show()  # doctest: +SKIP
    """

    def __init__(self, run_instance: "Run", refresh_seconds: float = REFRESH_SECONDS):
        from .run import Run
        if not isinstance(run_instance, Run):
            raise ConfigError(f"RunDetails: run_instance must be a Run (what submit() returned), "
                              f"got {type(run_instance).__name__}")
        if isinstance(refresh_seconds, bool) or not isinstance(refresh_seconds, (int, float)) or refresh_seconds <= 0:
            raise ConfigError(f"RunDetails: refresh_seconds must be a positive number, got {refresh_seconds!r}")
        self.run = run_instance
        self.refresh_seconds = float(refresh_seconds)
        self._thread: threading.Thread | None = None

    def show(self, output: Any = None) -> None:
        """In Jupyter: display a refreshing table and return. Elsewhere, or given ``output`` (a
        text stream or a function taking each chunk of text, as for ``wait_for_completion``):
        write the view there (default: stdout) until the run ends."""
        from .run import _writer
        if output is None and _in_jupyter_kernel():
            return self._show_in_notebook()
        self._show_in_terminal(_writer(output))

    def get_widget_data(self) -> dict[str, Any]:
        """What the view shows, as data: run id, status, times, metrics, children."""
        return _snapshot(self.run)

    # -- terminal --------------------------------------------------------------
    def _show_in_terminal(self, out: TextIO) -> None:
        from rich.console import Console
        console = Console(file=out)
        try:
            if console.is_terminal:
                self._live(console)
            else:
                self._reprint(console)
        except KeyboardInterrupt:
            console.print(f"Stopped watching; run {self.run.id} goes on.", highlight=False)

    def _live(self, console) -> None:
        from rich.live import Live
        data = _snapshot(self.run)
        with Live(_renderable(data), console=console, auto_refresh=False) as live:
            while data["status"] not in st.TERMINAL:
                time.sleep(self.refresh_seconds)
                data = _snapshot(self.run)
                live.update(_renderable(data), refresh=True)

    def _reprint(self, console) -> None:
        shown = None
        while True:
            data = _snapshot(self.run)
            view = {k: v for k, v in data.items() if k != "duration"}  # a change, not the clock, prints again
            if view != shown:
                shown = view
                console.print(_renderable(data), highlight=False)
                console.file.flush()
            if data["status"] in st.TERMINAL:
                return
            time.sleep(self.refresh_seconds)

    # -- Jupyter ---------------------------------------------------------------
    def _show_in_notebook(self) -> None:
        from IPython.display import HTML, display
        page = render_html(_snapshot(self.run))
        try:
            import ipywidgets
        except ImportError:
            handle = display(HTML(page), display_id=True)
            update: Callable[[str], None] = lambda text: handle.update(HTML(text))  # noqa: E731
        else:
            widget = ipywidgets.HTML(value=page)
            display(widget)
            update = lambda text: setattr(widget, "value", text)  # noqa: E731
        self._thread = threading.Thread(target=self._refresh_notebook, args=(update,), daemon=True,
                                        name=f"runyard-run-details-{self.run.id}")
        self._thread.start()

    def _refresh_notebook(self, update: Callable[[str], None]) -> None:
        while True:
            time.sleep(self.refresh_seconds)
            data = _snapshot(self.run)
            update(render_html(data))
            if data["status"] in st.TERMINAL:
                return


def _in_jupyter_kernel() -> bool:
    """Whether this process is a Jupyter kernel (IPython imported and running with a kernel)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _snapshot(run: "Run") -> dict[str, Any]:
    from .cli._output import format_metric
    details = run.get_details()
    children = run.get_children()
    return {
        "id": run.id, "experiment": run.experiment.name, "status": details["status"],
        "target": details["target"], "duration": details["durationSeconds"],
        "error": (details["error"] or {}).get("message"),
        "metrics": [(name, format_metric(value)) for name, value in run.get_metrics().items()],
        "children": [(child.display_name or child.id, child.get_status(), child.id) for child in children],
    }


def _renderable(data: dict[str, Any]):
    from rich.console import Group
    from rich.text import Text
    duration = f"{data['duration']:.0f}s" if data["duration"] is not None else "not started"
    parts: list[Any] = [Text(f"Run {data['id']} ({data['experiment']}) on {data['target']}: {data['status']}, "
                             f"{duration}")]
    if data["error"]:
        parts.append(Text(f"Error: {data['error']}"))
    if data["metrics"]:
        parts.append(_table("Metrics", ["name", "value"], data["metrics"]))
    if data["children"]:
        parts.append(_table(f"Child runs ({len(data['children'])})", ["name", "status", "run id"],
                            data["children"]))
    return Group(*parts)


def _table(title: str, columns: list[str], rows: list[tuple[Any, ...]]):
    from rich.table import Table
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows[:_MAX_ROWS]:
        table.add_row(*(str(v) for v in row))
    if len(rows) > _MAX_ROWS:
        table.add_row(f"... {len(rows) - _MAX_ROWS} more", *([""] * (len(columns) - 1)))
    return table


def render_html(data: dict[str, Any]) -> str:
    """The view as a self-contained HTML fragment (no scripts, nothing fetched)."""
    def rows(items: list[tuple[Any, ...]]) -> str:
        return "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                       for row in items[:_MAX_ROWS])

    duration = f"{data['duration']:.0f}s" if data["duration"] is not None else "not started"
    parts = [f"<p><b>Run {html.escape(data['id'])}</b> ({html.escape(data['experiment'])}) on "
             f"{html.escape(str(data['target']))}: <b>{html.escape(data['status'])}</b>, {duration}</p>"]
    if data["error"]:
        parts.append(f"<p>Error: {html.escape(data['error'])}</p>")
    if data["metrics"]:
        parts.append(f"<table><tr><th>metric</th><th>value</th></tr>{rows(data['metrics'])}</table>")
    if data["children"]:
        parts.append(f"<table><tr><th>child run</th><th>status</th><th>run id</th></tr>"
                     f"{rows(data['children'])}</table>")
    return "<div class='runyard-run-details'>" + "".join(parts) + "</div>"
