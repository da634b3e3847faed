"""Sweep job files through the command a user types: `runyard job submit -f sweep.yml` runs the
trials as child runs on the local target, streams the sweep's log, and `runyard run show`
lists the trials best first."""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
import subprocess
import sys
from pathlib import Path

import pytest

from runyard import Run, Workspace
from runyard import status as st

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TRAIN = """\
import argparse, os, sys, time
from runyard import Run
parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, required=True)
parser.add_argument("--layers", type=int, required=True)
parser.add_argument("--data", default=None)
args = parser.parse_args()
run = Run.get_context()
run.log("args", " ".join(sys.argv[1:]))
if args.data:
    run.log("rows", len(open(os.path.join(args.data, "rows.csv")).read().splitlines()))
run.log("accuracy", args.alpha * args.layers)
"""

SLOW_WHEN_LOW = """\
import argparse, time
from runyard import Run
parser = argparse.ArgumentParser()
parser.add_argument("--quality", required=True)
args = parser.parse_args()
run = Run.get_context()
if args.quality == "low":  # logs after the other trial did, then would run on
    time.sleep(5)
    run.log("accuracy", 0.1)
    run.flush()
    time.sleep(120)
else:
    run.log("accuracy", 1.0)
"""


def runyard(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "250"})


@pytest.fixture
def sweep_project(project) -> Path:
    folder = project({"src/train.py": TRAIN, "src/slow.py": SLOW_WHEN_LOW, "data/rows.csv": "a\n1\n2\n"},
                     name="sweeps")
    result = runyard("init", ".", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


def submit(folder: Path, text: str) -> tuple[subprocess.CompletedProcess, Run]:
    (folder / "sweep.yml").write_text(text)
    result = runyard("job", "submit", "-f", "sweep.yml", cwd=folder)
    match = re.search(r"^RunId: (\S+)", result.stdout, re.MULTILINE)
    assert match, result.stdout + result.stderr
    return result, Run.get(Workspace.get(folder), match.group(1))


def show(folder: Path, run_id: str) -> tuple[str, dict]:
    text = runyard("run", "show", run_id, cwd=folder)
    data = runyard("run", "show", run_id, "--json", cwd=folder)
    assert text.returncode == 0 and data.returncode == 0, text.stderr + data.stderr
    return text.stdout, json.loads(data.stdout)


def test_a_sweep_whose_command_names_its_hyperparameters(sweep_project: Path):
    result, sweep = submit(sweep_project, textwrap.dedent("""\
        type: sweep
        experiment_name: yaml-sweeps
        inputs:
          data: {type: uri_folder, path: data}
        sampling_algorithm: grid
        search_space:
          alpha: {type: choice, values: [0.1, 0.5]}
          layers: {type: choice, values: [1, 3]}
        objective: {goal: maximize, primary_metric: accuracy}
        limits: {max_total_trials: 10, max_concurrent_trials: 2}
        trial:
          code: src
          command: python train.py --data ${{inputs.data}} --alpha ${{search_space.alpha}} --layers ${{search_space.layers}}
        """))
    assert result.returncode == 0, result.stdout + result.stderr
    # the driver's log streamed, then the trials
    assert "trial 3 (" in result.stdout and "sweep Completed: 4 trial(s), 4 completed" in result.stdout
    assert "Status: Completed" in result.stdout and "highest accuracy first" in result.stdout
    assert sweep.type == "hyperdrive" and sweep.get_status() == st.COMPLETED
    trials = sweep.get_children()
    assert len(trials) == 4  # the grid has 4 points, fewer than max_total_trials
    seen = set()
    for trial in trials:
        values = json.loads(trial.get_properties()["hyperparameters"])
        metrics = trial.get_metrics()
        assert trial.get_status() == st.COMPLETED
        assert metrics["args"] == (f"--data {sweep_project / 'data'} --alpha {values['alpha']} "
                                   f"--layers {values['layers']}")
        assert metrics["rows"] == 3
        seen.add((values["alpha"], values["layers"]))
    assert seen == {(0.1, 1), (0.1, 3), (0.5, 1), (0.5, 3)}
    text, data = show(sweep_project, sweep.id)
    best_first = [round(t["bestPrimaryMetric"], 6) for t in data["trials"]]
    assert best_first == [1.5, 0.5, 0.3, 0.1]
    assert [t["hyperparameters"] for t in data["trials"]][0] == {"alpha": 0.5, "layers": 3}
    table = text[text.index("Trials of"):]
    positions = [table.index(t["runId"]) for t in data["trials"]]
    assert positions == sorted(positions)
    assert "stopped by" not in table


def test_a_sweep_whose_command_names_none_gets_the_values_appended(sweep_project: Path):
    result, sweep = submit(sweep_project, textwrap.dedent("""\
        type: sweep
        sampling_algorithm: {type: random, seed: 3}
        search_space:
          alpha: {type: uniform, min_value: 0, max_value: 1}
          layers: {type: choice, values: [1, 2]}
        objective: {goal: minimize, primary_metric: accuracy}
        limits: {max_total_trials: 3, max_concurrent_trials: 2, trial_timeout: 120}
        trial:
          code: src
          command: python train.py
        """))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lowest accuracy first" in result.stdout
    assert sweep.experiment.name == "default" and sweep.get_status() == st.COMPLETED
    trials = sweep.get_children()
    assert len(trials) == 3
    for trial in trials:
        values = json.loads(trial.get_properties()["hyperparameters"])
        assert trial.get_metrics()["args"] == f"--alpha {values['alpha']} --layers {values['layers']}"
    _, data = show(sweep_project, sweep.id)
    scores = [t["bestPrimaryMetric"] for t in data["trials"]]
    assert len(scores) == 3 and scores == sorted(scores)


def test_a_trial_stopped_early_shows_why(sweep_project: Path):
    result, sweep = submit(sweep_project, textwrap.dedent("""\
        type: sweep
        sampling_algorithm: grid
        search_space:
          quality: {type: choice, values: [high, low]}
        objective: {goal: maximize, primary_metric: accuracy}
        limits: {max_total_trials: 2, max_concurrent_trials: 2}
        early_termination: {type: bandit, slack_factor: 0.1}
        trial:
          code: src
          command: python slow.py --quality ${{search_space.quality}}
        """))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stopping: BanditPolicy" in result.stdout
    text, data = show(sweep_project, sweep.id)
    high, low = data["trials"]
    assert (high["hyperparameters"], high["status"], high["stoppedBy"]) == ({"quality": "high"}, st.COMPLETED, None)
    assert (low["hyperparameters"], low["status"]) == ({"quality": "low"}, st.CANCELED)
    assert low["stoppedBy"].startswith("BanditPolicy: at interval 1 its value 0.1 is below")
    table = text[text.index("Trials of"):]
    assert "stopped by" in table and "BanditPolicy" in table


def test_a_bad_sweep_file_exits_2_naming_file_line_and_field_and_records_nothing(sweep_project: Path):
    (sweep_project / "sweep.yml").write_text(
        "type: sweep\nsampling_algorithm: random\nsearch_space:\n  alpha: {type: uniform, min_value: 1, max_value: 0}\n"
        "objective: {goal: maximize, primary_metric: accuracy}\ntrial:\n  command: python src/train.py\n")
    result = runyard("job", "submit", "-f", "sweep.yml", cwd=sweep_project)
    assert result.returncode == 2
    assert "sweep.yml: line 4, field 'search_space.alpha'" in result.stderr, result.stderr
    assert "min_value (1) must be below max_value (0)" in result.stderr
    assert Workspace.get(sweep_project)._store.list_runs() == []


def test_the_example_sweep_file_runs(tmp_path: Path):
    example = tmp_path / "sklearn-sweep"
    shutil.copytree(EXAMPLES / "sklearn-sweep", example, ignore=shutil.ignore_patterns(".runyard", "outputs"))
    text = (example / "sweep.yml").read_text()
    assert "max_total_trials: 6" in text
    (example / "sweep.yml").write_text(text.replace("max_total_trials: 6", "max_total_trials: 2"))
    assert runyard("init", ".", cwd=example).returncode == 0
    result = runyard("job", "submit", "-f", "sweep.yml", cwd=example)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sweep Completed: 2 trial(s)" in result.stdout and "highest accuracy first" in result.stdout
    sweep = next(Workspace.get(example).experiments["digits-sweep"].get_runs())
    best = sweep.get_best_run_by_primary_metric()
    assert best.get_metrics()["accuracy"][-1] > 0.5 and "outputs/model.joblib" in best.get_file_names()
