#!/usr/bin/env python
"""The Docker target: cached-image run overhead against `docker run` of the same image by
hand, and an image build whose only change is one pip package against a cold build.

Needs a Docker engine and a local base image with python3 and python3-venv
(--base-image; the test suite makes runyard-test/bookworm-python:1). Containers use
host networking (--network), image builds too, with the host's CA bundle.

  overhead: submit -> Completed of `print("hi")` on the docker target (image cached),
            median of --repeat, minus `docker run --rm <same image> python -c 'print("hi")'`.
            Goal: under 1 s over docker run.
  rebuild:  image of env A (one pip package) built with no layer cache (cold), then env B =
            A + one more pip package built normally: the shared layers are reused.
            Goal: record the ratio (layer reuse should make it a fraction).

    python benchmarks/bench_docker.py [--repeat 5] [--base-image IMAGE] [--quick]
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_OVERHEAD_S = 1.0


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=None, help="timed runs each (default 5)")
    p.add_argument("--base-image", default="runyard-test/bookworm-python:1")
    p.add_argument("--network", default="host")
    p.add_argument("--ca-bundle", default="/etc/ssl/certs/ca-certificates.crt")
    p.add_argument("--no-rebuild", action="store_true", help="skip the image build comparison")
    args = p.parse_args()
    repeats = args.repeat or (1 if args.quick else 5)

    from runyard import Environment, Experiment, ScriptRunConfig, Workspace
    from runyard.compute.docker import DockerCompute, docker_client
    from runyard.compute.docker_images import ImageResolver, image_tag

    client = docker_client()
    try:
        client.images.get(args.base_image)
    except Exception as e:
        raise c.BrokenRun(f"base image {args.base_image!r} is not on the engine ({e}); "
                          f"make one with debootstrap (see tests/docker_services.py)") from e

    with c.scratch(args.workdir, "runyard-bench-docker-") as folder:
        print(c.load_note("start"))
        ws = Workspace.create(folder / ".runyard")
        settings = dict(network=args.network, build_network_mode=args.network, ca_bundle=args.ca_bundle,
                        default_base_image=args.base_image)
        ws.compute_targets.attach("docker", DockerCompute(**settings))
        src = c.write_trivial_source(folder)
        exp = Experiment(ws, "bench-docker")
        env = Environment("bench-docker")

        def runyard_once() -> float:
            t0 = time.perf_counter()
            details = exp.submit(ScriptRunConfig(str(src), script="trivial.py", environment=env,
                                                 compute_target="docker")).wait_for_completion(raise_on_error=False)
            elapsed = time.perf_counter() - t0
            if details["status"] != "Completed":
                raise c.BrokenRun(f"run {details['runId']} ended {details['status']}: {details['error']}")
            return elapsed

        print("warm-up run (builds the image if needed) ...")
        runyard_once()
        tag = image_tag(env.model_dump(mode="json"), settings)

        def docker_run_once() -> float:
            t0 = time.perf_counter()
            out = subprocess.run(["docker", "run", "--rm", "--network", args.network, "--user", "runyard", tag,
                                  "python", "-c", 'print("hi")'], capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            if out.returncode != 0 or "hi" not in out.stdout:
                raise c.BrokenRun(f"docker run failed: {out.stderr}")
            return elapsed

        docker_run_once()
        ours, theirs = [], []
        for _ in range(repeats):  # interleaved, so load changes hit both
            ours.append(runyard_once())
            theirs.append(docker_run_once())
        overhead = c.median(ours) - c.median(theirs)
        print("\nSubmit -> Completed, trivial script, cached image\n")
        print(c.table(["how", "median", "min", "max", "n"],
                      [["docker run --rm (by hand)", c.fmt_s(c.median(theirs)), c.fmt_s(min(theirs)),
                        c.fmt_s(max(theirs)), len(theirs)],
                       ["runyard, docker target", c.fmt_s(c.median(ours)), c.fmt_s(min(ours)),
                        c.fmt_s(max(ours)), len(ours)]]))
        result = {"runyard_s": ours, "docker_run_s": theirs, "overhead_s": overhead}

        cold = warm = None
        if not args.no_rebuild and not args.quick:  # a cold build is long: not in a smoke run
            base_packages = ["six==1.16.0"]
            env_a = Environment("bench-a", python={"conda_dependencies": {"pip_packages": base_packages}})
            env_b = Environment("bench-b", python={"conda_dependencies": {
                "pip_packages": [*base_packages, "toolz==0.12.1"]}})
            for e in (env_a, env_b):
                try:
                    client.images.remove(image_tag(e.model_dump(mode="json"), settings), force=True)
                except Exception:
                    pass
            t0 = time.perf_counter()
            ImageResolver(client, {**settings, "build_no_cache": True}, io.StringIO()).ensure(
                env_a.model_dump(mode="json"))
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            ImageResolver(client, settings, io.StringIO()).ensure(env_b.model_dump(mode="json"))
            warm = time.perf_counter() - t0
            print("\nImage builds\n")
            print(c.table(["build", "time"], [["env A, cold (no layer cache)", c.fmt_s(cold)],
                                              ["env B = A + one pip package", c.fmt_s(warm)]]))
            result.update(cold_build_s=cold, one_package_build_s=warm, ratio=warm / cold)

        print("\nGoals")
        print(c.goal_line("runyard over docker run (cached image)", c.fmt_s(overhead), "< 1 s",
                          overhead < GOAL_OVERHEAD_S))
        if cold:
            print(c.goal_line("one-package rebuild / cold build", f"{warm / cold:.2f}", "a fraction",
                              warm < cold))
        c.finish(result, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
