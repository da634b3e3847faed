#!/usr/bin/env python
"""Pipeline overhead: a chain of N trivial steps, each reading the previous step's output.

Measured (wall clock, on the local target, the submitting interpreter as environment):
  by hand    the same N scripts run one after another as `python step.py --data IN --out OUT`
  first run  Experiment.submit(Pipeline(...)) -> Completed, every step executed
  reused     the same pipeline submitted again -> Completed, every step reused
Per-step figures: (first run - by hand) / N per executed step, reused / N per reused step.
Goals: under 0.3 s per executed step; under 20 ms per reused step.

    python benchmarks/bench_pipeline_chain.py [--steps 50] [--quick]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_EXECUTED_S = 0.3
GOAL_REUSED_S = 0.020

STEP = """\
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--data"); p.add_argument("--out"); p.add_argument("--index")
a = p.parse_args()
count = int(open(os.path.join(a.data, "count.txt")).read()) if a.data else 0
with open(os.path.join(a.out, "count.txt"), "w") as fh:
    fh.write(str(count + 1))
"""


def by_hand(src: Path, work: Path, steps: int) -> float:
    """Run the chain's scripts one after another, as a user would without a pipeline."""
    t0 = time.perf_counter()
    previous = None
    for index in range(steps):
        out = work / f"out{index}"
        out.mkdir(parents=True)
        argv = [sys.executable, "step.py", "--out", str(out), "--index", str(index)]
        if previous is not None:
            argv += ["--data", str(previous)]
        done = subprocess.run(argv, cwd=src, capture_output=True, text=True)
        if done.returncode != 0:
            raise c.BrokenRun(f"step {index} by hand failed: {done.stderr}")
        previous = out
    elapsed = time.perf_counter() - t0
    if (previous / "count.txt").read_text() != str(steps):
        raise c.BrokenRun("the chain by hand did not count its steps")
    return elapsed


def chain(ws, src: Path, steps: int):
    from runyard.pipeline import OutputFileDatasetConfig, Pipeline, PythonScriptStep
    built, previous = [], None
    for index in range(steps):
        out = OutputFileDatasetConfig(f"out{index}")
        arguments = ["--out", out, "--index", index]
        if previous is not None:
            arguments += ["--data", previous.as_input()]
        built.append(PythonScriptStep("step.py", name=f"step{index}", arguments=arguments, source_directory=src))
        previous = out
    return Pipeline(ws, built, max_concurrent_steps=1)


def submit(ws, pipeline, steps: int, reused: bool) -> float:
    from runyard import Experiment
    t0 = time.perf_counter()
    run = Experiment(ws, "chain").submit(pipeline)
    details = run.wait_for_completion(raise_on_error=False)
    elapsed = time.perf_counter() - t0
    if details["status"] != "Completed":
        raise c.BrokenRun(f"pipeline run {run.id} ended {details['status']}: {details.get('error')}")
    reuse = run.get_step_reuse()
    if len(reuse) != steps or any((r is not None) != reused for r in reuse.values()):
        raise c.BrokenRun(f"pipeline run {run.id}: expected every step {'reused' if reused else 'run'}: {reuse}")
    if not reused:
        (last,) = run.find_step_run(f"step{steps - 1}")
        count = Path(last.download_file(f"outputs/out{steps - 1}/count.txt",
                                        str(Path(ws.path).parent / "last.txt"))).read_text()
        if count != str(steps):
            raise c.BrokenRun(f"pipeline run {run.id}: the last step counted {count}, not {steps}")
    return elapsed


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=None, help="steps in the chain (default 50; --quick: 8)")
    args = p.parse_args()
    steps = args.steps or (8 if args.quick else 50)
    if steps < 2:
        p.error("--steps must be >= 2")
    with c.scratch(args.workdir, "runyard-bench-chain-") as work:
        from runyard import Workspace
        src = work / "src"
        src.mkdir()
        (src / "step.py").write_text(STEP)
        ws = Workspace.create(work / "ws" / ".runyard")
        print(c.load_note("start"))
        print(f"a chain of {steps} steps, one at a time, on the local target\n", flush=True)
        print("by hand ...", flush=True)
        hand = by_hand(src, work / "hand", steps)
        print("pipeline, first run ...", flush=True)
        first = submit(ws, chain(ws, src, steps), steps, reused=False)
        print("pipeline, every step reused ...", flush=True)
        again = submit(ws, chain(ws, src, steps), steps, reused=True)

    executed = (first - hand) / steps
    reused = again / steps
    print(f"\n{steps} trivial steps in a chain (wall clock)\n")
    print(c.table(["", "total", "per step"], [
        ["by hand, one after another", c.fmt_s(hand), c.fmt_s(hand / steps)],
        ["pipeline, first run", c.fmt_s(first), c.fmt_s(first / steps)],
        ["pipeline, all reused", c.fmt_s(again), c.fmt_s(reused)],
    ]))
    print(f"\npipeline first run / by hand: {first / hand:.2f}x")
    print("\nGoals")
    print(c.goal_line("overhead per executed step (vs by hand)", c.fmt_s(executed),
                      f"< {GOAL_EXECUTED_S} s", executed < GOAL_EXECUTED_S))
    print(c.goal_line("time per reused step", c.fmt_s(reused), f"< {GOAL_REUSED_S * 1000:g} ms",
                      reused < GOAL_REUSED_S))
    c.finish({"bench": "pipeline_chain", "steps": steps, "by_hand_s": hand, "first_run_s": first,
              "reused_run_s": again, "overhead_per_executed_step_s": executed,
              "per_reused_step_s": reused}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
