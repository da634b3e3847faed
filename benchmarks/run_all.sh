#!/usr/bin/env bash
# Run every runyard benchmark: setup_peers.sh first (the MLflow and Ray Tune peer venvs), then
# each bench_*.py in its own fresh temporary workspace folder and RUNYARD_CACHE_DIR.
#
#   bash benchmarks/run_all.sh            # full run (hours: the AutoML and forecasting
#                                         # benchmarks train for their budgets on every dataset)
#   bash benchmarks/run_all.sh --quick    # smoke test; extra arguments go to every benchmark
#
# PYTHON picks the interpreter that has runyard installed (default: python3).
# RESULTS_DIR, when set, receives one JSON file per benchmark.
# SKIP_PEER_SETUP=1 skips setup_peers.sh (the benchmarks then use the venv if it exists).
# Exit status: non-zero when a benchmark run was broken (a goal missed is not a failure).
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
if [[ -n "${RESULTS_DIR:-}" ]]; then  # absolute: each benchmark runs in its own temp folder
    RESULTS_DIR="$(mkdir -p "$RESULTS_DIR" && cd "$RESULTS_DIR" && pwd)"
fi

failed=()
peer_args=()
if [[ "${SKIP_PEER_SETUP:-0}" != 1 ]]; then
    if ! bash "$SCRIPT_DIR/setup_peers.sh"; then
        echo "run_all: setup_peers.sh failed; running without the peers" >&2
        failed+=(setup_peers)
        peer_args=(--no-peer)
    fi
fi

echo "run_all: $("$PYTHON" -c 'import platform, runyard; print("runyard", runyard.__version__, "on Python", platform.python_version())'), $(nproc 2>/dev/null || echo '?') CPUs, $(date +%F)"

for bench in bench_submit_overhead bench_metric_logging bench_server_metrics bench_env_lookup bench_r_overhead \
             bench_ray_submit bench_ddp_scaling bench_pipeline_chain bench_hyperdrive bench_studio bench_parallel \
             bench_automl bench_automl_ray bench_forecasting; do
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/runyard-$bench.XXXXXX")"
    mkdir -p "$tmp/work" "$tmp/cache"
    json_args=()
    if [[ -n "${RESULTS_DIR:-}" ]]; then
        json_args=(--json "$RESULTS_DIR/$bench.json")
    fi
    echo
    echo "=============== $bench ==============="
    (cd "$tmp" && RUNYARD_CACHE_DIR="$tmp/cache" RUNYARD_WORKSPACE= \
        "$PYTHON" "$SCRIPT_DIR/$bench.py" --workdir "$tmp/work" "${json_args[@]}" "${peer_args[@]}" "$@")
    rc=$?
    rm -rf "$tmp"
    if [[ $rc -ne 0 ]]; then
        echo "run_all: $bench FAILED (exit $rc)" >&2
        failed+=("$bench")
    fi
done

echo
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "run_all: broken: ${failed[*]}" >&2
    exit 1
fi
echo "run_all: all benchmarks ran (see MET / MISSED above)"
