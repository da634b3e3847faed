#!/usr/bin/env python
"""HyperDrive sweeps: what a trial costs, what early termination saves, how well TPE samples.

Measured on the local target, the submitting interpreter as environment, 2 trials at a time:
  overhead   N trials (100; --quick 12) of a trivial script (prints hi, logs one metric) as a
             sweep, submit -> Completed, against the same N commands by hand through a pool of
             2 processes (before and after the sweep, mean), and against Ray Tune running the
             same N commands (peers/raytune_peer.py in its own venv, a loopback Ray of 2 CPUs;
             --no-peer or no venv: NOT MEASURED). Tune's trainable runs the script as a
             subprocess, as a runyard trial does: a trivial function in Tune's worker would skip
             the interpreter start every runyard trial and every command by hand pays.
             Per-trial overhead = (sweep - by hand) / N; goal <= 0.3 s. Ray Tune runs with its
             defaults and with reuse_actors=True; the same goal over the faster of the two
             ((sweep - Tune) / N <= 0.3 s), and the ratio printed.
  early      a learning-curve script (SGDClassifier.partial_fit, one test accuracy per epoch)
             swept three times with the same seeded random sampling: no policy,
             MedianStoppingPolicy(delay_evaluation=5), BanditPolicy(slack_factor=0.1,
             delay_evaluation=5); epochs run (accuracy values logged, summed) and the best
             accuracy of each. Goal per policy: >= 25% of the epochs saved, its best within 0.5%
             (relative) of the no-policy sweep's. A replay of the no-policy traces shows what
             other settings would have stopped.
  bayesian   TPE (BayesianParameterSampling) against random sampling on Branin (2-D) and
             Hartmann-3 (3-D), 20 x (number of parameters) trials, over 10 seeds (100..109),
             through the proposers; goal: TPE's best beats random's on >= 7 of 10, per function.
             Outside --quick, real sweeps of a script that evaluates Branin for the first seed.

    python benchmarks/bench_hyperdrive.py [--trials 100] [--seeds 10] [--parts overhead,early,bayesian] [--quick]
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_OVERHEAD_PER_TRIAL_S = 0.3
GOAL_EPOCHS_SAVED = 0.25
GOAL_BEST_WITHIN = 0.005  # relative: a policy's best >= the no-policy best x (1 - 0.005)
GOAL_TPE_WIN_SHARE = 0.7  # 7 of 10 seeds
CONCURRENCY = 2
PARTS = ("overhead", "early", "bayesian")

RAYTUNE_SCRIPT = c.BENCH_DIR / "peers" / "raytune_peer.py"
RAYTUNE_PYTHON = Path(os.environ.get("RUNYARD_BENCH_RAYTUNE_PYTHON")
                      or c.BENCH_DIR / ".peers" / "raytune-venv" / "bin" / "python")

TRIVIAL = """\
import argparse
from runyard import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
print("hi")
Run.get_context().log("m", a.x)
"""
# One epoch = one partial_fit pass over the training set, then the test accuracy, sent at once
# (flush) so that the policy sees each epoch as it ends.
LEARNING_CURVE = """\
import argparse
import numpy as np
from sklearn.linear_model import SGDClassifier
from runyard import Run
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--epochs", type=int)
p.add_argument("--alpha", type=float); p.add_argument("--eta0", type=float)
a = p.parse_args()
data = np.load(a.data)
X, y = data["X"].astype(np.float64), data["y"]
split = int(len(y) * 0.8)
model = SGDClassifier(loss="log_loss", alpha=a.alpha, learning_rate="constant", eta0=a.eta0, random_state=0)
run = Run.get_context()
for epoch in range(a.epochs):
    model.partial_fit(X[:split], y[:split], classes=[0, 1])
    run.log("accuracy", float(model.score(X[split:], y[split:])))
    run.flush()
"""
BRANIN_SCRIPT = """\
import argparse, math
from runyard import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); p.add_argument("--y", type=float)
a = p.parse_args()
b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
Run.get_context().log("value", (a.y - b * a.x ** 2 + c * a.x - 6) ** 2 + 10 * (1 - t) * math.cos(a.x) + 10)
"""


def _wait(run, what: str) -> None:
    details = run.wait_for_completion(raise_on_error=False)
    if details["status"] != "Completed":
        raise c.BrokenRun(f"{what}: sweep {run.id} ended {details['status']}: {details.get('error')}")


def _sweep_config(src: Path, script: str, sampling, metric: str, goal: str, trials: int,
                  arguments: list | None = None, policy=None, concurrency: int = CONCURRENCY):
    from runyard import HyperDriveConfig, ScriptRunConfig
    return HyperDriveConfig(run_config=ScriptRunConfig(str(src), script=script, arguments=arguments or []),
                            hyperparameter_sampling=sampling, policy=policy, primary_metric_name=metric,
                            primary_metric_goal=goal, max_total_runs=trials, max_concurrent_runs=concurrency)


def _values_logged(value: Any) -> list[float]:
    """A metric as ``get_metrics`` gives it (one value, or a list once logged again) as a list."""
    if value is None:
        return []
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]


# -- 1. trial overhead -----------------------------------------------------------------------
def trivial_values(trials: int) -> tuple[Any, list[float]]:
    from runyard import RandomParameterSampling, uniform
    sampling = RandomParameterSampling({"--x": uniform(0, 1)}, properties={"seed": 0})
    proposer = sampling.proposer()
    return sampling, [proposer.propose(i)["--x"] for i in range(trials)]


def by_hand(src: Path, values: list[float]) -> tuple[float, float]:
    """The trial commands through a pool of 2 processes, as a user would without a sweep: the
    wall clock, and the median time of one process."""
    def one(x: float) -> float:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "trivial_metric.py", "--x", str(x)], cwd=src,
                              capture_output=True, text=True)
        if done.returncode != 0 or not done.stdout.startswith("hi\n"):
            raise c.BrokenRun(f"trivial_metric.py --x {x} by hand failed: {done.stdout!r} {done.stderr[-1000:]!r}")
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        each = list(pool.map(one, values))
    return time.perf_counter() - t0, c.median(each)


#: a trial's recorded status changes, grouped: (label, from, to)
PHASES = (("launch: Queued -> Running", "Queued", "Running"),
          ("the script in the job: Running -> Finalizing", "Running", "Finalizing"),
          ("Finalizing -> Completed", "Finalizing", "Completed"))


def sweep_trivial(ws, src: Path, sampling, values: list[float]) -> tuple[float, dict[str, float]]:
    """Submit -> Completed of the sweep, and the median time of each phase of its trials."""
    from runyard import Experiment
    config = _sweep_config(src, "trivial_metric.py", sampling, "m", "MAXIMIZE", len(values))
    t0 = time.perf_counter()
    run = Experiment(ws, "overhead").submit(config)
    _wait(run, "trial overhead")
    elapsed = time.perf_counter() - t0
    children = run.get_children()
    details = [child.get_details() for child in children]
    statuses = {d["status"] for d in details}
    logged = sorted(v for m in run.get_metrics(name="m").values() for v in _values_logged(m.get("m")))
    if len(children) != len(values) or statuses != {"Completed"} or logged != sorted(values):
        raise c.BrokenRun(f"sweep {run.id}: {len(children)} trial(s) of {len(values)}, statuses {statuses}, "
                          f"{len(logged)} metric value(s), {'the' if logged == sorted(values) else 'not the'} "
                          f"values proposed")
    phases: dict[str, list[float]] = {label: [] for label, _, _ in PHASES}
    for d in details:
        at = {h["status"]: datetime.fromisoformat(h["timeUtc"]).timestamp() for h in d["statusHistory"]}
        for label, first, then in PHASES:
            if first in at and then in at:
                phases[label].append(at[then] - at[first])
    return elapsed, {label: c.median(v) for label, v in phases.items() if v}


def import_time(module: str, repeat: int = 3) -> float:
    """Median wall clock of ``python -c "import MODULE"``: what a process pays for it at start."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - t0)
    return c.median(times)


def raytune_available() -> bool:
    return RAYTUNE_PYTHON.is_file() and os.access(RAYTUNE_PYTHON, os.X_OK) and RAYTUNE_SCRIPT.is_file()


def raytune_trials(src: Path, values: list[float], work: Path) -> dict[str, Any]:
    """peers/raytune_peer.py with its venv: the same trial commands as Ray Tune trials."""
    values_file = work / "raytune-values.json"
    values_file.write_text(json.dumps(values))
    cmd = [str(RAYTUNE_PYTHON), str(RAYTUNE_SCRIPT), "trials", "--python", sys.executable, "--src", str(src),
           "--script", "trivial_metric.py", "--values", str(values_file), "--concurrency", str(CONCURRENCY),
           "--num-cpus", str(CONCURRENCY)]
    print(f"  peer: {' '.join(cmd[1:3])} ...", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=c.peer_env(), timeout=3600)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1]) if proc.returncode == 0 else None
    except (IndexError, json.JSONDecodeError):
        result = None
    if result is None:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise c.BrokenRun(f"Ray Tune peer failed (rc={proc.returncode}):\n{tail}")
    for fit in result["fits"]:
        if fit["errors"] or fit["trials"] != len(values) or not fit["values_ok"]:
            raise c.BrokenRun(f"Ray Tune peer (reuse_actors={fit['reuse_actors']}): {fit['trials']} trial(s) of "
                              f"{len(values)}, {fit['errors']} error(s), values reported "
                              f"{'right' if fit['values_ok'] else 'wrong'}: {fit['first_error']}")
    return result


def measure_overhead(ws, work: Path, trials: int, no_peer: bool) -> dict[str, Any]:
    src = work / "src-trivial"
    src.mkdir()
    (src / "trivial_metric.py").write_text(TRIVIAL)
    sampling, values = trivial_values(trials)
    print(f"\n[1/3] trial overhead: {trials} trivial trials, {CONCURRENCY} at a time\n", flush=True)
    subprocess.run([sys.executable, "trivial_metric.py", "--x", "0"], cwd=src, capture_output=True)  # warm cache
    print("by hand, 2-process pool ...", flush=True)
    hand_before, hand_process = by_hand(src, values)
    print("runyard sweep ...", flush=True)
    sweep, phases = sweep_trivial(ws, src, sampling, values)
    print("by hand again ...", flush=True)
    hand_after, _ = by_hand(src, values)
    hand = (hand_before + hand_after) / 2
    # what a job would pay if its Run.get_context() opened the SQL store (a local job's metrics go
    # through its spool instead) against runyard's own import
    imports = {module: import_time(module) for module in ("runyard", "runyard.store.sql")}
    tune = None
    if no_peer:
        print("Ray Tune: skipped (--no-peer)")
    elif not raytune_available():
        print(f"Ray Tune: no peer venv at {RAYTUNE_PYTHON} (run benchmarks/setup_peers.sh)")
    else:
        print("Ray Tune (its defaults, then reuse_actors=True) ...", flush=True)
        tune = raytune_trials(src, values, work)

    overhead = (sweep - hand) / trials
    rows = [["by hand, 2-process pool (mean of before/after)", c.fmt_s(hand), c.fmt_s(hand / trials), "-"],
            ["  before / after the sweep", f"{c.fmt_s(hand_before)} / {c.fmt_s(hand_after)}", "", ""],
            ["runyard sweep, submit -> Completed", c.fmt_s(sweep), c.fmt_s(sweep / trials), c.fmt_s(overhead)]]
    for fit in tune["fits"] if tune else []:
        rows.append([f"Ray Tune {tune['ray_version']}, Tuner.fit(), reuse_actors={fit['reuse_actors']}",
                     c.fmt_s(fit["fit_s"]), c.fmt_s(fit["fit_s"] / trials), c.fmt_s((fit["fit_s"] - hand) / trials)])
    if tune:
        rows.append(["  + ray.init (loopback, 2 CPUs), once, not counted", c.fmt_s(tune["init_s"]), "", ""])
    print(f"\n{trials} trials of trivial_metric.py, {CONCURRENCY} at a time (wall clock)\n")
    print(c.table(["", "total", "per trial", "overhead per trial"], rows))
    print("\none trial, median (a runyard trial's recorded status changes; the others timed around the process)\n")
    one = [["by hand: the process", c.fmt_s(hand_process)]]
    one += [[f"runyard, {label}", c.fmt_s(v)] for label, v in phases.items()]
    one += [[f"  reference: python -c 'import {module}'", c.fmt_s(v)] for module, v in imports.items()]
    one += [[f"Ray Tune, reuse_actors={fit['reuse_actors']}: the trainable in its actor",
             c.fmt_s(fit["trial_s_median"])] for fit in (tune["fits"] if tune else [])]
    print(c.table(["", "median"], one))
    fastest = min(tune["fits"], key=lambda fit: fit["fit_s"]) if tune else None
    ratio = fastest["fit_s"] / sweep if fastest else None
    over_tune = (sweep - fastest["fit_s"]) / trials if fastest else None
    if fastest:
        print(f"\nRay Tune's faster run / runyard's sweep: {ratio:.2f}x")
    return {"trials": trials, "by_hand_s": hand, "by_hand_before_s": hand_before, "by_hand_after_s": hand_after,
            "by_hand_process_median_s": hand_process, "import_s": imports, "sweep_s": sweep, "trial_phases_median_s": phases,
            "overhead_per_trial_s": overhead, "raytune": tune, "raytune_fastest_over_runyard": ratio,
            "overhead_per_trial_over_raytune_s": over_tune,
            "goals": [("sweep overhead per trial (vs by hand)", c.fmt_s(overhead),
                       f"<= {GOAL_OVERHEAD_PER_TRIAL_S} s", overhead <= GOAL_OVERHEAD_PER_TRIAL_S),
                      ("sweep overhead per trial (vs Ray Tune's faster run)",
                       "-" if over_tune is None else c.fmt_s(over_tune), f"<= {GOAL_OVERHEAD_PER_TRIAL_S} s",
                       None if over_tune is None else over_tune <= GOAL_OVERHEAD_PER_TRIAL_S)]}


# -- 2. early termination --------------------------------------------------------------------
def write_dataset(path: Path, samples: int, features: int) -> None:
    """A linear problem SGD needs many epochs for: informative and redundant features, label
    noise, and features on scales from 0.03 to 3 (raw, unscaled data), saved once for every trial."""
    import numpy as np
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=samples, n_features=features, n_informative=int(features * 0.3),
                               n_redundant=int(features * 0.1), n_clusters_per_class=1, flip_y=0.02,
                               class_sep=0.5, random_state=0)
    X *= 10 ** np.random.default_rng(0).uniform(-1.5, 0.5, features)
    np.savez(path, X=X.astype(np.float32), y=y.astype(np.int8))


def sweep_curves(ws, src: Path, name: str, policy, trials: int, epochs: int, data: Path) -> dict[str, Any]:
    """One sweep of the learning-curve script under ``policy`` (None: none); ``name`` labels it."""
    from runyard import Experiment, RandomParameterSampling, loguniform
    sampling = RandomParameterSampling({"--alpha": loguniform(math.log(1e-6), math.log(1e-1)),
                                        "--eta0": loguniform(math.log(1e-5), math.log(1e-1))},
                                       properties={"seed": 7})
    config = _sweep_config(src, "learning_curve.py", sampling, "accuracy", "MAXIMIZE", trials,
                           arguments=["--data", str(data), "--epochs", str(epochs)], policy=policy)
    t0 = time.perf_counter()
    run = Experiment(ws, f"early-{type(policy).__name__ if policy else 'none'}").submit(config)
    _wait(run, f"early termination, {name}")
    elapsed = time.perf_counter() - t0
    found = []
    for child in run.get_children():
        properties, details = child.get_properties(), child.get_details()
        found.append({"index": int(properties["hyperdrive.trial_index"]), "values": json.loads(properties["hyperparameters"]),
                      "status": details["status"], "stopped_by": properties.get("stopped_by"),
                      "running_s": _running_seconds(details["statusHistory"]),
                      "trace": _values_logged(child.get_metrics("accuracy").get("accuracy"))})
    found.sort(key=lambda t: t["index"])
    if len(found) != trials or any(t["status"] != ("Canceled" if t["stopped_by"] else "Completed") for t in found) \
            or any(len(t["trace"]) != epochs for t in found if not t["stopped_by"]):
        raise c.BrokenRun(f"sweep {run.id} ({name}): {[(t['index'], t['status'], len(t['trace'])) for t in found]}")
    return {"policy": name, "sweep_s": elapsed, "epochs": sum(len(t["trace"]) for t in found),
            "trial_seconds": sum(t["running_s"] for t in found),
            "best": max(max(t["trace"]) for t in found if t["trace"]), "stopped": sum(bool(t["stopped_by"]) for t in found),
            "trials": found}


def _running_seconds(history: list[dict[str, str]]) -> float:
    """How long a trial's process ran: from Running to Finalizing (or its last status)."""
    at = {h["status"]: datetime.fromisoformat(h["timeUtc"]).timestamp() for h in history}
    if "Running" not in at:
        return 0.0
    return at.get("Finalizing", max(at.values())) - at["Running"]


def replay(policy, traces: list[list[float]]) -> int:
    """Epochs a policy would let run on full traces taken in order, each trial compared with the
    ones before it (what a sweep one trial at a time does); a what-if on the no-policy traces."""
    seen: dict[str, list[float]] = {}
    for index, trace in enumerate(traces):
        name = str(index)
        seen[name] = []
        for value in trace:
            seen[name].append(value)
            if policy.applies_at(len(seen[name])) and policy.stop_reason(name, seen, len(seen[name]), maximize=True):
                break
    return sum(len(t) for t in seen.values())


def measure_early(ws, work: Path, quick: bool) -> dict[str, Any]:
    from runyard import BanditPolicy, MedianStoppingPolicy
    trials, epochs, samples, features = (4, 7, 6000, 40) if quick else (20, 20, 50000, 200)
    print(f"\n[2/3] early termination: {trials} trials x {epochs} epochs, {samples:,} samples x {features} "
          f"features, {CONCURRENCY} at a time\n", flush=True)
    src = work / "src-curve"
    src.mkdir()
    (src / "learning_curve.py").write_text(LEARNING_CURVE)
    data = work / "curve-data.npz"
    write_dataset(data, samples, features)
    # Bandit's slack: the best trials still gain ~3 accuracy points after epoch 5 and noisy ones
    # swing 2-3 points per epoch; 10% of ~0.75 (7.5 points) stops only trials that cannot catch up.
    policies = [("no policy", None),
                ("MedianStoppingPolicy(delay_evaluation=5)", MedianStoppingPolicy(delay_evaluation=5)),
                ("BanditPolicy(slack_factor=0.1, delay_evaluation=5)",
                 BanditPolicy(slack_factor=0.1, delay_evaluation=5))]
    results = []
    for name, policy in policies:
        print(f"sweep, {name} ...", flush=True)
        results.append(sweep_curves(ws, src, name, policy, trials, epochs, data))
    base = results[0]
    if any([t["values"] for t in r["trials"]] != [t["values"] for t in base["trials"]] for r in results):
        raise c.BrokenRun("the three sweeps did not try the same values in the same order (the sampling is seeded)")
    rows, goals = [], []
    for r in results:
        saved = 1 - r["epochs"] / base["epochs"]
        r["epochs_saved"] = saved
        rows.append([r["policy"], c.fmt_s(r["sweep_s"]), c.fmt_s(r["trial_seconds"]), f"{r['stopped']}/{trials}",
                     r["epochs"], f"{saved:.0%}", f"{r['best']:.4f}", f"{r['best'] / base['best'] - 1:+.2%}"])
        if r is not base:
            within = r["best"] >= base["best"] * (1 - GOAL_BEST_WITHIN)
            goals.append((f"{r['policy'].split('(')[0]}: epochs saved, best kept", f"{saved:.0%}, {r['best'] / base['best'] - 1:+.2%}",
                          f">= {GOAL_EPOCHS_SAVED:.0%}, >= -{GOAL_BEST_WITHIN:.1%}", saved >= GOAL_EPOCHS_SAVED and within))
    print(f"\nthe same {trials} seeded random trials, three policies (sweep: wall clock; trials: their processes' "
          f"running time, summed)\n")
    print(c.table(["", "sweep", "trials", "stopped", "epochs run", "saved", "best accuracy", "vs no policy"], rows))
    in_order = [t["trace"] for t in base["trials"]]
    what_if = [(f"BanditPolicy(slack_factor={s}, delay_evaluation=5)", BanditPolicy(slack_factor=s, delay_evaluation=5))
               for s in (0.1, 0.05, 0.02)] + [("MedianStoppingPolicy(delay_evaluation=5)", policies[1][1])]
    print("\nwhat-if, replayed on the no-policy traces one trial after another (no sweep run):")
    for name, policy in what_if:
        kept = replay(policy, in_order)
        print(f"  {name:<52} {kept:>5} epochs, {1 - kept / base['epochs']:.0%} saved")
    for r in results:  # per trial in the JSON: values, accuracy per epoch, why it stopped (to replay elsewhere)
        r["trials"] = [{"index": t["index"], "values": t["values"], "accuracy": [round(v, 5) for v in t["trace"]],
                        "running_s": t["running_s"], "stopped_by": t["stopped_by"]} for t in r["trials"]]
    return {"trials": trials, "epochs_per_trial": epochs, "samples": samples, "features": features,
            "sweeps": results, "goals": goals}


# -- 3. Bayesian sampling quality ------------------------------------------------------------
def branin(x: float, y: float) -> float:
    """Branin on [-5, 10] x [0, 15]; minimum 0.397887 (three places)."""
    b, c_, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x ** 2 + c_ * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


_H3_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H3_A = ((3.0, 10, 30), (0.1, 10, 35), (3.0, 10, 30), (0.1, 10, 35))
_H3_P = ((0.3689, 0.1170, 0.2673), (0.4699, 0.4387, 0.7470), (0.1091, 0.8732, 0.5547), (0.0381, 0.5743, 0.8828))


def hartmann3(x: float, y: float, z: float) -> float:
    """Hartmann-3 on [0, 1]^3; minimum -3.86278 at (0.1146, 0.5556, 0.8525)."""
    point = (x, y, z)
    return -sum(a * math.exp(-sum(A[j] * (point[j] - P[j]) ** 2 for j in range(3)))
                for a, A, P in zip(_H3_ALPHA, _H3_A, _H3_P))


def functions() -> list[dict[str, Any]]:
    from runyard import uniform
    return [{"name": "Branin", "minimum": 0.397887, "space": {"--x": uniform(-5, 10), "--y": uniform(0, 15)},
             "f": lambda v: branin(v["--x"], v["--y"])},
            {"name": "Hartmann-3", "minimum": -3.86278,
             "space": {"--x": uniform(0, 1), "--y": uniform(0, 1), "--z": uniform(0, 1)},
             "f": lambda v: hartmann3(v["--x"], v["--y"], v["--z"])}]


def best_found(sampling, f, trials: int) -> float:
    proposer = sampling.proposer(maximize=False, budget=trials)  # as a sweep of max_total_runs=trials
    best = math.inf
    for i in range(trials):
        values = proposer.propose(i)
        value = f(values)
        proposer.tell(values, value)
        best = min(best, value)
    return best


def sweep_branin(ws, src: Path, sampling, trials: int, concurrency: int) -> tuple[float, float]:
    """The best value of a real sweep of branin.py, and its wall clock."""
    from runyard import Experiment
    t0 = time.perf_counter()
    run = Experiment(ws, f"bayes-{sampling.kind}").submit(
        _sweep_config(src, "branin.py", sampling, "value", "MINIMIZE", trials, concurrency=concurrency))
    _wait(run, f"Branin sweep, {sampling.kind}")
    elapsed = time.perf_counter() - t0
    ranked = run.get_children_sorted_by_primary_metric()
    if len(ranked) != trials or any(t["status"] != "Completed" or t["best_primary_metric"] is None for t in ranked):
        raise c.BrokenRun(f"Branin sweep {run.id}: {[(t['run_id'], t['status']) for t in ranked]}")
    return ranked[0]["best_primary_metric"], elapsed


def real_branin_sweeps(ws, work: Path, seed: int, loop: dict[str, float]) -> dict[str, Any]:
    """Real sweeps of a script that evaluates Branin, one seed: TPE one trial at a time (as the
    proposer loop: it should find what the loop found), TPE and random 2 at a time (TPE then
    proposes before the running trials end, with Optuna's constant liar; random draws the same
    values either way)."""
    from runyard import BayesianParameterSampling, RandomParameterSampling
    space = functions()[0]["space"]
    trials = 20 * len(space)
    src = work / "src-branin"
    src.mkdir()
    (src / "branin.py").write_text(BRANIN_SCRIPT)
    print(f"\nreal sweeps of branin.py, seed {seed}, {trials} trials each ...", flush=True)
    sweeps = [("TPE", BayesianParameterSampling, 1, loop["tpe_best"]),
              ("TPE", BayesianParameterSampling, CONCURRENCY, None),
              ("random", RandomParameterSampling, CONCURRENCY, loop["random_best"])]
    rows, found = [], []
    for label, cls, concurrency, in_loop in sweeps:
        best, elapsed = sweep_branin(ws, src, cls(space, properties={"seed": seed}), trials, concurrency)
        found.append({"sampling": label, "concurrency": concurrency, "best": best, "sweep_s": elapsed,
                      "proposer_loop_best": in_loop})
        rows.append([f"{label}, {concurrency} at a time", f"{best:.4f}", "-" if in_loop is None else f"{in_loop:.4f}",
                     c.fmt_s(elapsed)])
    print(c.table([f"Branin, seed {seed}", "best, real sweep", "proposer loop", "sweep"], rows))
    tpe_beats = {"proposer loop": loop["tpe_best"] < loop["random_best"],
                 "real sweeps, TPE 1 at a time": found[0]["best"] < found[2]["best"],
                 f"real sweeps, TPE {CONCURRENCY} at a time": found[1]["best"] < found[2]["best"]}
    print("TPE beats random: " + "; ".join(f"{k}: {'yes' if v else 'no'}" for k, v in tpe_beats.items()))
    return {"seed": seed, "trials": trials, "sweeps": found, "tpe_beats_random": tpe_beats}


def measure_bayesian(ws, work: Path, seeds: list[int], real_sweeps: bool) -> dict[str, Any]:
    from runyard import BayesianParameterSampling, RandomParameterSampling
    print(f"\n[3/3] Bayesian sampling: TPE vs random, seeds {seeds[0]}..{seeds[-1]}, through the proposers "
          f"(one trial at a time, each told before the next is proposed)\n", flush=True)
    rows, goals, figures = [], [], []
    for fn in functions():
        trials = 20 * len(fn["space"])
        t0 = time.perf_counter()
        pairs = [(best_found(BayesianParameterSampling(fn["space"], properties={"seed": s}), fn["f"], trials),
                  best_found(RandomParameterSampling(fn["space"], properties={"seed": s}), fn["f"], trials))
                 for s in seeds]
        elapsed = time.perf_counter() - t0
        wins = sum(tpe < rnd for tpe, rnd in pairs)
        tpe_gap = c.median([tpe - fn["minimum"] for tpe, _ in pairs])
        rnd_gap = c.median([rnd - fn["minimum"] for _, rnd in pairs])
        rows.append([fn["name"], trials, f"{wins}/{len(seeds)}", f"{tpe_gap:.4f}", f"{rnd_gap:.4f}", c.fmt_s(elapsed)])
        needed = math.ceil(GOAL_TPE_WIN_SHARE * len(seeds) - 1e-9)
        goals.append((f"{fn['name']}: seeds where TPE beats random", f"{wins}/{len(seeds)}",
                      f">= {needed}/{len(seeds)}", wins >= needed))
        figures.append({"function": fn["name"], "trials": trials, "seeds": seeds, "tpe_wins": wins,
                        "pairs": [{"seed": s, "tpe_best": t, "random_best": r} for s, (t, r) in zip(seeds, pairs)],
                        "median_gap_tpe": tpe_gap, "median_gap_random": rnd_gap})
    print(c.table(["function", "trials", "TPE wins", "median gap to min, TPE", "random", "time"], rows))
    real = None
    if real_sweeps:
        real = real_branin_sweeps(ws, work, seeds[0], figures[0]["pairs"][0])
    return {"functions": figures, "real_sweeps": real, "goals": goals}


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=None, help="trials of the overhead sweep (default 100; --quick: 12)")
    p.add_argument("--seeds", type=int, default=None, help="seeds of the TPE/random comparison (default 10; --quick: 3)")
    p.add_argument("--seed-base", type=int, default=100, help="the first of those seeds (default 100)")
    p.add_argument("--parts", default=",".join(PARTS), help=f"which measurements, of {','.join(PARTS)} (default all)")
    args = p.parse_args()
    trials = args.trials or (12 if args.quick else 100)
    seeds = list(range(args.seed_base, args.seed_base + (args.seeds or (3 if args.quick else 10))))
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    if trials < 2 or any(part not in PARTS for part in parts):
        p.error(f"--trials must be >= 2 and --parts a list of {', '.join(PARTS)}")
    result: dict[str, Any] = {"bench": "hyperdrive", "concurrency": CONCURRENCY}
    with c.scratch(args.workdir, "runyard-bench-hyperdrive-") as work:
        from runyard import Workspace
        ws = Workspace.create(work / "ws" / ".runyard")
        print(c.load_note("start"))
        if "overhead" in parts:
            result["overhead"] = measure_overhead(ws, work, trials, args.no_peer)
        if "early" in parts:
            result["early_termination"] = measure_early(ws, work, args.quick)
        if "bayesian" in parts:
            result["bayesian"] = measure_bayesian(ws, work, seeds, real_sweeps=not args.quick)

    print("\nGoals")
    for part in result.values():
        if isinstance(part, dict):
            for label, value, goal, met in part.pop("goals"):
                print(c.goal_line(label, value, goal, met))
                part.setdefault("verdicts", {})[label] = c.verdict(met)
    c.finish(result, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
