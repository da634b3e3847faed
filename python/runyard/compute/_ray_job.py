"""The entrypoint of a runyard job on a Ray node: ``python -m runyard.compute._ray_job``.

Ray unpacks a snapshot once per node and shares that folder between every job
of the same snapshot, so each run (and each process of a distributed run)
works in a copy of its own. The job's command runs there; when it ends,
``./outputs`` and ``./logs`` go to the run through ``RUNYARD_TRACKING_URI``
and the entrypoint exits with the command's code.

A distributed job (``RUNYARD_RAY_JOB`` has ``distributed``) starts one Ray
actor per process, placed in one placement group with one bundle per node;
each actor runs the command with its rank's variables. Rank 0's output is this
job's output (the run's driver log); every rank's output is kept as
``logs/rank_<n>.log``. If a process fails, the others are stopped; if one is
lost with its node, the entrypoint exits with ``LOST_EXIT_CODE`` so the
supervisor can start the run again. No actor or process outlives the job.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from ..distributed import node_of, process_env, rank_log_name
from ..metrics import SPILL_ENV, SPILL_FILE
from .execution import collect_folder, send_spilled_metrics

#: the exit code when a process of the job was lost with its node (not the script's own)
LOST_EXIT_CODE = 75
_GRACE_S = 10.0


def private_copy(source: str, label: str) -> Path:
    """A copy of Ray's shared working directory that this run (or rank) alone writes in."""
    work = Path(tempfile.mkdtemp(prefix=f"runyard-{label}-"))
    shutil.copytree(source, work, dirs_exist_ok=True, symlinks=True)
    (work / "outputs").mkdir(exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    return work


def _die_with_parent() -> None:
    """In the child, before exec: be killed when the process that started it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(argv: list[str], work: Path, extra_env: dict[str, str], output: Any) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("RUNYARD_RAY_JOB", None)
    env.update(extra_env)
    env["RUNYARD_OUTPUTS_DIR"] = str(work / "outputs")
    env[SPILL_ENV] = str(work / SPILL_FILE)
    return subprocess.Popen(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=output,
                            stderr=subprocess.STDOUT if output is not None else None,
                            start_new_session=True, preexec_fn=_die_with_parent)


def stop_process(proc: subprocess.Popen, grace_s: float = _GRACE_S) -> None:
    """SIGTERM the process's group, SIGKILL after ``grace_s``."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def exit_code(code: int) -> int:
    return code if code >= 0 else 128 - code


def tracking_workspace() -> Any:
    from ..run import ENV_TRACKING_URI
    from ..workspace import Workspace, is_server_url
    uri = os.environ[ENV_TRACKING_URI]
    return Workspace(uri) if is_server_url(uri) else Workspace(uri, _check_lost_runs=False)


def resume_env(work: Path, spec: dict[str, Any]) -> dict[str, str]:
    """Fetch the files the run resumes from into ``work/resume_from`` and its inputs (a pipeline
    step's) into their folders; the variable naming the first."""
    from .. import resume
    if spec.get("inputs") or spec.get("output_folders"):
        resume.put_inputs(work, spec.get("inputs"), spec.get("output_folders"), tracking_workspace())
    if not spec.get("resume_from"):
        return {}
    return {resume.ENV_VAR: str(resume.put_into(work, spec["resume_from"], tracking_workspace()))}


def upload(work: Path, folders: tuple[str, ...]) -> None:
    """Put ``folders`` of ``work`` into the run, through the tracking URI."""
    from ..run import ENV_RUN_ID
    run_id = os.environ[ENV_RUN_ID]
    workspace = tracking_workspace()
    # metrics the script could not send before it ended: sent now, each batch once
    send_spilled_metrics(workspace._store, work / SPILL_FILE, lambda line: print(line, file=sys.stderr))
    for folder in folders:  # what is left out is said on stderr: the run's driver.log
        collect_folder(workspace._artifacts, run_id, work, folder, None, move=False)


# -- one process ------------------------------------------------------------------------
def run_single(spec: dict[str, Any]) -> int:
    work = private_copy(os.getcwd(), os.environ.get("RUNYARD_RUN_ID", "run"))
    proc = spawn(spec["argv"], work, resume_env(work, spec), None)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stopping.set()
        threading.Thread(target=stop_process, args=(proc,), daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    code = exit_code(proc.wait())
    try:
        upload(work, ("outputs", "logs"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return code


# -- several processes ------------------------------------------------------------------------
def _rank_actor_class() -> Any:
    import ray

    class RankProcess:
        """One process of a distributed job, on the node of its placement-group bundle."""

        def __init__(self, rank: int):
            self.rank = rank
            self.work = private_copy(os.getcwd(), f"{os.environ.get('RUNYARD_RUN_ID', 'run')}-rank{rank}")
            self.proc: subprocess.Popen | None = None

        def address(self) -> tuple[str, int]:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("", 0))
                return ray.util.get_node_ip_address(), sock.getsockname()[1]

        def run(self, argv: list[str], env: dict[str, str], stream: bool,
                start_files: dict[str, Any] | None = None) -> Iterator[Any]:
            """Run the command; yields its output in chunks when ``stream``, then its exit code."""
            log_path = self.work / "logs" / rank_log_name(self.rank)
            env = {**env, **resume_env(self.work, start_files or {})}
            with open(log_path, "wb") as log:
                self.proc = spawn(argv, self.work, env, subprocess.PIPE)
                assert self.proc.stdout is not None
                for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
                    log.write(chunk)
                    log.flush()
                    if stream:
                        yield chunk
                code = exit_code(self.proc.wait())
            try:
                upload(self.work, ("outputs", "logs") if self.rank == 0 else ("logs",))
            finally:
                shutil.rmtree(self.work, ignore_errors=True)
            yield code

        def stop(self) -> None:
            if self.proc is not None:
                stop_process(self.proc)

    # Two threads: ``stop`` must run while ``run`` is busy.
    return ray.remote(max_restarts=0, max_concurrency=2)(RankProcess)


def run_distributed(spec: dict[str, Any]) -> int:
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError
    from ray.util.placement_group import placement_group, remove_placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    plan, argv = spec["distributed"], spec["argv"]
    resources = spec.get("resources") or {}
    cpus = float(resources.get("num_cpus") or 1)
    gpus = float(resources.get("num_gpus") or 0)
    custom = dict(resources.get("resources") or {})
    placement = node_of(plan)
    nodes = int(plan["node_count"])
    ray.init(log_to_driver=False)
    bundles = []
    for node in range(nodes):
        on_node = placement.count(node)
        bundle = {"CPU": cpus * on_node, **{k: v * on_node for k, v in custom.items()}}
        if gpus:
            bundle["GPU"] = gpus * on_node
        bundles.append(bundle)
    group = placement_group(bundles, strategy="STRICT_SPREAD" if nodes > 1 else "STRICT_PACK")
    print(f"runyard: {len(placement)} {plan['framework']} processes on {nodes} node(s); waiting for "
          f"the placement group {bundles}", flush=True)
    waited = 0.0
    while True:
        try:
            ray.get(group.ready(), timeout=10)
            break
        except GetTimeoutError:
            waited += 10
            print(f"runyard: still waiting for {nodes} node(s) with {bundles[0]} free "
                  f"({waited:g} s; the autoscaler adds nodes if it can)", flush=True)
    actor_class = _rank_actor_class()
    actors = [actor_class.options(
        scheduling_strategy=PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=placement[rank]),
        num_cpus=cpus, num_gpus=gpus, resources=custom or None).remote(rank) for rank in range(len(placement))]
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        hosts, ports = zip(*ray.get([actor.address.remote() for actor in actors]))
        print(f"runyard: rank 0 listens on {hosts[0]}:{ports[0]}", flush=True)
        start_files = {k: spec.get(k) for k in ("resume_from", "inputs", "output_folders")}
        others = {actors[rank].run.options(num_returns=1).remote(
            argv, process_env(plan, rank, list(hosts), list(ports)), False, start_files): rank
            for rank in range(1, len(actors))}
        rank0 = actors[0].run.options(num_returns="streaming").remote(
            argv, process_env(plan, 0, list(hosts), list(ports)), True, start_files)
        return _follow(ray, rank0, others, stopping, RayActorError)
    except RayActorError as e:
        print(f"runyard: a process of this job was lost: {e}", flush=True)
        return LOST_EXIT_CODE
    finally:
        _stop_all(ray, actors)
        remove_placement_group(group)


def _follow(ray: Any, rank0: Any, others: dict[Any, int], stopping: threading.Event,
            lost_error: type[Exception]) -> int:
    """Print rank 0's output as it comes while watching the other ranks; the job's code."""
    outcome: dict[str, Any] = {}

    def read_rank0() -> None:
        try:
            for ref in rank0:
                item = ray.get(ref)
                if isinstance(item, bytes):
                    sys.stdout.buffer.write(item)
                    sys.stdout.flush()
                else:
                    outcome["code"] = item
        except lost_error as e:
            outcome["lost"] = e
        except Exception as e:  # noqa: BLE001 - reported as the job's failure
            outcome["error"] = e

    reader = threading.Thread(target=read_rank0, daemon=True)
    reader.start()
    pending = list(others)
    while True:
        if stopping.is_set():
            print("runyard: stop requested: stopping every process", flush=True)
            return 143
        if pending:
            ready, pending = ray.wait(pending, timeout=0.5)
            for ref in ready:
                try:
                    code = ray.get(ref)
                except lost_error as e:
                    print(f"runyard: rank {others[ref]} was lost: {e}", flush=True)
                    return LOST_EXIT_CODE
                if code != 0:
                    print(f"runyard: rank {others[ref]} exited with code {code}; stopping the others",
                          flush=True)
                    return code
        else:
            reader.join(0.5)
        if not reader.is_alive():
            if "lost" in outcome:
                print(f"runyard: rank 0 was lost: {outcome['lost']}", flush=True)
                return LOST_EXIT_CODE
            if "error" in outcome:
                print(f"runyard: rank 0 failed: {outcome['error']}", flush=True)
                return 1
            if outcome.get("code", 1) != 0 or not pending:
                return int(outcome.get("code", 1))


def _stop_all(ray: Any, actors: list[Any]) -> None:
    """Stop every rank's process (SIGTERM, then SIGKILL), then the actors themselves."""
    try:
        ray.get([actor.stop.remote() for actor in actors], timeout=_GRACE_S + 5)
    except Exception:  # noqa: BLE001 - a lost actor cannot stop; its process died with it
        pass
    for actor in actors:
        try:
            ray.kill(actor)
        except Exception:  # noqa: BLE001
            pass


def python_version_problem(wanted: str | None) -> str | None:
    """Why this Python is not the environment's ``python_version`` (Ray cannot choose a node's
    Python), or None."""
    have = "%d.%d.%d" % sys.version_info[:3]
    if not wanted or (have + ".").startswith(wanted + "."):
        return None
    return (f"runyard: the environment asks for Python {wanted} and this Ray node runs Python {have}; a Ray "
            f"job runs with its cluster's Python: set python_version to {have.rsplit('.', 1)[0]} or leave it unset")


def main() -> int:
    spec = json.loads(os.environ["RUNYARD_RAY_JOB"])
    problem = python_version_problem(spec.get("python_version"))
    if problem:
        print(problem, file=sys.stderr, flush=True)
        return 2
    if spec.get("distributed"):
        return run_distributed(spec)
    return run_single(spec)


if __name__ == "__main__":
    sys.exit(main())
