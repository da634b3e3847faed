"""The pipeline examples run as their READMEs say, and a second run reuses what it should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _submit(example: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / example / "submit.py"), *args], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Status: Completed" in done.stdout
    return done.stdout


def test_the_mixed_python_r_example_registers_its_model_and_is_reused(tmp_path):
    first = _submit("pipeline-mixed", str(tmp_path / "ws"))
    assert "fit in R   Completed  reused: None" in first and "test_r2" in first
    assert "model diabetes-lm:1: tags" in first and "'language': 'R'" in first
    second = _submit("pipeline-mixed", str(tmp_path / "ws"))
    reused = [line for line in second.splitlines() if " reused: " in line]
    assert [line.split()[0] for line in reused if "reused: None" in line] == ["register"]
    assert "model diabetes-lm:1:" in second  # the same files: the same version


def test_the_batch_scoring_example_versions_its_datasets(tmp_path):
    ws = str(tmp_path / "ws" / ".runyard")
    first = _submit("pipeline-batch-scoring", ws, "1")
    assert "dataset diabetes-batch version 1" in first and "'rows_scored': 40" in first
    assert "dataset diabetes-scores version 1, produced by run batch-scoring_" in first
    again = _submit("pipeline-batch-scoring", ws, "1")
    assert "dataset diabetes-batch version 1" in again and "reused: None" not in again
    other = _submit("pipeline-batch-scoring", ws, "2")
    assert "dataset diabetes-batch version 2" in other and "dataset diabetes-scores version 2" in other
    assert other.count("reused: None") == 2


def test_the_many_models_example_trains_and_scores_a_model_per_store(tmp_path):
    first = _submit("many-models", str(tmp_path / "ws" / ".runyard"), "--stores", "12", "--workers", "2")
    assert "train: 12 of 12 stores succeeded, reused: None" in first
    assert "score: 12 of 12 stores succeeded, reused: None" in first
    assert "models registered: 12, e.g. sales-forecast-S0000-" in first
    assert "forecasts: 48 lines (store week forecast model), first: S0000 52 " in first
    again = _submit("many-models", str(tmp_path / "ws" / ".runyard"), "--stores", "12", "--workers", "2")
    assert "reused: None" not in again  # the same data and scripts: both steps reused
    assert "models registered: 12, e.g. sales-forecast-S0000-" in again and ":1," in again
