#!/usr/bin/env python
"""Submit overhead on a Ray cluster: a trivial script (print("hi")) to done, runyard's Ray target vs `ray job submit`.

Measured on the same loopback cluster (a head and a worker node, started here unless
--address names one), median of --repeat runs each, alternating (wall clock):
  ray       `ray job submit --address URL --working-dir SRC -- python trivial.py`
            (the CLI waits for the job and prints its logs)
  runyard   Experiment(ws, "bench").submit(ScriptRunConfig(SRC, script="trivial.py",
            compute_target="ray")).wait_for_completion(), with a workspace folder
  sdk       (reference) Ray's Jobs SDK in this process: submit_job(working_dir=SRC), then
            get_job_status every 50 ms until it ends; no CLI start-up, no log tailing
Both get one untimed warm-up run first (each uploads its working directory once).
Goal: runyard time / ray job submit time <= 0.5.

    python benchmarks/bench_ray_submit.py [--repeat 5] [--address http://127.0.0.1:8265] [--quick]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_RATIO = 0.5
TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"


def ray_cli() -> str:
    found = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if not found:
        raise c.BrokenRun("the `ray` command is not installed: pip install 'ray[default]'")
    return found


def time_ray_cli(address: str, src: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    t0 = time.perf_counter()
    proc = subprocess.run([ray_cli(), "job", "submit", "--address", address, "--working-dir", str(src),
                           "--", "python", "trivial.py"], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 or "hi" not in proc.stdout.splitlines():
        raise c.BrokenRun(f"ray job submit failed (rc={proc.returncode}):\n{(proc.stdout + proc.stderr)[-1500:]}")
    return elapsed


def time_sdk(client, src: Path) -> float:
    t0 = time.perf_counter()
    job = client.submit_job(entrypoint="python trivial.py", runtime_env={"working_dir": str(src)})
    while True:
        status = client.get_job_status(job)
        if str(getattr(status, "value", status)) in ("SUCCEEDED", "FAILED", "STOPPED"):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    if str(getattr(status, "value", status)) != "SUCCEEDED" or "hi" not in client.get_job_logs(job).splitlines():
        raise c.BrokenRun(f"Ray job {job} ended {status}:\n{client.get_job_logs(job)[-800:]}")
    return elapsed


def time_runyard(ws, src: Path) -> float:
    from runyard import Experiment, ScriptRunConfig
    t0 = time.perf_counter()
    run = Experiment(ws, "bench").submit(ScriptRunConfig(str(src), script="trivial.py", compute_target="ray"))
    details = run.wait_for_completion(raise_on_error=False)
    elapsed = time.perf_counter() - t0
    if details["status"] != "Completed":
        raise c.BrokenRun(f"run {run.id} ended {details['status']}: {details.get('error')}")
    log = Path(details["logFiles"]["logs/driver.log"]).read_text()
    if "hi" not in log.splitlines():
        raise c.BrokenRun(f"run {run.id}: logs/driver.log does not hold the script's output 'hi':\n{log[-800:]}")
    return elapsed


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=None, help="timed runs each (default 5)")
    p.add_argument("--address", default=None, help="an existing cluster's dashboard address (default: start one)")
    args = p.parse_args()
    repeat = args.repeat or (1 if args.quick else 5)

    with c.scratch(args.workdir, "runyard-bench-ray-") as work:
        from runyard import RayCluster, Workspace
        cluster = None
        address = args.address
        if address is None:
            sys.path.insert(0, str(TESTS_DIR))
            from ray_services import LoopbackCluster, RayServiceError
            print("starting a loopback Ray cluster (a head and a worker node) ...", flush=True)
            cluster = LoopbackCluster(work / "ray")
            try:
                cluster.start()
                cluster.add_worker(num_cpus=2)
            except RayServiceError as e:
                cluster.stop()
                raise c.BrokenRun(str(e)) from e
            address = cluster.address
        try:
            print(c.load_note("start"))
            src = c.write_trivial_source(work)
            ws = Workspace.create(work / "ws" / ".runyard")
            ws.compute_targets.attach("ray", RayCluster(address=address))
            from ray.job_submission import JobSubmissionClient
            client = JobSubmissionClient(address)
            print("warm-up: one untimed run each ...", flush=True)
            time_ray_cli(address, src)
            time_runyard(ws, src)
            time_sdk(client, src)
            ray_times, runyard_times, sdk_times = [], [], []
            for i in range(repeat):
                print(f"round {i + 1}/{repeat} ...", flush=True)
                ray_times.append(time_ray_cli(address, src))
                runyard_times.append(time_runyard(ws, src))
                sdk_times.append(time_sdk(client, src))
        finally:
            if cluster is not None:
                cluster.stop()

    ray_m, runyard_m = c.median(ray_times), c.median(runyard_times)
    print("\nSubmit -> done, trivial script on the Ray cluster (wall clock)\n")
    print(c.table(["", "median", "min", "max", "n"], [
        ["ray job submit --working-dir", c.fmt_s(ray_m), c.fmt_s(min(ray_times)), c.fmt_s(max(ray_times)), repeat],
        ["runyard, RayCluster target", c.fmt_s(runyard_m), c.fmt_s(min(runyard_times)),
         c.fmt_s(max(runyard_times)), repeat],
        ["(reference) Ray Jobs SDK, in process", c.fmt_s(c.median(sdk_times)), c.fmt_s(min(sdk_times)),
         c.fmt_s(max(sdk_times)), repeat]]))
    print("(runyard's figure includes its supervisor process, the status history, copying the job's "
          "output to logs/driver.log and waiting for Completed to be recorded)")
    ratio = runyard_m / ray_m
    print("\nGoals")
    print(c.goal_line("runyard time / ray job submit time", f"{ratio:.2f}", f"<= {GOAL_RATIO}", ratio <= GOAL_RATIO))
    c.finish({"bench": "ray_submit", "repeat": repeat, "ray_job_submit_s": ray_times,
              "runyard_s": runyard_times, "ray_sdk_s": sdk_times, "ratio": ratio}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
