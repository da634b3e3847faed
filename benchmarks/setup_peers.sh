#!/usr/bin/env bash
# Create (or reuse) the peer virtualenvs used by benchmarks/peers/*.py:
# .peers/mlflow-venv (MLflow), .peers/raytune-venv (Ray Tune), .peers/flaml-venv (FLAML),
# .peers/statsforecast-venv (statsforecast) and .peers/autogluon-venv (AutoGluon).
# Idempotent: re-running only re-checks that the pinned packages are installed.
set -euo pipefail

# Full `mlflow` (not `mlflow-skinny`) is needed: `mlflow run` / mlflow.projects
# live in the full package. 3.17.2 is the newest version that resolves from PyPI
# here (3.18.0 is listed but its mlflow-skinny==3.18.0 dependency is missing).
MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
# MLflow's PostgreSQL driver (backend store postgresql+psycopg2://...) for
# bench_server_metrics.py, which runs `mlflow server` on PostgreSQL.
PSYCOPG2_VERSION="${PSYCOPG2_VERSION:-2.9.13}"
# Ray Tune for bench_hyperdrive.py: the Ray runyard's own venv has (ray 2.60.0), with
# the `tune` extra. A venv of its own so the peer imports nothing of runyard's.
RAY_VERSION="${RAY_VERSION:-2.60.0}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS_DIR="$SCRIPT_DIR/.peers"
VENV="$PEERS_DIR/mlflow-venv"
PY="$VENV/bin/python"
RAY_VENV="$PEERS_DIR/raytune-venv"
RAY_PY="$RAY_VENV/bin/python"

command -v uv >/dev/null 2>&1 || { echo "setup_peers: 'uv' not found on PATH" >&2; exit 1; }

mkdir -p "$PEERS_DIR"

# venv DIR: create the venv (or reuse the one there)
venv() {
    if [[ -x "$1/bin/python" ]]; then
        echo "setup_peers: reusing venv $1"
    else
        echo "setup_peers: creating venv $1"
        uv venv --python "${PEERS_PYTHON:-python3}" "$1"
    fi
}
venv "$VENV"

echo "setup_peers: installing mlflow==$MLFLOW_VERSION and psycopg2-binary==$PSYCOPG2_VERSION into $VENV"
uv pip install --python "$PY" "mlflow==$MLFLOW_VERSION" "psycopg2-binary==$PSYCOPG2_VERSION"

echo "setup_peers: installed $("$PY" -c 'import mlflow, psycopg2; print("mlflow", mlflow.__version__, "psycopg2", psycopg2.__version__.split()[0])')"
echo "setup_peers: mlflow CLI at $VENV/bin/mlflow"
echo "setup_peers: venv size $(du -sh "$VENV" | cut -f1)"

venv "$RAY_VENV"

echo "setup_peers: installing ray[tune]==$RAY_VERSION into $RAY_VENV"
uv pip install --python "$RAY_PY" "ray[tune]==$RAY_VERSION"
# uv leaves out the .pyc files pip writes at install; without them every Ray worker (one per
# trial) compiles Ray, pandas and pyarrow from source when PYTHONDONTWRITEBYTECODE is set (it is
# on this project's machines): about a minute per trial on 2 busy cores. compileall skips the
# files already compiled, so this is quick when re-run.
echo "setup_peers: compiling $RAY_VENV's packages to bytecode"
"$RAY_PY" -m compileall -q -j 0 "$RAY_VENV/lib" >/dev/null

echo "setup_peers: installed $("$RAY_PY" -c 'import ray, ray.tune; print("ray", ray.__version__, "with tune")')"
echo "setup_peers: venv size $(du -sh "$RAY_VENV" | cut -f1)"

# FLAML for bench_automl.py: its AutoML with the learners it uses by default (LightGBM,
# XGBoost's CPU build, scikit-learn's), in a venv of its own.
FLAML_VERSION="${FLAML_VERSION:-2.8.0}"
FLAML_VENV="$PEERS_DIR/flaml-venv"
FLAML_PY="$FLAML_VENV/bin/python"
venv "$FLAML_VENV"
echo "setup_peers: installing flaml==$FLAML_VERSION into $FLAML_VENV"
uv pip install --python "$FLAML_PY" "flaml==$FLAML_VERSION" lightgbm xgboost-cpu scikit-learn pandas pyarrow
"$FLAML_PY" -m compileall -q -j 0 "$FLAML_VENV/lib" >/dev/null
echo "setup_peers: installed $("$FLAML_PY" -c 'import flaml; print("flaml", flaml.__version__)')"
echo "setup_peers: venv size $(du -sh "$FLAML_VENV" | cut -f1)"

# statsforecast for bench_forecasting.py: its AutoETS, the statistical forecaster the
# forecasting goal is measured against, in a venv of its own.
STATSFORECAST_VERSION="${STATSFORECAST_VERSION:-2.1.1}"
SF_VENV="$PEERS_DIR/statsforecast-venv"
SF_PY="$SF_VENV/bin/python"
venv "$SF_VENV"
echo "setup_peers: installing statsforecast==$STATSFORECAST_VERSION into $SF_VENV"
uv pip install --python "$SF_PY" "statsforecast==$STATSFORECAST_VERSION" pandas pyarrow
"$SF_PY" -m compileall -q -j 0 "$SF_VENV/lib" >/dev/null
echo "setup_peers: installed $("$SF_PY" -c 'import statsforecast; print("statsforecast", statsforecast.__version__)')"
echo "setup_peers: venv size $(du -sh "$SF_VENV" | cut -f1)"

# AutoGluon for bench_automl.py: TabularPredictor with its gradient-boosting libraries, and
# PyTorch 2.13.0 (the CPU wheel on this project's machines; pip finds it, uv does not) for its
# neural network. fastai is left out: it would fetch torchvision. The heaviest peer: about 1.5 GB.
AUTOGLUON_VERSION="${AUTOGLUON_VERSION:-1.6.3}"
AG_VENV="$PEERS_DIR/autogluon-venv"
AG_PY="$AG_VENV/bin/python"
venv "$AG_VENV"
echo "setup_peers: installing autogluon.tabular==$AUTOGLUON_VERSION into $AG_VENV"
uv pip install --python "$AG_PY" "autogluon.tabular[lightgbm,catboost,xgboost]==$AUTOGLUON_VERSION" pyarrow
if ! "$AG_PY" -c 'import torch' 2>/dev/null; then
    "$AG_PY" -m ensurepip >/dev/null
    "$AG_PY" -m pip install -q "torch==2.13.0" \
        || echo "setup_peers: no torch for AutoGluon: it runs without its neural network" >&2
fi
# byte-compiled now, so the first timed fit does not pay for it; torch ships a test file in
# Python 3.12 syntax that does not compile here, which is no failure of the setup
"$AG_PY" -m compileall -q -j 0 "$AG_VENV/lib" >/dev/null 2>&1 || true
echo "setup_peers: installed $("$AG_PY" -c 'import autogluon.tabular as t; print("autogluon.tabular", t.__version__)')"
echo "setup_peers: venv size $(du -sh "$AG_VENV" | cut -f1)"
