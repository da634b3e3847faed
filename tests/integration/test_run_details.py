"""``RunDetails(run).show()`` (``azureml.widgets``) watching a real run on the local target, in
a process of its own: printed again on each change into a pipe, redrawn on a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from runyard import Environment, Experiment, ScriptRunConfig, Workspace
from runyard.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "compat" / "azureml-runyard"

TRAIN = """\
import time
from azureml.core.run import Run
run = Run.get_context()
for epoch in range(4):
    run.log("loss", 1.0 / (epoch + 1))
    time.sleep(0.7)
with run.child_run("fold-1") as child:
    child.log("auc", 0.9)
run.log("accuracy", 0.875)
"""

WATCH = """
import sys
from azureml.core import Run, Workspace
from azureml.widgets import RunDetails
run = Run.get(Workspace.get(sys.argv[1]), sys.argv[2])
RunDetails(run, refresh_seconds=0.2).show()
print("show returned:", run.get_status())
"""


def _submit(workspace: Workspace, project) -> str:
    env = Environment("user-managed")
    env.python.user_managed_dependencies = True
    config = ScriptRunConfig(str(project({"train.py": TRAIN})), script="train.py", environment=env)
    return Experiment(workspace, "details").submit(config).id


def _env() -> dict[str, str]:
    paths = [str(COMPAT), str(ROOT / "python"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), "COLUMNS": "120"}


@pytest.mark.slow
def test_terminal_view_into_a_pipe_prints_each_change_until_the_run_ends(workspace: Workspace, project):
    run_id = _submit(workspace, project)
    watched = subprocess.run([sys.executable, "-c", WATCH, str(workspace.path), run_id], env=_env(),
                             capture_output=True, text=True, timeout=180)
    assert watched.returncode == 0, watched.stderr
    views = watched.stdout.split(f"Run {run_id} (details) on local: ")[1:]
    assert len(views) >= 3  # it refreshed while the run went on
    assert views[-1].startswith("Completed")
    assert any(v.startswith("Running") for v in views[:-1])
    last = views[-1]
    assert "loss" in last and "accuracy" in last and "0.875" in last
    assert "fold-1" in last and "Child runs (1)" in last
    assert last.rstrip().endswith("show returned: Completed")
    losses = [v for v in views if "loss" in v]
    assert len(losses) >= 2 and losses[0] != losses[-1]  # metrics appeared as they were logged


@pytest.mark.slow
def test_terminal_view_on_a_terminal_is_redrawn_in_place(workspace: Workspace, project):
    run_id = _submit(workspace, project)
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", WATCH, str(workspace.path), run_id], env=_env(),
                               stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the other end closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=180) == 0, output.decode(errors="replace")
    text = output.decode(errors="replace")
    assert "\x1b[" in text  # cursor movements: the view is redrawn, not appended
    assert "Completed" in text and "fold-1" in text and "show returned: Completed" in text


def test_run_details_refuses_what_is_not_a_run():
    from runyard.run_details import RunDetails
    with pytest.raises(ConfigError, match="run_instance must be a Run"):
        RunDetails("run-id")


def test_notebook_html_is_self_contained_and_escaped(workspace: Workspace):
    from runyard.run_details import RunDetails, render_html
    run = Experiment(workspace, "html").start_logging()
    run.log("<b>odd</b>", 1.5)
    run.child_run("child & co").complete()
    page = render_html(RunDetails(run).get_widget_data())
    run.complete()
    assert "&lt;b&gt;odd&lt;/b&gt;" in page and "child &amp; co" in page and "<b>Running</b>" in page
    assert "<script" not in page and "http" not in page


def test_show_writes_to_a_given_function_and_returns_once_the_run_has_ended(workspace: Workspace):
    from runyard.run_details import RunDetails
    run = Experiment(workspace, "to-function").start_logging()
    run.log("auc", 0.75)
    run.complete()
    chunks: list[str] = []
    RunDetails(run, refresh_seconds=0.1).show(output=chunks.append)
    text = "".join(chunks)
    assert text.count(f"Run {run.id} (to-function) on interactive: Completed") == 1 and "0.75" in text
    with pytest.raises(ConfigError, match="output must be a stream or a function"):
        RunDetails(run).show(output=42)
