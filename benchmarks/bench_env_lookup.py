#!/usr/bin/env python
"""Cached environment lookup: runyard.compute.local_env.materialise(env, log) on a cache hit.

Builds Environment("bench") (no packages: a uv venv holding runyard's client
requirements) once in a fresh RUNYARD_CACHE_DIR and times that cold build (the
peer figure; uv's own package cache is left as it is, so this is the fastest a
cold build gets here). Then, median of --calls calls each:
  env.hash                      the canonical spec hash
  materialise(env, log)         the cache hit itself (it computes env.hash too)
  Environment(**spec) + materialise   what the supervisor does per run
Goal: cached lookup < 50 ms.

    python benchmarks/bench_env_lookup.py [--calls 50] [--quick]
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_LOOKUP_S = 0.050


def timed(fn, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=None, help="timed lookups (default 50)")
    args = p.parse_args()
    calls = args.calls or (10 if args.quick else 50)
    if calls < 1:
        p.error("--calls must be >= 1")

    with c.scratch(args.workdir, "runyard-bench-env-"):
        # A cache folder of our own, empty, so the first materialise is a real build.
        cache = Path(os.environ["RUNYARD_CACHE_DIR"]) / f"env-lookup-{os.getpid()}"
        if cache.exists():
            raise c.BrokenRun(f"{cache} exists; expected a fresh cache folder")
        os.environ["RUNYARD_CACHE_DIR"] = str(cache)
        print(c.load_note("start"))
        print(f"RUNYARD_CACHE_DIR {cache}\n")

        t0 = time.perf_counter()
        from runyard import Environment
        from runyard.compute import local_env
        import_s = time.perf_counter() - t0

        env = Environment("bench")
        spec = env.model_dump(mode="json")
        print("cold build of Environment('bench') ...", flush=True)
        build_log = io.StringIO()
        t0 = time.perf_counter()
        try:
            built = local_env.materialise(env, build_log)
        except Exception as e:
            raise c.BrokenRun(f"environment build failed: {e}\n{build_log.getvalue()[-2000:]}") from e
        cold_s = time.perf_counter() - t0
        if built.cache_hit or not Path(built.python).exists():
            raise c.BrokenRun(f"the first materialise was not a build: {built}\n{build_log.getvalue()}")
        print(f"  built in {c.fmt_s(cold_s)} at {built.location}", flush=True)

        log = io.StringIO()
        t0 = time.perf_counter()
        first = local_env.materialise(env, log)
        first_s = time.perf_counter() - t0
        hits = []

        def lookup():
            hits.append(local_env.materialise(env, log))

        def supervisor_lookup():
            hits.append(local_env.materialise(Environment(**spec), log))

        hash_times = timed(lambda: env.hash, calls)
        lookup_times = timed(lookup, calls)
        supervisor_times = timed(supervisor_lookup, calls)
        for hit in [first, *hits]:
            if not hit.cache_hit or hit.python != built.python:
                raise c.BrokenRun(f"a lookup was not a cache hit of {built.python}: {hit}")

    lookup_m = c.median(lookup_times)
    rows = [
        ["env.hash", c.fmt_s(c.median(hash_times)), c.fmt_s(min(hash_times)), c.fmt_s(max(hash_times)), calls],
        ["materialise(env, log), cache hit", c.fmt_s(lookup_m), c.fmt_s(min(lookup_times)),
         c.fmt_s(max(lookup_times)), calls],
        ["Environment(**spec) + materialise", c.fmt_s(c.median(supervisor_times)), c.fmt_s(min(supervisor_times)),
         c.fmt_s(max(supervisor_times)), calls],
        ["first cache hit in this process", c.fmt_s(first_s), "-", "-", 1],
        ["cold build (fresh RUNYARD_CACHE_DIR)", c.fmt_s(cold_s), "-", "-", 1],
    ]
    print("\nEnvironment lookup\n")
    print(c.table(["", "median", "min", "max", "n"], rows))
    print(f"\n(importing runyard.environment + runyard.compute.local_env took {c.fmt_s(import_s)}, not counted)")
    ratio = cold_s / lookup_m
    print("\nGoals")
    print(c.goal_line("cached lookup (materialise, median)", c.fmt_s(lookup_m),
                      f"< {GOAL_LOOKUP_S * 1000:g} ms", lookup_m < GOAL_LOOKUP_S))
    print(f"  cold build / cached lookup: {ratio:,.0f}x (no goal)")
    c.finish({"bench": "env_lookup", "calls": calls, "hash_s": hash_times, "lookup_s": lookup_times,
              "supervisor_lookup_s": supervisor_times, "first_lookup_s": first_s, "cold_build_s": cold_s,
              "cold_over_lookup": ratio, "import_s": import_s}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
