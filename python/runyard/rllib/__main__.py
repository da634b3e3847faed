"""The RLlib estimator's launcher: ``python -m runyard.rllib [SCRIPT ARGS...]``.

It gives the run a Ray instance, then trains the algorithm its settings name
(``RUNYARD_RLLIB``, set by the estimator) or runs ``SCRIPT``:

- in a Ray job (the ``RayCluster`` target), ``ray.init()`` joins the job's cluster;
- anywhere else it starts a Ray instance of this run's own: a fresh temporary folder, a token
  of its own (so no one else can join it), and never a cluster that happens to run on the
  machine (``RAY_ADDRESS`` is cleared, ``address="local"``). A script's ``ray.init()`` joins it
  through ``RAY_ADDRESS``. It is stopped when the run ends, with every process it started.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from . import log_result, reached

#: set by Ray for a job's driver (and inherited by its processes): the run is a Ray job
RAY_JOB_VARIABLE = "RAY_JOB_CONFIG_JSON_ENV_VAR"
SPEC_VARIABLE = "RUNYARD_RLLIB"
_STOP_GRACE_S = 10.0
_FOLDER_PREFIX = "ray-runyard-"


def main(argv: list[str]) -> int:
    spec = json.loads(os.environ.get(SPEC_VARIABLE) or "{}")
    script, script_args = (argv[0], argv[1:]) if argv else (None, [])
    if not script and not spec:
        print(f"runyard.rllib: nothing to do: give a script to run, or set {SPEC_VARIABLE} "
              f"(the RLlib estimator does)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_exit)
    if os.environ.get(RAY_JOB_VARIABLE):
        _install_lazily()
        if script:  # its ray.init() joins the job's cluster through RAY_ADDRESS, as Ray set it
            return _run_script(script, script_args)
        import ray
        ray.init()
        print(f"runyard.rllib: joined the Ray cluster at {ray.get_runtime_context().gcs_address}", flush=True)
        try:
            return _train(spec)
        finally:
            ray.shutdown()
    num_workers = spec.get("num_workers")
    with private_ray(num_cpus=max(os.cpu_count() or 1, (num_workers if num_workers is not None else 2) + 1)):
        return _run_script(script, script_args) if script else _train(spec)


def _install_lazily() -> None:
    """Have Ray install the job's environment only on the nodes that get a piece of the run.
    By default a driver's ``ray.init()`` installs it on every node of the cluster at once
    (``eager_install``): for RLlib's environment, a gigabyte or more on each."""
    job = json.loads(os.environ[RAY_JOB_VARIABLE])
    runtime_env = job.get("runtime_env") or {}
    runtime_env["config"] = {**(runtime_env.get("config") or {}), "eager_install": False}
    job["runtime_env"] = runtime_env
    os.environ[RAY_JOB_VARIABLE] = json.dumps(job)


def _raise_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def private_ray(num_cpus: int) -> Iterator[str]:
    """A Ray instance for this process alone; yields its address (also put in RAY_ADDRESS for
    child processes). Every process it started is gone when the block ends."""
    import psutil
    # Short: Ray's socket paths under it must stay within the 107 characters Unix allows.
    parent = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    _remove_stale(parent)
    folder = tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-", dir=parent)
    os.environ.pop("RAY_ADDRESS", None)
    # Ray reads these when imported. Ray binds the node's own IP address (it turns 127.0.0.1
    # into that), so a token keeps everyone else out; in the environment, not in
    # ~/.ray/auth_token, which would switch every later cluster on this machine to token mode.
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                       "RAY_USAGE_STATS_ENABLED": "0"})
    os.environ.pop("RAY_AUTH_TOKEN_PATH", None)
    import ray
    me = psutil.Process()
    try:
        _start_ray(ray, me, num_cpus, folder)
        address = ray.get_runtime_context().gcs_address
        os.environ["RAY_ADDRESS"] = address
        print(f"runyard.rllib: started a private Ray instance at {address} ({num_cpus} CPUs, "
              f"folder {folder})", flush=True)
        yield address
    finally:
        started = me.children(recursive=True)
        try:
            ray.shutdown()
        finally:
            _gone(started)
            shutil.rmtree(folder, ignore_errors=True)
            print("runyard.rllib: the private Ray instance is stopped", flush=True)


#: tries at starting the private instance: Ray gives its raylet a fixed 30 s to register, which
#: a machine busy with other work can exceed
START_TRIES = 3


def _start_ray(ray: Any, me: Any, num_cpus: int, folder: str) -> None:
    for attempt in range(1, START_TRIES + 1):
        try:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, _temp_dir=folder)
            return
        except Exception as e:
            if "timed out during startup" not in str(e) or attempt == START_TRIES:
                raise
            print(f"runyard.rllib: the private Ray instance did not start ({e}); starting it again "
                  f"(try {attempt + 1} of {START_TRIES})", flush=True)
            started = me.children(recursive=True)
            ray.shutdown()
            _gone(started)


def _remove_stale(parent: str) -> None:
    """Remove the folders of private instances whose launcher is gone (killed before it could)."""
    import psutil
    for folder in Path(parent).glob(f"{_FOLDER_PREFIX}*-*"):
        pid = folder.name[len(_FOLDER_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _gone(processes: list[Any]) -> None:
    """Wait for Ray's processes to exit after shutdown; kill any that did not."""
    import psutil
    _, alive = psutil.wait_procs(processes, timeout=_STOP_GRACE_S)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


def _run_script(script: str, args: list[str]) -> int:
    """Run the user's script (in this process group, so a cancel reaches it too)."""
    proc = subprocess.Popen([sys.executable, script, *args])
    try:
        return _exit_code(proc.wait())
    except SystemExit:
        proc.terminate()
        try:
            proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def _exit_code(code: int) -> int:
    return code if code >= 0 else 128 - code


def _train(spec: dict[str, Any]) -> int:
    from ray.rllib.algorithms.registry import ALGORITHMS
    from ..run import Run
    algorithm_class = ALGORITHMS[spec["algorithm"]]()[0]  # imports that algorithm alone
    config = algorithm_class.get_default_config().environment(spec["env"])
    if spec.get("num_workers") is not None:
        config = config.env_runners(num_env_runners=spec["num_workers"])
    overrides = dict(spec.get("config") or {})
    if spec.get("use_gpu"):
        overrides.setdefault("num_gpus_per_learner", 1)
    unknown = [key for key in overrides if not hasattr(config, key)]
    if unknown:
        print(f"runyard.rllib: config {unknown[0]!r} is not a setting of {type(config).__name__}",
              file=sys.stderr)
        return 2
    config.update_from_dict(overrides)
    algo = config.build_algo() if hasattr(config, "build_algo") else config.build()
    try:
        _restore(algo)
        return _train_loop(algo, spec, Run.get_context())
    finally:
        algo.stop()


def _restore(algo: Any) -> None:
    """Continue from the last checkpoint of the run given as ``resume_from``, if any."""
    folder = os.environ.get("RUNYARD_RESUME_FROM")
    if not folder:
        return
    found = sorted([*Path(folder).glob("checkpoint_*"), *Path(folder).glob("outputs/checkpoint_*")],
                   key=lambda p: p.name)
    if found:
        algo.restore_from_path(str(found[-1].resolve()))
        print(f"runyard.rllib: resumed from {found[-1].name}", flush=True)


def _train_loop(algo: Any, spec: dict[str, Any], run: Any) -> int:
    stop, every = spec["stop"], int(spec.get("checkpoint_freq") or 0)
    outputs = Path("outputs")
    outputs.mkdir(exist_ok=True)
    started = time.monotonic()
    while True:
        result = algo.train()
        iteration = int(result["training_iteration"])
        logged = log_result(run, result)
        print(f"runyard.rllib: iteration {iteration}: "
              + ", ".join(f"{name} {value:.4g}" for name, value in logged.items()), flush=True)
        try:
            why = reached(result, stop)
        except KeyError as e:
            print(f"runyard.rllib: {e.args[0]}", file=sys.stderr)
            return 2
        if why or (every and iteration % every == 0):
            path = _save(algo, outputs / f"checkpoint_{iteration:06d}")
            run.tag("rllib.checkpoint", f"outputs/{path.name}")
            print(f"runyard.rllib: checkpoint saved to outputs/{path.name}", flush=True)
        if why:
            print(f"runyard.rllib: stopping after {iteration} iterations ({time.monotonic() - started:.1f} s): "
                  f"{why}", flush=True)
            return 0


def _save(algo: Any, path: Path) -> Path:
    if hasattr(algo, "save_to_path"):
        algo.save_to_path(str(path.resolve()))
    else:
        algo.save(str(path.resolve()))
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
