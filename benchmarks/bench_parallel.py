#!/usr/bin/env python
"""Many models: a LinearRegression fit and model dump per partition, on 2 worker processes.

Measured (wall clock; the same function on the same partitions' files, one per partition):
  multiprocessing   `python peer.py`: `multiprocessing.Pool(2).map` over the partitions' files
                    (the peer, written by hand: read the file, fit, dump)
  runyard           a pipeline of one ParallelRunStep (local target, partition_keys, 2 worker
                    processes), submit -> Completed
  runyard + models  the same step registering each partition's model as it goes
                    (`EntryScript().register_model(..., partition=...)`), written in bulk
  Ray tasks         `python ray_peer.py`: the same function as a `@ray.remote` task per
                    partition's file on a loopback Ray cluster of one 2-CPU node (the peer)
  runyard on Ray    the step on a RayCluster target of that cluster: 2 actors
  R mclapply        `Rscript peer.R`: `parallel::mclapply(mc.cores = 2)` over the partitions'
                    CSV files with an R fit (lm + saveRDS) (the peer)
  runyard, R        the step with that R function in an R entry script, 2 R workers
Goals: runyard <= 1.25x multiprocessing (<= 2 ms overhead per partition); model registration
<= 5 ms per model on SQLite (runyard + models - runyard, per model); runyard on Ray <= 1.25x
Ray tasks; runyard with R <= 1.5x mclapply (1,000 partitions: --r-partitions).

    python benchmarks/bench_parallel.py [--partitions 10000] [--r-partitions 1000] [--rows 200]
        [--repeat 1] [--sections local,ray,r] [--quick]
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_RATIO = 1.25
GOAL_OVERHEAD_S = 0.002
GOAL_REGISTER_S = 0.005
GOAL_RAY_RATIO = 1.25
GOAL_R_RATIO = 1.5
WORKERS = 2
SECTIONS = ("local", "ray", "r")
TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"

FIT = """\
import os
import pickle

from sklearn.linear_model import LinearRegression

FEATURES = ["x1", "x2", "x3"]


def fit_and_dump(frame, out, part):
    model = LinearRegression().fit(frame[FEATURES], frame["y"])
    path = os.path.join(out, f"model-{part}.pkl")
    with open(path, "wb") as fh:
        pickle.dump(model, fh)
    return path
"""

ENTRY = """\
import argparse

from fit import fit_and_dump
from runyard.parallel_run import EntryScript


def init():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--register", action="store_true")
    args = parser.parse_known_args()[0]


def run(mini_batch, mini_batch_context):
    part = mini_batch_context.partition_key_value["part"]
    path = fit_and_dump(mini_batch, args.out, part)
    if args.register:
        EntryScript().register_model("bench", path, partition=mini_batch_context.partition_key_value)
    return [part]
"""

PEER = """\
import glob
import os
import sys
from multiprocessing import Pool

import pandas as pd

from fit import fit_and_dump

OUT = sys.argv[2] if len(sys.argv) > 2 else None


def fit_file(path):
    return fit_and_dump(pd.read_parquet(path), OUT, os.path.basename(os.path.dirname(path)))


if __name__ == "__main__":
    paths = sorted(glob.glob(os.path.join(sys.argv[1], "*", "part-0.parquet")))
    with Pool(2) as pool:
        print(len(pool.map(fit_file, paths)))
"""


RAY_PEER = """\
import glob
import os
import sys

import pandas as pd
import ray

from fit import fit_and_dump


@ray.remote(num_cpus=1)
def fit_file(path, out):
    return fit_and_dump(pd.read_parquet(path), out, os.path.basename(os.path.dirname(path)))


if __name__ == "__main__":
    paths = sorted(glob.glob(os.path.join(sys.argv[1], "*", "part-0.parquet")))
    ray.init(address=sys.argv[3], runtime_env={"working_dir": os.path.dirname(os.path.abspath(__file__))},
             log_to_driver=False)
    print(len(ray.get([fit_file.remote(path, sys.argv[2]) for path in paths])))
"""

R_FIT = """\
fit_and_dump <- function(frame, out, part) {
  model <- lm(y ~ x1 + x2 + x3, data = frame)
  path <- file.path(out, paste0("model-", part, ".rds"))
  saveRDS(model, path)
  path
}
"""

R_ENTRY = """\
out <- NULL
init <- function() {
  args <- commandArgs(trailingOnly = TRUE)
  out <<- args[[match("--out", args) + 1]]
  source("fit.R")
}
run <- function(mini_batch, mini_batch_context) {
  part <- mini_batch_context$partition_key_value$part
  fit_and_dump(mini_batch, out, part)
  part
}
"""

R_PEER = """\
args <- commandArgs(trailingOnly = TRUE)
source("fit.R")
files <- list.files(args[[1]], pattern = "part-0[.]csv$", recursive = TRUE, full.names = TRUE)
done <- parallel::mclapply(files, function(f) fit_and_dump(read.csv(f), args[[2]], basename(dirname(f))),
                           mc.cores = 2)
cat(length(done), "\\n")
"""


def make_data(root: Path, partitions: int, rows: int) -> None:
    """``root/<part>/part-0.parquet`` (the layout ``partition_by`` writes), each partition a
    linear relation of its own plus noise; the same every time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = np.random.default_rng(7)
    for index in range(partitions):
        x = rng.normal(size=(rows, 3))
        y = x @ rng.normal(size=3) + rng.normal(scale=0.1, size=rows)
        folder = root / f"P{index:05d}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "y": y}), folder / "part-0.parquet")


def make_csv_copies(parquet_root: Path, csv_root: Path, partitions: int) -> None:
    """The first ``partitions`` partitions again as CSV files (what R reads without arrow)."""
    import pandas as pd
    for folder in sorted(parquet_root.iterdir())[:partitions]:
        (csv_root / folder.name).mkdir(parents=True)
        pd.read_parquet(folder / "part-0.parquet").to_csv(csv_root / folder.name / "part-0.csv", index=False)


def models_in(folder: Path, suffix: str = "pkl") -> int:
    return sum(1 for _ in folder.glob(f"model-*.{suffix}"))


def command_peer(argv: list[str], src: Path, out: Path, partitions: int, what: str, suffix: str = "pkl") -> float:
    """A hand-written peer's wall time, start to end of its process."""
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=src, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0 or models_in(out, suffix) != partitions:
        raise c.BrokenRun(f"the {what} peer failed or lost models (rc={done.returncode}, "
                          f"{models_in(out, suffix)} of {partitions}): {done.stderr[-2000:]}")
    return elapsed


def runyard_side(ws, src: Path, dataset, out: Path, partitions: int, register: bool, target: str = "local",
                 entry: str = "entry.py") -> tuple[float, float | None]:
    """Submit -> Completed of the step; and, registering, the step's own time writing the models."""
    from runyard import Experiment
    from runyard.pipeline import Pipeline
    from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep
    out.mkdir(parents=True)
    config = ParallelRunConfig(environment=None, entry_script=entry, source_directory=str(src),
                               partition_keys=["part"], error_threshold=-1, output_action="summary_only",
                               compute_target=target, node_count=1, process_count_per_node=WORKERS,
                               run_invocation_timeout=60, run_max_try=1)
    step = ParallelRunStep("fit", config, inputs=[dataset.as_named_input("parts")], allow_reuse=False,
                           arguments=["--out", str(out)] + (["--register"] if register else []))
    t0 = time.perf_counter()
    run = Experiment(ws, "bench-parallel").submit(Pipeline(ws, [step]))
    details = run.wait_for_completion(raise_on_error=False)
    elapsed = time.perf_counter() - t0
    (step_run,) = run.find_step_run("fit")
    if details["status"] != "Completed" or step_run.get_status() != "Completed":
        raise c.BrokenRun(f"pipeline run {run.id} ended {details['status']}: {step_run.get_details().get('error')}")
    rows = step_run.get_partition_results()
    suffix = "rds" if entry.endswith(".R") else "pkl"
    if len(rows) != partitions or any(r["status"] != "Succeeded" for r in rows) or models_in(out, suffix) != partitions:
        raise c.BrokenRun(f"step run {step_run.id}: {sum(r['status'] == 'Succeeded' for r in rows)} of {partitions} "
                          f"partitions succeeded, {models_in(out, suffix)} models dumped")
    if not register:
        return elapsed, None
    if sorted(len(r["models"]) for r in rows) != [1] * partitions:
        raise c.BrokenRun(f"step run {step_run.id}: not one model per partition")
    found = re.search(r"(\d+) model\(s\) registered in bulk in ([\d.]+) s", step_run.get_log())
    if found is None or int(found.group(1)) != partitions:
        raise c.BrokenRun(f"step run {step_run.id} does not say it registered {partitions} models")
    return elapsed, float(found.group(2))


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--partitions", type=int, default=None, help="partitions (default 10000; --quick: 100)")
    p.add_argument("--r-partitions", type=int, default=None, help="partitions for R (default 1000; --quick: 100)")
    p.add_argument("--rows", type=int, default=200, help="rows per partition (default 200)")
    p.add_argument("--repeat", type=int, default=1, help="rounds of each comparison, alternating (median)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"which comparisons, comma-separated (default all: {','.join(SECTIONS)})")
    args = p.parse_args()
    sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown or not sections:
        p.error(f"--sections: {', '.join(unknown) or 'none given'}; choose from {', '.join(SECTIONS)}")
    partitions = args.partitions or (100 if args.quick else 10_000)
    r_partitions = min(partitions, args.r_partitions or (100 if args.quick else 1_000))
    result: dict = {"bench": "parallel", "partitions": partitions, "rows": args.rows, "workers": WORKERS,
                    "repeat": args.repeat, "sections": sections}
    goals: list[str] = []
    with c.scratch(args.workdir, "runyard-bench-parallel-") as work:
        from runyard import Dataset, Datastore, Workspace
        src = work / "src"
        src.mkdir()
        for name, text in (("fit.py", FIT), ("entry.py", ENTRY), ("peer.py", PEER), ("ray_peer.py", RAY_PEER),
                           ("fit.R", R_FIT), ("entry.R", R_ENTRY), ("peer.R", R_PEER)):
            (src / name).write_text(text)
        ws = Workspace.create(work / "ws" / ".runyard")
        print(c.load_note("start"))
        print(f"{partitions} partitions x {args.rows} rows, {WORKERS} workers; making the data ...", flush=True)
        parts = work / "data" / "parts"
        make_data(parts, partitions, args.rows)
        store = Datastore.register_local(ws, "bench", str(work / "data"))
        dataset = Dataset.Tabular.from_parquet_files((store, "parts"), partition_format="/{part}/part-0.parquet")
        if "local" in sections:
            local_section(ws, src, dataset, parts, work, partitions, args, result, goals)
        if "ray" in sections:
            ray_section(ws, src, dataset, parts, work, partitions, args, result, goals)
        if "r" in sections:
            make_csv_copies(parts, work / "data" / "csv", r_partitions)
            csv = Dataset.Tabular.from_delimited_files((store, "csv"), partition_format="/{part}/part-0.csv")
            r_section(ws, src, csv, work, r_partitions, args, result, goals)
    print("\nGoals")
    print("\n".join(goals))
    c.finish(result, args.json)


def local_section(ws, src, dataset, parts, work, partitions, args, result, goals) -> None:
    peer, plain, registering, writing = [], [], [], []
    for round_ in range(args.repeat):
        print(f"round {round_ + 1}: multiprocessing.Pool ...", flush=True)
        peer.append(command_peer([sys.executable, "peer.py", str(parts), str(work / f"peer{round_}")], src,
                                 work / f"peer{round_}", partitions, "multiprocessing"))
        print(f"round {round_ + 1}: runyard ...", flush=True)
        plain.append(runyard_side(ws, src, dataset, work / f"plain{round_}", partitions, False)[0])
        print(f"round {round_ + 1}: runyard registering a model per partition ...", flush=True)
        elapsed, seconds = runyard_side(ws, src, dataset, work / f"reg{round_}", partitions, True)
        registering.append(elapsed)
        writing.append(seconds)
        registered = len(ws._store.list_assets("model"))
        if registered != partitions * (round_ + 1):  # each round adds a version of each partition's model
            raise c.BrokenRun(f"{registered} model versions registered after round {round_ + 1}, not "
                              f"{partitions * (round_ + 1)}")
    peer_s, plain_s, reg_s, write_s = (c.median(v) for v in (peer, plain, registering, writing))
    ratio = plain_s / peer_s
    overhead = (plain_s - peer_s) / partitions
    per_model = (reg_s - plain_s) / partitions
    print(f"\n{partitions} partitions x {args.rows} rows, LinearRegression fit + pickle dump each, "
          f"{WORKERS} workers (wall clock, median of {args.repeat})\n")
    print(c.table(["", "total", "per partition"], [
        ["multiprocessing.Pool(2).map (peer)", c.fmt_s(peer_s), c.fmt_s(peer_s / partitions)],
        ["runyard ParallelRunStep", c.fmt_s(plain_s), c.fmt_s(plain_s / partitions)],
        ["runyard, registering each model", c.fmt_s(reg_s), c.fmt_s(reg_s / partitions)],
        ["  of which the bulk writes (coordinator)", c.fmt_s(write_s), c.fmt_s(write_s / partitions)],
    ]))
    print(f"\nrunyard / multiprocessing: {ratio:.2f}x (each round: "
          f"{', '.join(f'{r / p_:.2f}x' for r, p_ in zip(plain, peer))}; other processes on the machine move "
          f"single rounds)", flush=True)
    goals.append(c.goal_line("runyard / multiprocessing.Pool(2)", f"{ratio:.2f}x", f"<= {GOAL_RATIO}x",
                             ratio <= GOAL_RATIO))
    goals.append(c.goal_line("overhead per partition (vs the pool)", c.fmt_s(overhead),
                             f"<= {GOAL_OVERHEAD_S * 1000:g} ms", overhead <= GOAL_OVERHEAD_S))
    goals.append(c.goal_line("model registration per model (SQLite)", c.fmt_s(per_model),
                             f"<= {GOAL_REGISTER_S * 1000:g} ms", per_model <= GOAL_REGISTER_S))
    result.update({"peer_s": peer, "runyard_s": plain, "runyard_registering_s": registering,
                   "bulk_write_s": writing, "ratio": ratio, "overhead_per_partition_s": overhead,
                   "registration_per_model_s": per_model})


def ray_section(ws, src, dataset, parts, work, partitions, args, result, goals) -> None:
    """Both sides on one loopback cluster: a head node of 2 CPUs (the machine's)."""
    from runyard import RayCluster
    sys.path.insert(0, str(TESTS_DIR))
    from ray_services import LoopbackCluster, RayServiceError
    print("starting a loopback Ray cluster (one node, 2 CPUs) ...", flush=True)
    cluster = LoopbackCluster(work / "ray", head_cpus=WORKERS)
    try:
        cluster.start()
    except RayServiceError as e:
        cluster.stop()
        raise c.BrokenRun(str(e)) from e
    try:
        ws.compute_targets.attach("ray", RayCluster(address=cluster.address))
        gcs = f"127.0.0.1:{cluster.gcs_port}"
        peer, ours = [], []
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}: Ray tasks ...", flush=True)
            out = work / f"raypeer{round_}"
            peer.append(command_peer([sys.executable, "ray_peer.py", str(parts), str(out), gcs], src, out,
                                     partitions, "Ray tasks"))
            print(f"round {round_ + 1}: runyard on Ray ...", flush=True)
            ours.append(runyard_side(ws, src, dataset, work / f"ray{round_}", partitions, False, target="ray")[0])
    finally:
        cluster.stop()
    ratio = report(f"{partitions} partitions on a loopback Ray cluster (1 node, {WORKERS} CPUs)", args.repeat,
                   ("Ray tasks by hand (peer)", peer), ("runyard ParallelRunStep on Ray", ours), partitions)
    goals.append(c.goal_line("runyard on Ray / Ray tasks", f"{ratio:.2f}x", f"<= {GOAL_RAY_RATIO}x",
                             ratio <= GOAL_RAY_RATIO))
    result.update({"ray_peer_s": peer, "ray_runyard_s": ours, "ray_ratio": ratio})


def r_section(ws, src, dataset, work, partitions, args, result, goals) -> None:
    import shutil
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise c.BrokenRun("the R comparison needs Rscript (apt-get install r-base-core), or --sections local,ray")
    peer, ours = [], []
    for round_ in range(args.repeat):
        print(f"round {round_ + 1}: R parallel::mclapply ...", flush=True)
        out = work / f"rpeer{round_}"
        peer.append(command_peer([rscript, "peer.R", str(work / "data" / "csv"), str(out)], src, out, partitions,
                                 "mclapply", suffix="rds"))
        print(f"round {round_ + 1}: runyard with an R entry script ...", flush=True)
        ours.append(runyard_side(ws, src, dataset, work / f"r{round_}", partitions, False, entry="entry.R")[0])
    ratio = report(f"{partitions} partitions in R, lm + saveRDS each, {WORKERS} workers", args.repeat,
                   ("parallel::mclapply(mc.cores = 2) (peer)", peer),
                   ("runyard ParallelRunStep, R entry script", ours), partitions)
    goals.append(c.goal_line(f"R: runyard / mclapply ({partitions} partitions)", f"{ratio:.2f}x",
                             f"<= {GOAL_R_RATIO}x", ratio <= GOAL_R_RATIO))
    result.update({"r_partitions": partitions, "r_peer_s": peer, "r_runyard_s": ours, "r_ratio": ratio})


def report(title: str, repeat: int, peer: tuple[str, list[float]], ours: tuple[str, list[float]],
           partitions: int) -> float:
    """The two sides' medians as a table; runyard's ratio to the peer."""
    print(f"\n{title} (wall clock, median of {repeat})\n")
    print(c.table(["", "total", "per partition"], [
        [label, c.fmt_s(c.median(times)), c.fmt_s(c.median(times) / partitions)] for label, times in (peer, ours)
    ]), flush=True)
    return c.median(ours[1]) / c.median(peer[1])


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
