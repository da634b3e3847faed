"""The benchmarks still run (quick mode, no MLflow peer); their figures are not judged here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runyard.compute.local_env import submitting_interpreter

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


#: benchmarks that need a service the tests start (the Docker one: the engine and base image
#: the Docker tests start or make; the Ray one: the session's cluster, rather than one of its own)
_MARKS = {"bench_docker.py": pytest.mark.docker, "bench_ray_submit.py": pytest.mark.ray,
          "bench_server_metrics.py": pytest.mark.postgres}


def _benchmark(name: str):
    return pytest.param(name, marks=_MARKS[name]) if name in _MARKS else name


#: benchmarks with a case of their own below
_OWN_CASE = {"bench_hyperdrive.py"}


@pytest.mark.parametrize("script", [_benchmark(p.name) for p in sorted(BENCHMARKS.glob("bench_*.py"))
                                    if p.name not in _OWN_CASE])
def test_benchmark_runs_quick(script: str, tmp_path: Path, request):
    options = []
    if "docker" in script:
        request.getfixturevalue("base_image")
    if "ray" in script:
        options = ["--address", request.getfixturevalue("ray_cluster").address]
    env = dict(os.environ, RUNYARD_CACHE_DIR=str(tmp_path / "cache"),
               RETICULATE_PYTHON=submitting_interpreter())
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), "--quick", "--no-peer",
                             "--workdir", str(tmp_path / "work"), *options],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Goals" in result.stdout
    assert "MET" in result.stdout or "MISSED" in result.stdout


def test_hyperdrive_benchmark_runs_quick_with_every_part(tmp_path: Path):
    """Its three measurements run on real sweeps; without the peer, Ray Tune is NOT MEASURED."""
    figures = tmp_path / "hyperdrive.json"
    env = dict(os.environ, RUNYARD_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, str(BENCHMARKS / "bench_hyperdrive.py"), "--quick", "--no-peer",
                             "--workdir", str(tmp_path / "work"), "--json", str(figures)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Goals" in result.stdout
    data = json.loads(figures.read_text())
    assert data["overhead"]["trials"] == 12 and data["overhead"]["raytune"] is None
    assert data["overhead"]["verdicts"]["sweep overhead per trial (vs Ray Tune's faster run)"] == "NOT MEASURED"
    assert [s["policy"].split("(")[0] for s in data["early_termination"]["sweeps"]] == \
        ["no policy", "MedianStoppingPolicy", "BanditPolicy"]
    assert all(s["epochs"] > 0 for s in data["early_termination"]["sweeps"])
    assert [f["function"] for f in data["bayesian"]["functions"]] == ["Branin", "Hartmann-3"]
    assert data["bayesian"]["real_sweeps"] is None  # outside --quick only
