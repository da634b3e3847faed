#!/usr/bin/env python
"""PyTorch DDP scaling on the local target: 1 vs 2 processes on a fixed synthetic task, samples/s.

Each run trains the same MLP (torch.distributed, Gloo) for --steps steps of --batch samples per
process; every process times its own loop after a warm-up step, and rank 0 logs the slowest
process's time, so the rate is (processes x steps x batch) / that time. Runs are submitted
with ScriptRunConfig(distributed_job_config=PyTorchConfiguration(process_count=N)) and the
submitting Python (which needs torch). Median of --repeat runs each, alternating.
Goal: 2 processes reach at least 1.5x the samples/s of 1 (on a machine with 2 or more cores).

    python benchmarks/bench_ddp_scaling.py [--repeat 3] [--steps 40] [--batch 2048]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_SPEEDUP = 1.5
TRAIN = '''\
import argparse, gc, os, time
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int)
parser.add_argument("--batch", type=int)
args = parser.parse_args()
torch.set_num_threads(1)  # one core per process: the scaling is the processes'
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(rank)
model = DistributedDataParallel(torch.nn.Sequential(
    torch.nn.Linear(64, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 1)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(args.batch, 64), torch.randn(args.batch, 1)

def step():
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()

step()  # warm-up: the first all-reduce sets up Gloo's buffers
dist.barrier()
started = time.perf_counter()
for _ in range(args.steps):
    step()
elapsed = torch.tensor([time.perf_counter() - started])
dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
if rank == 0:
    Run.get_context().log("loop_seconds", elapsed.item())
    Run.get_context().log("samples", float(world * args.steps * args.batch))
# Free DDP before the process group: with torch 2.13, a DDP model left to interpreter exit
# aborts about one exit in 30 ("terminate called without an active exception").
del model, optimizer
gc.collect()
dist.barrier()  # every process done before any tears the group down
dist.destroy_process_group()
'''


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=None, help="runs per process count (default 3)")
    p.add_argument("--steps", type=int, default=None, help="training steps per run (default 40)")
    p.add_argument("--batch", type=int, default=2048, help="samples per process per step")
    args = p.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)
    steps = args.steps or (10 if args.quick else 40)
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise c.BrokenRun("torch is not installed in this Python (pip install torch==2.13.0)") from e

    from runyard import Experiment, PyTorchConfiguration, ScriptRunConfig, Workspace
    rates: dict[int, list[float]] = {1: [], 2: []}
    with c.scratch(args.workdir, "runyard-bench-ddp-") as work:
        print(c.load_note("start"))
        src = work / "src"
        src.mkdir()
        (src / "train.py").write_text(TRAIN)
        ws = Workspace.create(work / "ws" / ".runyard")
        exp = Experiment(ws, "ddp-scaling")
        for i in range(repeat):
            for processes in (1, 2):
                print(f"round {i + 1}/{repeat}: {processes} process(es) ...", flush=True)
                run = exp.submit(ScriptRunConfig(
                    str(src), script="train.py", arguments=["--steps", steps, "--batch", args.batch],
                    distributed_job_config=PyTorchConfiguration(process_count=processes)))
                details = run.wait_for_completion(raise_on_error=False)
                if details["status"] != "Completed":
                    raise c.BrokenRun(f"run {run.id} ended {details['status']}: {details['error']}")
                metrics = run.get_metrics()
                rates[processes].append(metrics["samples"] / metrics["loop_seconds"])

    one, two = c.median(rates[1]), c.median(rates[2])
    print(f"\nDDP training throughput on the local target ({os.cpu_count()} CPUs; {steps} steps x "
          f"{args.batch} samples per process)\n")
    print(c.table(["processes", "median samples/s", "min", "max", "n"], [
        [n, f"{c.median(r):,.0f}", f"{min(r):,.0f}", f"{max(r):,.0f}", len(r)] for n, r in rates.items()]))
    speedup = two / one
    print("\nGoals")
    print(c.goal_line("2 processes / 1 process (samples/s)", f"{speedup:.2f}x", f">= {GOAL_SPEEDUP}x",
                      speedup >= GOAL_SPEEDUP))
    c.finish({"bench": "ddp_scaling", "repeat": repeat, "steps": steps, "batch": args.batch,
              "samples_per_s": rates, "speedup": speedup}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
