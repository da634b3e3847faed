"""Many runs at once, submitted from several processes into one workspace."""

from __future__ import annotations

import pytest

import subprocess
import sys
import textwrap

from runyard import Experiment, Run
from runyard import status as st

@pytest.fixture
def workspace(any_store_workspace):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_store_workspace


SUBMITTER = """\
import sys
from runyard import Experiment, ScriptRunConfig, Workspace
ws = Workspace.get(sys.argv[1])
experiment = Experiment(ws, "crowd")
for i in range(5):
    run = experiment.submit(ScriptRunConfig(sys.argv[2], script="log.py"), tags={"submitter": sys.argv[3]})
    print(run.id, flush=True)
"""


def test_twenty_runs_from_four_processes(workspace, project):
    src = project({"log.py": """\
        from runyard import Run
        run = Run.get_context()
        for i in range(2000):
            run.log("value", i)
        """})
    submitters = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(SUBMITTER), str(workspace.path), str(src), str(n)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(4)]
    run_ids = []
    for proc in submitters:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        run_ids += out.split()
    assert len(set(run_ids)) == 20

    experiment = Experiment(workspace, "crowd")
    runs = [Run(experiment, run_id) for run_id in run_ids]
    for run in runs:
        run.wait_for_completion()
    for run in runs:
        assert run.get_status() == st.COMPLETED
        assert run.get_metrics(name="value")["value"] == list(range(2000))
    assert sorted(r.number for r in experiment.get_runs()) == list(range(1, 21))
    for n in range(4):
        assert len(list(experiment.get_runs(tags={"submitter": n}))) == 5
