"""``Estimator``: Azure ML's one-line training, as a thin preset over ``ScriptRunConfig``.

An estimator resolves its options into a ``ScriptRunConfig`` (entry script,
arguments, environment, distributed config, target) when it is submitted, so
everything a script run does (targets, environments, run history) applies
unchanged. Options are checked when the estimator is made, before any work.

>>> est = Estimator("src", entry_script="train.py", script_params={"--alpha": 0.5}, pip_packages=["numpy"])
>>> est.arguments
['--alpha', '0.5']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..config import RunConfiguration, ScriptRunConfig
from ..distributed import MpiConfiguration, as_distributed
from ..environment import CondaDependencies, Environment
from ..errors import ConfigError
from . import curated

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..run import Run


#: frameworks whose metrics runyard captures by itself inside the run (see runyard.autolog)
AUTOLOGGED = ("sklearn", "tensorflow")


class Estimator:
    """Train ``entry_script`` from ``source_directory``; the generic estimator (no framework).

    Whether the run is a container is the compute target's: ``use_docker=False`` (Azure's
    switch) is refused on a Docker target, and ``custom_docker_image`` is for targets that run
    containers (the local target refuses the ``docker.enabled`` environment it makes).
    """

    #: the curated framework this estimator's environment comes from (None: the generic one)
    framework: ClassVar[str | None] = None
    #: whether the framework trains across nodes / processes
    distributable: ClassVar[bool] = True
    #: whether a run needs the user's script (False: the estimator brings its own launcher)
    entry_script_required: ClassVar[bool] = True

    def __init__(self, source_directory: str | Path, compute_target: Any = None, entry_script: str | None = None,
                 script_params: dict[str, Any] | None = None, node_count: int = 1,
                 process_count_per_node: int = 1, distributed_training: Any = None, use_gpu: bool = False,
                 use_docker: bool = True, custom_docker_image: str | None = None,
                 conda_packages: list[str] | None = None, pip_packages: list[str] | None = None,
                 environment_definition: Environment | None = None, inputs: list[Any] | None = None,
                 shm_size: str | None = None, resume_from: Any = None,
                 max_run_duration_seconds: int | None = None, framework_version: str | None = None, *,
                 arguments: list[Any] | None = None, environment_variables: dict[str, str] | None = None,
                 max_retries: int = 0, autolog: bool = True):
        name = type(self).__name__
        if not entry_script and self.entry_script_required:
            raise ConfigError(f"{name}: entry_script is required (the script to run, relative to "
                              f"source_directory)")
        if script_params and arguments:
            raise ConfigError(f"{name}: give script_params or arguments, not both")
        if script_params is not None and not isinstance(script_params, dict):
            raise ConfigError(f"{name}: script_params must be a dict of option -> value, "
                              f"got {type(script_params).__name__}")
        for option, value in (("node_count", node_count), ("process_count_per_node", process_count_per_node)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}: {option} must be a whole number >= 1, got {value!r}")
        if not self.distributable and (node_count > 1 or process_count_per_node > 1 or distributed_training):
            option = "node_count" if node_count > 1 else (
                "process_count_per_node" if process_count_per_node > 1 else "distributed_training")
            raise ConfigError(f"{name}: {option} - {self.framework or 'this framework'} trains in one process; "
                              f"use node_count=1 and no distributed_training")
        if environment_definition is not None and (pip_packages or conda_packages or framework_version):
            raise ConfigError(f"{name}: environment_definition replaces pip_packages, conda_packages and "
                              f"framework_version; give one or the other")
        self.inputs = _dataset_inputs(name, inputs)
        self.source_directory = str(source_directory)
        self.compute_target = compute_target
        self.entry_script = entry_script
        self.arguments = _arguments(script_params) if script_params else [_argument(a) for a in (arguments or [])]
        self.node_count = node_count
        self.process_count_per_node = process_count_per_node
        self.distributed_training = self._distributed(as_distributed(distributed_training, "distributed_training"))
        self.use_gpu = bool(use_gpu)
        self.use_docker = bool(use_docker)
        self.framework_version = (curated.resolve_version(self.framework, framework_version)
                                  if self.framework else framework_version)
        self.environment = self._environment(environment_definition, pip_packages, conda_packages,
                                             custom_docker_image, shm_size)
        self.max_run_duration_seconds = max_run_duration_seconds
        self.environment_variables = dict(environment_variables or {})
        if autolog and self.framework in AUTOLOGGED:
            self.environment_variables.setdefault("RUNYARD_AUTOLOG", self.framework)
        self.max_retries = max_retries
        self.resume_from = resume_from
        # The whole run configuration now: a bad value (or a missing script) is an error here.
        self.run_config().validate_source()

    # -- what it resolves to -----------------------------------------------------------------
    #: the distributed configs this framework runs (None: any)
    distributed_configs: ClassVar[tuple[type, ...] | None] = None

    def _distributed(self, config: Any) -> Any:
        """The distributed config: given (of a kind the framework runs), or from node_count x
        process_count_per_node when either is above 1."""
        if config is not None:
            allowed = self.distributed_configs
            if allowed and not isinstance(config, allowed):
                raise ConfigError(f"{type(self).__name__}: distributed_training must be a "
                                  f"{' or '.join(c.__name__ for c in allowed)}, got {type(config).__name__}")
            return config
        if self.node_count > 1 or self.process_count_per_node > 1:
            return self._from_counts()
        return None

    def _from_counts(self) -> Any:
        return MpiConfiguration(process_count_per_node=self.process_count_per_node, node_count=self.node_count)

    def _environment(self, definition: Environment | None, pip_packages: list[str] | None,
                     conda_packages: list[str] | None, docker_image: str | None,
                     shm_size: str | None) -> Environment | None:
        self._curated = False
        if definition is not None:
            if not isinstance(definition, Environment):
                raise ConfigError(f"{type(self).__name__}: environment_definition must be an Environment, "
                                  f"got {type(definition).__name__}")
            return definition
        self._curated = bool(self.framework) and not (pip_packages or conda_packages)
        if self.framework:
            environment = curated.curated_environment(self.framework, self.framework_version)
        elif pip_packages or conda_packages or docker_image:
            environment = Environment(f"{type(self).__name__.lower()}-environment")
        else:
            return None
        deps = environment.python.conda_dependencies
        if pip_packages or conda_packages:  # extra packages make it the user's own environment
            environment = environment.clone(f"{environment.name}-custom" if self.framework else environment.name)
            deps = environment.python.conda_dependencies
            environment.python.conda_dependencies = CondaDependencies(
                pip_packages=[*deps.pip_packages, *(pip_packages or [])],
                conda_packages=[*deps.conda_packages, *(conda_packages or [])],
                pip_options=deps.pip_options)
        if docker_image:
            environment.docker.enabled = True
            environment.docker.base_image = docker_image
        if shm_size:
            environment.docker.shm_size = shm_size
        environment.validate_for_build()
        return environment

    def run_config(self) -> ScriptRunConfig:
        run_config = RunConfiguration(environment_variables={k: str(v) for k, v in self.environment_variables.items()},
                                      max_retries=self.max_retries, node_count=self.node_count,
                                      num_gpus=1 if self.use_gpu else None,
                                      data={c.name: c for c in self.inputs})
        config = ScriptRunConfig(source_directory=self.source_directory, script=self.entry_script,
                                 arguments=list(self.arguments), compute_target=self.compute_target,
                                 environment=self.environment, run_config=run_config,
                                 distributed_job_config=self.distributed_training, resume_from=self.resume_from)
        if self.max_run_duration_seconds:
            config.max_run_duration_seconds = self.max_run_duration_seconds
        return config

    def _submit(self, experiment: "Experiment", tags: dict[str, Any], **kwargs: Any) -> "Run":
        config = self.run_config()
        if not self.use_docker:
            from ..compute import get_target
            target = get_target(experiment.workspace, config.resolved_target())
            if target.type == "docker":
                raise ConfigError(f"{type(self).__name__}: use_docker=False, but compute target {target.name!r} runs "
                                  f"every job in a container; submit to the local target (or a RayCluster)")
        if self._curated:  # registered in the workspace under its reserved name on first use
            config.environment = self.environment.register(experiment.workspace)
        tags = {"estimator": type(self).__name__, **({"framework_version": self.framework_version}
                                                     if self.framework else {}), **tags}
        return config._submit(experiment, tags=tags, **kwargs)


def _arguments(script_params: dict[str, Any]) -> list[Any]:
    """``{"--alpha": 0.5, "--verbose": ""}`` -> ``["--alpha", "0.5", "--verbose"]`` (Azure's rule:
    an empty value is a flag); a dataset input stays itself (the script gets its path)."""
    arguments = []
    for option, value in script_params.items():
        arguments.append(str(option))
        if value is not None and value != "":
            arguments.append(_argument(value))
    return arguments


def _argument(value: Any) -> Any:
    from ..data import DatasetConsumptionConfig
    return value if isinstance(value, DatasetConsumptionConfig) else str(value)


def _dataset_inputs(name: str, inputs: list[Any] | None) -> list[Any]:
    """``inputs=``: dataset inputs (``dataset.as_named_input("x").as_download()``), given to the
    run as ``run_config.data``."""
    from ..data import Dataset, DatasetConsumptionConfig
    found = []
    for index, item in enumerate(inputs or []):
        if isinstance(item, Dataset):
            item = item.as_named_input(item._input_name())
        if not isinstance(item, DatasetConsumptionConfig):
            raise ConfigError(f"{name}: inputs[{index}] must be a dataset input (dataset.as_named_input(name), "
                              f"with .as_download() or .as_mount() for its files), got {type(item).__name__}")
        found.append(item)
    return found


__all__ = ["Estimator"]
