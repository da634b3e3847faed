#!/usr/bin/env python3
"""Every test of runyard, in stages that run side by side, with the time each took.

``make test`` runs this with the system's Python (standard library only). First it
installs what the tests need (``make install-test r-install``); then it starts one
PostgreSQL server for the whole run and runs, at the same time:

- four lanes, each a sequence of stages: the Docker tests (they start the engine),
  then R CMD check, then a third of the other pytest tests; the Ray tests (a
  loopback cluster), then the R package's testthat suite (which starts a cluster
  of its own: not while the first runs); and the other two thirds of the pytest
  tests, the second after the studio UI's checks (``scripts/build_ui.py --check``:
  npm ci, its unit tests, then a build of web/ compared file by file with the
  committed one). Four processes at a time keep a two-core machine busy without
  starving the tests that wait on timeouts.

Each stage writes to ``.test-logs/<stage>.log`` (a pytest shard also a JUnit XML
report with each test's time); a line every minute says what is
still running. At the end the time of each stage is printed, then the log of each
failed stage (its last lines), and the exit status is 1 if any stage failed.

    python3 scripts/test_all.py [--only STAGE ...] [--no-install] [--list]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".test-logs"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
R_LIB = ROOT / ".r-lib"
PROGRESS_EVERY_S = 60
FAILED_LOG_LINES = 400

#: The "rest" shard (neither Docker nor Ray) in three parts of about equal time, measured from
#: the JUnit reports in .test-logs/: the third runs after the Docker tests and R CMD check
#: (together about as long as the Ray tests and testthat), the second is the pipeline suites.
SECOND_PART = ["tests/integration/test_pipelines.py", "tests/integration/test_pipeline_examples.py",
               "tests/integration/test_pipeline_cli.py", "tests/integration/test_pipeline_arguments.py",
               "tests/integration/test_published_pipelines.py", "tests/integration/test_rfunction_step.py",
               "tests/integration/test_docs.py", "tests/integration/test_estimators.py",
               "tests/integration/test_benchmarks_smoke.py", "tests/integration/test_sweep_yaml.py"]
THIRD_PART = ["tests/integration/test_rllib.py", "tests/integration/test_concurrency.py",
              "tests/integration/test_sweeps.py", "tests/integration/test_automl.py",
              "tests/integration/test_automl_forecasting.py"]


@dataclass
class Stage:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    started: float = 0.0
    ended: float | None = None
    status: int | None = None

    @property
    def log(self) -> Path:
        return LOGS / f"{self.name.replace(' ', '-')}.log"

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started


def pytest_stage(name: str, *selection: str) -> Stage:
    """A pytest shard; besides its log, a JUnit XML report with each test's time."""
    report = LOGS / f"{name.replace(' ', '-')}.xml"
    return Stage(name, [str(VENV_PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=15",
                        "-o", "console_output_style=classic", f"--junitxml={report}", *selection])


def test_lanes() -> list[list[Stage]]:
    """Lanes run side by side; the stages of a lane one after another."""
    rest = "not docker and not ray"
    return [
        [pytest_stage("pytest docker", "-m", "docker", "tests"),
         Stage("R CMD check", ["make", "--no-print-directory", "r-check"]),
         pytest_stage("pytest rest-3", "-m", rest, *THIRD_PART)],
        [pytest_stage("pytest ray", "-m", "ray and not docker", "tests"),
         Stage("R testthat", ["Rscript", "-e",
                              'testthat::test_local("r-package", reporter = "summary", stop_on_failure = TRUE)'])],
        [pytest_stage("pytest rest-1", "-m", rest, *[f"--ignore={path}" for path in SECOND_PART + THIRD_PART],
                      "tests")],
        [Stage("UI check", [sys.executable, "scripts/build_ui.py", "--check"]),
         pytest_stage("pytest rest-2", "-m", rest, *SECOND_PART)],
    ]


def start(stage: Stage, env: dict[str, str]) -> None:
    stage.started = time.monotonic()
    with open(stage.log, "wb") as log:
        stage.proc = subprocess.Popen(stage.argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                      env={**env, **stage.env}, start_new_session=True)


def run_alone(stage: Stage, env: dict[str, str]) -> None:
    print(f"── {stage.name}: {' '.join(stage.argv)}", flush=True)
    start(stage, env)
    stage.status = stage.proc.wait()
    stage.ended = time.monotonic()


def run_lanes(lanes: list[list[Stage]], env: dict[str, str]) -> None:
    """Each lane's stages in turn (a failed stage does not stop its lane), the lanes at once."""
    queues = [list(lane) for lane in lanes if lane]
    running: dict[int, tuple[Stage, list[Stage]]] = {}  # id(stage) -> (stage, the rest of its lane)

    def start_next(queue: list[Stage]) -> None:
        stage = queue.pop(0)
        print(f"── {stage.name}: started (log: {stage.log.relative_to(ROOT)})", flush=True)
        start(stage, env)
        running[id(stage)] = (stage, queue)

    for queue in queues:
        start_next(queue)
    last_report = time.monotonic()
    while running:
        time.sleep(1)
        for stage, queue in list(running.values()):
            if (code := stage.proc.poll()) is None:
                continue
            stage.status, stage.ended = code, time.monotonic()
            del running[id(stage)]
            print(f"── {stage.name}: {'passed' if code == 0 else f'FAILED (exit {code})'} after "
                  f"{_minutes(stage.seconds)}; {_last_line(stage.log)}", flush=True)
            if queue:
                start_next(queue)
        if running and time.monotonic() - last_report >= PROGRESS_EVERY_S:
            last_report = time.monotonic()
            print("   still running: " + ", ".join(f"{stage.name} ({_minutes(stage.seconds)})"
                                                   for stage, _ in running.values()), flush=True)


def stop_all(stages: list[Stage]) -> None:
    for stage in stages:
        if stage.proc is not None and stage.proc.poll() is None:
            os.killpg(stage.proc.pid, signal.SIGTERM)
    for stage in stages:
        if stage.proc is not None:
            try:
                stage.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(stage.proc.pid, signal.SIGKILL)


def shared_postgres(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """One PostgreSQL server for every shard (tests/pg_service.py serve), and its folder."""
    folder = tempfile.mkdtemp(prefix="runyard-test-pg-")
    proc = subprocess.Popen([str(VENV_PYTHON), str(ROOT / "tests" / "pg_service.py"), "serve", folder],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("postgresql://"):
        proc.wait(timeout=30)
        raise SystemExit(f"PostgreSQL for the tests did not start (tests/pg_service.py serve said {line!r})")
    return proc, folder


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip(" =") if lines else "no output"


def cpu_times() -> tuple[float, float]:
    """(busy, all) CPU time of the machine so far, in clock ticks (/proc/stat)."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def report(stages: list[Stage], total: float, cpu_start: tuple[float, float] = (0.0, 0.0)) -> int:
    print("\n══ time per stage " + "═" * 62)
    for stage in stages:
        verdict = "skipped" if stage.status is None else "passed" if stage.status == 0 else "FAILED"
        print(f"  {stage.name:<16} {_minutes(stage.seconds) if stage.started else '-':>7}  {verdict:<7}  "
              f"{_last_line(stage.log) if stage.started else ''}")
    print(f"  {'total':<16} {_minutes(total):>7}")
    busy, every = (now - then for now, then in zip(cpu_times(), cpu_start))
    if every > 0:
        print(f"  the machine's {os.cpu_count()} CPUs were busy {100 * busy / every:.0f}% of the time")
    failed = [s for s in stages if s.status not in (0, None)]
    for stage in failed:
        lines = stage.log.read_text(errors="replace").splitlines()
        print(f"\n══ {stage.name} FAILED: the last {min(len(lines), FAILED_LOG_LINES)} lines of "
              f"{stage.log.relative_to(ROOT)} " + "═" * 20)
        print("\n".join(lines[-FAILED_LOG_LINES:]))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="STAGE", help="run these test stages only (see --list)")
    parser.add_argument("--no-install", action="store_true", help="skip `make install-test r-install`")
    parser.add_argument("--list", action="store_true", help="print the test stages and exit")
    args = parser.parse_args(argv)
    lanes = test_lanes()
    stages = [stage for lane in lanes for stage in lane]
    if args.list:
        for number, lane in enumerate(lanes, 1):
            for stage in lane:
                print(f"lane {number}: {stage.name}: {' '.join(stage.argv)}")
        return 0
    if args.only:
        unknown = sorted(set(args.only) - {s.name for s in stages})
        if unknown:
            parser.error(f"no stage {', '.join(map(repr, unknown))}; the stages: "
                         f"{', '.join(repr(s.name) for s in stages)}")
        lanes = [[s for s in lane if s.name in args.only] for lane in lanes]
        stages = [stage for lane in lanes for stage in lane]

    LOGS.mkdir(exist_ok=True)
    for stage in stages:  # the logs of this run's stages only: --only keeps the others'
        for old in (stage.log, stage.log.with_suffix(".xml")):
            old.unlink(missing_ok=True)
    began, cpu_start = time.monotonic(), cpu_times()
    env = {**os.environ, "RETICULATE_PYTHON": str(VENV_PYTHON), "R_LIBS": str(R_LIB),
           "PYTHONUNBUFFERED": "1"}
    done: list[Stage] = []
    if not args.no_install:
        install = Stage("install", ["make", "--no-print-directory", "install-test", "r-install"])
        done.append(install)
        run_alone(install, env)
        if install.status != 0:
            return report(done, time.monotonic() - began, cpu_start)
    postgres, pg_folder = shared_postgres(env)
    env["RUNYARD_TEST_POSTGRES"] = pg_folder
    # runyard's launchers (runyard.compute._launcher) of the stages outside pytest (R), which
    # gives each session a folder of its own: stopped at the end, idle ones sooner
    launchers = tempfile.mkdtemp(prefix="runyard-test-launchers-")
    env.update(RUNYARD_LAUNCHER_DIR=launchers, RUNYARD_LAUNCHER_IDLE_SECONDS="120")
    try:
        run_lanes(lanes, env)
    except KeyboardInterrupt:
        stop_all(stages)
        raise
    finally:
        postgres.send_signal(signal.SIGTERM)
        postgres.wait(timeout=60)
        shutil.rmtree(pg_folder, ignore_errors=True)
        subprocess.run([str(VENV_PYTHON), "-m", "runyard.compute._launcher", "stop", launchers], cwd=ROOT,
                       env=env, stdout=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(launchers, ignore_errors=True)
    return report(done + stages, time.monotonic() - began, cpu_start)


if __name__ == "__main__":
    sys.exit(main())
