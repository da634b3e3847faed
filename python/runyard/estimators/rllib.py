"""``RLlib``: Ray RLlib training as a run (Azure's ``ReinforcementLearningEstimator``).

Either runyard trains an RLlib algorithm itself (``algorithm=``, ``env=``, ``stop=``: its
launcher, ``python -m runyard.rllib``, logs every iteration and saves checkpoints to
``outputs/``), or it runs the user's ``entry_script``. Both get a Ray instance: on the local
target a private one the run starts and stops, on a ``RayCluster`` the cluster the job runs on.

>>> RLlib(algorithm="PPO", env="CartPole-v1", stop={"training_iteration": 10}).spec["algorithm"]
'PPO'
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ScriptRunConfig
from ..environment import Environment
from ..errors import ConfigError
from .base import Estimator

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..run import Run

#: the algorithms RLlib registers by name (ray.rllib.algorithms.registry); BC, CQL, IQL and
#: MARWIL learn from offline data, which ``config={"input_": ...}`` names
KNOWN_ALGORITHMS = ("APPO", "BC", "CQL", "DQN", "DreamerV3", "IMPALA", "IQL", "MARWIL", "PPO", "SAC")
#: the variable that carries the launcher's settings into the run
SPEC_VARIABLE = "RUNYARD_RLLIB"
LAUNCHER = ["python", "-m", "runyard.rllib"]
_LAUNCHER_OPTIONS = ("algorithm", "env", "config", "stop", "num_workers", "checkpoint_freq")


class RLlib(Estimator):
    """Train with Ray RLlib in the curated environment ``runyard-rllib-<ray version>-cpu``.

    With ``algorithm`` (default ``"PPO"``) and ``env``, runyard builds the algorithm with
    ``config`` (``AlgorithmConfig`` settings, e.g. ``{"lr": 3e-4}``) and ``num_workers`` env
    runners, calls ``train()`` until a ``stop`` bound is reached (``{"training_iteration": 20}``,
    ``{"episode_return_mean": 450}``, any key of RLlib's result, nested keys joined by ``/``)
    and logs ``episode_return_mean``, ``episode_len_mean``, ``timesteps_total`` and
    ``time_this_iter_s`` every iteration. Checkpoints go to ``outputs/checkpoint_<iteration>``
    every ``checkpoint_freq`` iterations and after the last; with ``resume_from=<a run>``
    training continues from that run's last checkpoint.

    With ``entry_script``, that script runs instead: its ``ray.init()`` joins the run's Ray
    instance, and ``runyard.rllib.log_result(run, result)`` logs an iteration's results.

    >>> RLlib(algorithm="ppo", env="CartPole-v1", stop={"training_iteration": 5}, num_workers=1).spec
    {'algorithm': 'PPO', 'env': 'CartPole-v1', 'config': {}, 'stop': {'training_iteration': 5}, \
'num_workers': 1, 'checkpoint_freq': 0, 'use_gpu': False}
    """

    framework = "rllib"
    # Ray spreads the work (env runners, learners) itself: the run is one driver process.
    distributable = False
    entry_script_required = False

    def __init__(self, source_directory: str | Path | None = None, compute_target: Any = None,
                 entry_script: str | None = None, script_params: dict[str, Any] | None = None, *,
                 algorithm: str | None = None, env: str | None = None, config: dict[str, Any] | None = None,
                 stop: dict[str, Any] | None = None, num_workers: int | None = None, checkpoint_freq: int = 0,
                 node_count: int = 1, process_count_per_node: int = 1, use_gpu: bool = False,
                 pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
                 environment_definition: Environment | None = None,
                 custom_docker_image: str | None = None, shm_size: str | None = None,
                 framework_version: str | None = None, max_run_duration_seconds: int | None = None,
                 resume_from: Any = None, arguments: list[Any] | None = None,
                 environment_variables: dict[str, str] | None = None, max_retries: int = 0):
        name = type(self).__name__
        for option, value in (("node_count", node_count), ("process_count_per_node", process_count_per_node)):
            if value != 1:
                raise ConfigError(f"{name}: {option} - Ray spreads RLlib's work over the target's nodes itself: "
                                  f"set num_workers= (env runners), and attach a RayCluster for more nodes")
        given = {"algorithm": algorithm, "env": env, "config": config, "stop": stop, "num_workers": num_workers,
                 "checkpoint_freq": checkpoint_freq or None}
        if entry_script:
            extra = [option for option, value in given.items() if value is not None]
            if extra:
                raise ConfigError(f"{name}: {extra[0]} configures runyard's own RLlib launcher; with "
                                  f"entry_script, your script builds the algorithm (pass settings to it "
                                  f"in script_params)")
            if source_directory is None:
                raise ConfigError(f"{name}: source_directory is required with entry_script (the folder "
                                  f"that holds it)")
            self.spec: dict[str, Any] = {}
        else:
            if script_params or arguments:
                raise ConfigError(f"{name}: script_params/arguments are for an entry_script; runyard's "
                                  f"launcher takes algorithm=, env=, config=, stop= and num_workers=")
            self.spec = _launcher_spec(name, algorithm or "PPO", env, config, stop, num_workers,
                                       checkpoint_freq, use_gpu)
            if source_directory is None:
                source_directory = _empty_source()
        variables = dict(environment_variables or {})
        if self.spec:
            variables[SPEC_VARIABLE] = json.dumps(self.spec)
        super().__init__(source_directory, compute_target=compute_target, entry_script=entry_script,
                         script_params=script_params, use_gpu=use_gpu, pip_packages=pip_packages,
                         conda_packages=conda_packages, environment_definition=environment_definition,
                         custom_docker_image=custom_docker_image, shm_size=shm_size,
                         framework_version=framework_version, max_run_duration_seconds=max_run_duration_seconds,
                         resume_from=resume_from, arguments=arguments, environment_variables=variables,
                         max_retries=max_retries)

    def run_config(self) -> ScriptRunConfig:
        """The launcher as the run's command (it starts or joins Ray, then trains or runs the script)."""
        config = super().run_config()
        if self.entry_script:
            config.validate_source()  # the script exists
        config.script = None
        config.command = [*LAUNCHER, *([self.entry_script] if self.entry_script else [])]
        return config

    def _submit(self, experiment: "Experiment", tags: dict[str, Any], **kwargs: Any) -> "Run":
        if self.spec:
            tags = {"rllib.algorithm": self.spec["algorithm"], "rllib.env": self.spec["env"], **tags}
        return super()._submit(experiment, tags, **kwargs)


class ReinforcementLearningEstimator(RLlib):
    """Azure ML's name and arguments for an RLlib script: ``environment`` is the runyard
    ``Environment`` (not the gym env), ``rl_framework`` the Ray version (``"2.60"``, or an
    object with ``.version``). ``worker_configuration`` has no counterpart: the run's Ray is
    the compute target's (attach a ``RayCluster`` for more nodes). ``cluster_coordination_timeout_seconds``
    bounded Azure's wait for its head and workers to meet: there is no such wait here (a private
    Ray starts with the run; a RayCluster's nodes are up), so it never runs out. Every ``RLlib``
    option (``algorithm=``, ``env=``, ``stop=``, ...) is accepted too.

    >>> ReinforcementLearningEstimator("src", entry_script="train.py", rl_framework="2.60")  # doctest: +SKIP
    """

    def __init__(self, source_directory: str | Path | None = None, *, environment: Environment | None = None,
                 entry_script: str | None = None, script_params: dict[str, Any] | None = None,
                 compute_target: Any = None, use_gpu: bool = False, pip_packages: list[str] | None = None,
                 max_run_duration_seconds: int | None = None, rl_framework: Any = None,
                 cluster_coordination_timeout_seconds: int | None = None, shm_size: str | None = None,
                 inputs: list[Any] | None = None, worker_configuration: Any = None,
                 environment_variables: dict[str, str] | None = None, **options: Any):
        name = type(self).__name__
        if worker_configuration is not None:
            raise ConfigError(f"{name}: worker_configuration - runyard runs RLlib's workers on the compute "
                              f"target's Ray (a private instance on the local target, the nodes of a "
                              f"RayCluster); attach a RayCluster for more nodes and set num_workers=")
        if inputs:
            raise ConfigError(f"{name}: inputs are not supported yet; pass data paths in script_params")
        version = getattr(rl_framework, "version", rl_framework)
        # cluster_coordination_timeout_seconds: Azure waited that long for its head and workers to
        # meet; a private instance starts at once and a RayCluster's nodes are already up.
        super().__init__(source_directory, compute_target=compute_target, entry_script=entry_script,
                         script_params=script_params, environment_definition=environment, use_gpu=use_gpu,
                         pip_packages=pip_packages, max_run_duration_seconds=max_run_duration_seconds,
                         framework_version=str(version) if version is not None else None, shm_size=shm_size,
                         environment_variables=environment_variables, **options)


def _launcher_spec(name: str, algorithm: Any, env: Any, config: Any, stop: Any, num_workers: Any,
                   checkpoint_freq: Any, use_gpu: bool) -> dict[str, Any]:
    """The launcher's settings, each checked here so a mistake is an error before any run."""
    known = {a.lower(): a for a in KNOWN_ALGORITHMS}
    if not isinstance(algorithm, str) or algorithm.lower() not in known:
        raise ConfigError(f"{name}: algorithm {algorithm!r} is not an RLlib algorithm runyard knows; known: "
                          f"{', '.join(KNOWN_ALGORITHMS)} (or give entry_script= and build it yourself)")
    if not isinstance(env, str) or not env.strip():
        raise ConfigError(f"{name}: env is required: a registered environment id such as \"CartPole-v1\" "
                          f"(gymnasium's), got {env!r}")
    if not isinstance(stop, dict) or not stop:
        raise ConfigError(f"{name}: stop must be a non-empty dict of result key -> bound, e.g. "
                          f"{{\"training_iteration\": 20}}, got {stop!r}")
    for key, bound in stop.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{name}: stop has the key {key!r}; keys are names of RLlib's results "
                              f"(\"training_iteration\", \"episode_return_mean\", \"env_runners/...\")")
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real):
            raise ConfigError(f"{name}: stop[{key!r}] must be a number (training stops once the result "
                              f"reaches it), got {bound!r}")
    if config is None:
        config = {}
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise ConfigError(f"{name}: config must be a dict of AlgorithmConfig settings, e.g. {{\"lr\": 3e-4}}, "
                          f"got {config!r}")
    for key in ("env", "num_env_runners"):
        if key in config:
            raise ConfigError(f"{name}: config[{key!r}] - give it as the "
                              f"{'env' if key == 'env' else 'num_workers'}= option instead")
    if num_workers is not None and (isinstance(num_workers, bool) or not isinstance(num_workers, int)
                                    or num_workers < 0):
        raise ConfigError(f"{name}: num_workers must be a whole number >= 0 (0: sample in the driver), "
                          f"got {num_workers!r}")
    if isinstance(checkpoint_freq, bool) or not isinstance(checkpoint_freq, int) or checkpoint_freq < 0:
        raise ConfigError(f"{name}: checkpoint_freq must be a whole number >= 0 (0: only the last "
                          f"checkpoint), got {checkpoint_freq!r}")
    spec = {"algorithm": known[algorithm.lower()], "env": env, "config": config, "stop": stop,
            "num_workers": num_workers, "checkpoint_freq": checkpoint_freq, "use_gpu": bool(use_gpu)}
    try:
        json.dumps(spec, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{name}: config and stop must hold plain values (numbers, strings, lists, "
                          f"dicts) to reach the run: {e}") from e
    return spec


def _empty_source() -> str:
    """The source folder of a run that needs no files of the user's (the launcher is runyard's)."""
    from ..compute.local_env import cache_root
    folder = cache_root() / "empty-source"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


__all__ = ["RLlib", "ReinforcementLearningEstimator", "KNOWN_ALGORITHMS"]
