"""The README's demo command (`make demo`) works, and does what the README says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runyard import Workspace

REPO = Path(__file__).resolve().parents[2]


def test_make_demo_runs_the_sklearn_example():
    venv = Path(sys.prefix)
    env = dict(os.environ)
    result = subprocess.run(["make", "-C", str(REPO), "demo", f"VENV={venv}", f"PYTHON={sys.executable}"],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for alpha in ("0.00", "0.50", "0.90"):
        assert f"alpha={alpha}" in result.stdout
    assert "Status: Completed" in result.stdout
    assert "outputs/ridge_0.90.pkl" in result.stdout

    ws = Workspace.get(REPO)
    run = next(ws.experiments["sklearn-diabetes"].get_runs())
    metrics = run.get_metrics()
    assert len(metrics["alpha"]) == len(metrics["mse"]) == 10
    assert all(m > 0 for m in metrics["mse"])
    models = [f for f in run.get_file_names() if f.startswith("outputs/ridge_")]
    assert len(models) == 10
    assert run.get_tags()["best_alpha"] in {f"{a / 10:.2f}" for a in range(10)}
