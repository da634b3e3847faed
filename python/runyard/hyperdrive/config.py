"""``HyperDriveConfig``: a sweep over a script, an estimator or a pipeline.

Submitting one checks everything (Azure ML's rules, with errors that name the
argument), snapshots the source once, records the sweep run ``Queued`` and
starts its driver (``runyard.hyperdrive._driver``), a detached process that
runs each trial as a child run on the config's compute target.

>>> config = HyperDriveConfig(run_config=ScriptRunConfig("src", script="train.py"),
...                           hyperparameter_sampling=RandomParameterSampling({"--alpha": uniform(0.01, 1)}),
...                           primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
...                           max_total_runs=20, max_concurrent_runs=2)  # doctest: +SKIP
>>> run = Experiment(ws, "sweep").submit(config)  # doctest: +SKIP
>>> run.wait_for_completion()  # doctest: +SKIP
>>> run.get_best_run_by_primary_metric()  # doctest: +SKIP
"""

from __future__ import annotations

import enum
import json
import os
from typing import TYPE_CHECKING, Any

from .. import status as st
from ..errors import ConfigError, NotFoundError, refuse_unknown_arguments
from .policies import EarlyTerminationPolicy, NoTerminationPolicy
from .sampling import BayesianParameterSampling, GridParameterSampling, HyperParameterSampling, option
from .trial_command import check_references, references

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..workspace import Workspace
    from .run import HyperDriveRun

#: the sweep run's logs/ file with its driver's output
DRIVER_LOG = "hyperdrive.log"
#: Azure ML's limits
MAX_TOTAL_RUNS = 1000
MAX_CONCURRENT_RUNS = 100
MAX_DURATION_MINUTES = 10080
MAX_RESUME_FROM = 5


class PrimaryMetricGoal(str, enum.Enum):
    """Whether the sweep looks for the highest or the lowest primary metric."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @classmethod
    def parse(cls, value: Any) -> "PrimaryMetricGoal":
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise ConfigError(f"primary_metric_goal must be PrimaryMetricGoal.MAXIMIZE or MINIMIZE, got {value!r}")


class HyperDriveConfig:
    """What to sweep (``run_config`` a ``ScriptRunConfig``, ``estimator`` or ``pipeline``: exactly
    one), how to sample (``hyperparameter_sampling``), what to optimise (``primary_metric_name``,
    logged by the script with ``run.log``, and ``primary_metric_goal``), how much
    (``max_total_runs`` 1-1000, ``max_concurrent_runs`` 1-100, default: this machine's CPU
    count; ``max_duration_minutes``) and when to stop a trial early (``policy``).

    ``resume_from``: up to 5 earlier sweeps (``HyperDriveRun`` or run id) of the same metric
    and goal whose trials warm-start this one (their values are not run again);
    ``resume_child_runs``: trials of those sweeps to run again from their checkpoints (see
    ``ScriptRunConfig(resume_from=)``), with their values.
    """

    def __init__(self, hyperparameter_sampling: HyperParameterSampling, primary_metric_name: str,
                 primary_metric_goal: PrimaryMetricGoal | str, max_total_runs: int,
                 max_concurrent_runs: int | None = None, max_duration_minutes: int = MAX_DURATION_MINUTES,
                 policy: EarlyTerminationPolicy | None = None, estimator: Any = None, run_config: Any = None,
                 resume_from: Any = None, resume_child_runs: Any = None, pipeline: Any = None, **kwargs: Any):
        refuse_unknown_arguments("HyperDriveConfig()", kwargs,
                                 "it takes hyperparameter_sampling, primary_metric_name, primary_metric_goal, "
                                 "max_total_runs, max_concurrent_runs, max_duration_minutes, policy, estimator, "
                                 "run_config, resume_from, resume_child_runs and pipeline")
        given = [n for n, v in (("run_config", run_config), ("estimator", estimator), ("pipeline", pipeline))
                 if v is not None]
        if len(given) != 1:
            raise ConfigError("HyperDriveConfig: give exactly one of run_config (a ScriptRunConfig), estimator and "
                              f"pipeline{'' if not given else f'; got {given[0]} and {given[1]}'}")
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise ConfigError("HyperDriveConfig: hyperparameter_sampling must be RandomParameterSampling, "
                              f"GridParameterSampling or BayesianParameterSampling, got "
                              f"{type(hyperparameter_sampling).__name__}")
        if not isinstance(primary_metric_name, str) or not primary_metric_name.strip():
            raise ConfigError(f"HyperDriveConfig: primary_metric_name must be the name of a metric the script logs, "
                              f"got {primary_metric_name!r}")
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name
        self.primary_metric_goal = PrimaryMetricGoal.parse(primary_metric_goal)
        self.max_total_runs = _count("max_total_runs", max_total_runs, MAX_TOTAL_RUNS)
        if max_concurrent_runs is not None:
            max_concurrent_runs = _count("max_concurrent_runs", max_concurrent_runs, MAX_CONCURRENT_RUNS)
        self.max_concurrent_runs = max_concurrent_runs
        if isinstance(max_duration_minutes, bool) or not isinstance(max_duration_minutes, (int, float)) \
                or not 0 < max_duration_minutes <= MAX_DURATION_MINUTES:
            raise ConfigError(f"HyperDriveConfig: max_duration_minutes must be a number of minutes above 0 and at "
                              f"most {MAX_DURATION_MINUTES} (7 days), got {max_duration_minutes!r}")
        self.max_duration_minutes = max_duration_minutes
        if policy is not None and not isinstance(policy, EarlyTerminationPolicy):
            raise ConfigError(f"HyperDriveConfig: policy must be BanditPolicy, MedianStoppingPolicy, "
                              f"TruncationSelectionPolicy, NoTerminationPolicy or None, got {type(policy).__name__}")
        self.policy = policy or NoTerminationPolicy()
        if isinstance(hyperparameter_sampling, BayesianParameterSampling) \
                and not isinstance(self.policy, NoTerminationPolicy):
            raise ConfigError(f"HyperDriveConfig: BayesianParameterSampling takes no early-termination policy "
                              f"(got {type(self.policy).__name__}); each trial informs the next, so let them finish")
        self.run_config = run_config
        self.estimator = estimator
        self.pipeline = pipeline
        self.resume_from = _run_list("resume_from", resume_from)
        if len(self.resume_from) > MAX_RESUME_FROM:
            raise ConfigError(f"HyperDriveConfig: resume_from takes at most {MAX_RESUME_FROM} sweeps, "
                              f"got {len(self.resume_from)}")
        self.resume_child_runs = _run_list("resume_child_runs", resume_child_runs)
        self._trial_source()  # the kind of thing swept is checked now, the rest at submit

    @property
    def concurrency(self) -> int:
        """Trials at once: ``max_concurrent_runs``, or this machine's CPU count, at most ``max_total_runs``."""
        return min(self.max_concurrent_runs or os.cpu_count() or 1, self.max_total_runs)

    def _trial_source(self) -> Any:
        from ..config import ScriptRunConfig
        if self.pipeline is not None:
            from ..pipeline import Pipeline
            if not isinstance(self.pipeline, Pipeline):
                raise ConfigError(f"HyperDriveConfig: pipeline must be a Pipeline, got {type(self.pipeline).__name__}")
            return self.pipeline
        if self.estimator is not None:
            if not callable(getattr(self.estimator, "run_config", None)):
                raise ConfigError(f"HyperDriveConfig: estimator must be an estimator (SKLearn, PyTorch, R, ...), "
                                  f"got {type(self.estimator).__name__}")
            return self.estimator.run_config()
        if not isinstance(self.run_config, ScriptRunConfig):
            raise ConfigError(f"HyperDriveConfig: run_config must be a ScriptRunConfig, got "
                              f"{type(self.run_config).__name__}")
        return self.run_config

    # -- submitting ------------------------------------------------------------------
    def _submit(self, experiment: "Experiment", tags: dict[str, Any], display_name: str | None = None,
                properties: dict[str, Any] | None = None, parent_run_id: str | None = None,
                **kwargs: Any) -> "HyperDriveRun":
        refuse_unknown_arguments("Experiment.submit(HyperDriveConfig)", kwargs,
                                 "it takes tags, display_name, properties and parent_run_id")
        return start_sweep(experiment, self._definition(experiment.workspace), tags=tags, display_name=display_name,
                           properties=properties, parent_run_id=parent_run_id)

    def _definition(self, workspace: "Workspace") -> dict[str, Any]:
        """What the driver runs: the trial (a job, or a pipeline) and the sweep's settings."""
        source = self._trial_source()
        if self.pipeline is not None:
            unknown = sorted(set(self.hyperparameter_sampling.parameter_space) - set(source.parameters))
            if unknown:
                raise ConfigError(f"HyperDriveConfig: {', '.join(map(repr, unknown))} is not a PipelineParameter of "
                                  f"the pipeline (its parameters: {', '.join(sorted(source.parameters)) or 'none'})")
            _check_pipeline_values(self.hyperparameter_sampling, source.parameters)
            trial = {"kind": "pipeline", "pipeline": source._definition(workspace, {}, take_snapshots=True)}
        else:
            trial = {"kind": "job", "job": trial_job(source, workspace)}
            names = list(self.hyperparameter_sampling.parameter_space)
            check_references(trial["job"]["command"], names, "HyperDriveConfig")
            taken = {a for a in trial["job"]["arguments"] if a.startswith("--")}
            clash = [] if references(trial["job"]["command"]) else sorted(n for n in names if option(n) in taken)
            if clash:
                raise ConfigError(f"HyperDriveConfig: the script's arguments already hold {option(clash[0])!r}; the "
                                  f"sweep appends '{option(clash[0])} <value>' to each trial's arguments, so take it "
                                  f"out of the arguments")
        limit = self.hyperparameter_sampling.size()
        if isinstance(self.hyperparameter_sampling, GridParameterSampling) and limit > 100_000:
            raise ConfigError(f"GridParameterSampling: the grid holds {int(limit)} points; at most 100000")
        resumed = check_resume(workspace, self)
        return {
            "trial": trial, "sampling": self.hyperparameter_sampling.to_json(), "policy": self.policy.to_json(),
            "primary_metric_name": self.primary_metric_name, "goal": self.primary_metric_goal.value,
            "max_total_runs": self.max_total_runs, "max_concurrent_runs": self.concurrency,
            "max_duration_minutes": self.max_duration_minutes, **resumed,
        }

    def __repr__(self) -> str:
        return (f"HyperDriveConfig({self.hyperparameter_sampling!r}, primary_metric_name={self.primary_metric_name!r}, "
                f"primary_metric_goal={self.primary_metric_goal.value}, max_total_runs={self.max_total_runs})")


def trial_job(config: Any, workspace: "Workspace") -> dict[str, Any]:
    """A ``ScriptRunConfig`` as the job every trial runs (values written into its command where it
    says ``${{search_space.NAME}}``, else appended to its arguments), checked and snapshotted now."""
    from ..data.consumption import job_inputs
    from ..pipeline.pipeline import _snapshot
    config._check_node_count()
    source = config.validate_source()
    target, environment, note = config.placement(workspace)
    target.check_reachable()
    if environment is not None:
        environment.validate_for_build()
        target.check_environment(environment)
    if config.resume_from is not None:
        raise ConfigError("HyperDriveConfig: the swept ScriptRunConfig has resume_from; resume trials with "
                          "HyperDriveConfig(resume_child_runs=[...]) instead")
    run_config = config.run_config
    inputs = job_inputs(config.dataset_inputs(), workspace, "HyperDriveConfig")
    variables = dict(run_config.environment_variables) if run_config else {}
    for entry in inputs:
        if entry["mode"] != "direct":
            variables.setdefault(f"AZUREML_DATAREFERENCE_{entry['name']}", entry["argument"])
    duration = config.max_run_duration_seconds
    if run_config and run_config.max_run_duration_seconds:
        duration = min(duration or run_config.max_run_duration_seconds, run_config.max_run_duration_seconds)
    return {
        "snapshot_hash": _snapshot(workspace, source),
        "script": config.script or (run_config.script if run_config else None), "command": config.command,
        "arguments": config.resolved_arguments({e["name"]: e["argument"] for e in inputs}),
        "environment": environment.model_dump(mode="json") if environment else None,
        "target": target.name, "environment_variables": variables, "max_run_duration_seconds": duration,
        "distributed": config.distributed_job_config.to_job() if config.distributed_job_config else None,
        "max_retries": run_config.max_retries if run_config else 0,
        "resources": run_config.job_resources() if run_config else {}, "inputs": inputs,
        **({"notes": [note]} if note else {}),
    }


def check_resume(workspace: "Workspace", config: HyperDriveConfig) -> dict[str, Any]:
    """``resume_from`` sweeps (same metric and goal, ended) and ``resume_child_runs`` (trials of
    those sweeps), as run ids."""
    sweeps = []
    for run_id in config.resume_from:
        row = workspace._store.get_run(run_id)
        if row is None or row["run_type"] != "hyperdrive":
            raise NotFoundError(f"HyperDriveConfig: resume_from {run_id!r} is not a sweep of workspace "
                                f"{workspace.name!r}")
        if row["status"] not in st.TERMINAL:
            raise ConfigError(f"HyperDriveConfig: resume_from {run_id!r} is still {row['status']}; cancel it or wait "
                              f"for it to end")
        earlier = json.loads(row["definition"])
        if (earlier["primary_metric_name"], earlier["goal"]) != (config.primary_metric_name,
                                                                 config.primary_metric_goal.value):
            raise ConfigError(f"HyperDriveConfig: resume_from {run_id!r} sought {earlier['goal'].lower()} "
                              f"{earlier['primary_metric_name']!r}; this sweep seeks "
                              f"{config.primary_metric_goal.value.lower()} {config.primary_metric_name!r}")
        sweeps.append(run_id)
    children = []
    for run_id in config.resume_child_runs:
        row = workspace._store.get_run(run_id)
        if row is None or row["parent_id"] not in sweeps:
            raise ConfigError(f"HyperDriveConfig: resume_child_runs {run_id!r} is not a trial of a sweep in "
                              f"resume_from ({', '.join(sweeps) or 'none given'})")
        children.append(run_id)
    return {"resume_from": sweeps, "resume_child_runs": children}


def start_sweep(experiment: "Experiment", definition: dict[str, Any], *, tags: dict[str, Any],
                display_name: str | None = None, properties: dict[str, Any] | None = None,
                parent_run_id: str | None = None) -> "HyperDriveRun":
    """Record a sweep run of ``definition`` Queued and start its driver."""
    from ..compute.local import start_driven_run
    return start_driven_run(
        experiment, definition, run_type="hyperdrive", module="runyard.hyperdrive._driver", log_name=DRIVER_LOG,
        what="sweep", tags=tags, display_name=display_name, parent_run_id=parent_run_id,
        properties={"primary_metric_config": json.dumps({"name": definition["primary_metric_name"],
                                                         "goal": definition["goal"].lower()}),
                    "runTemplate": "HyperDrive", **(properties or {})})


def _check_pipeline_values(sampling: HyperParameterSampling, parameters: dict[str, Any]) -> None:
    """Every value a swept pipeline parameter can get is of its default's kind (a sample of
    each continuous expression; every option of a choice)."""
    import random
    rng = random.Random(0)
    for name, expression in sampling.parameter_space.items():
        values = expression.values if expression.kind == "choice" else [expression.sample(rng) for _ in range(3)]
        for value in values:
            try:
                parameters[name].check(value)
            except ConfigError as e:
                raise ConfigError(f"HyperDriveConfig: {expression!r} gives {value!r} to PipelineParameter {name!r}, "
                                  f"whose default is {parameters[name].default_value!r}: {e}") from e


def _count(name: str, value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ConfigError(f"HyperDriveConfig: {name} must be a whole number from 1 to {most}, got {value!r}")
    return value


def _run_list(name: str, value: Any) -> list[str]:
    """Runs given as ``Run`` objects or ids (one, or a list) -> their ids."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    ids = []
    for item in items:
        run_id = getattr(item, "id", item)
        if not isinstance(run_id, str) or not run_id:
            raise ConfigError(f"HyperDriveConfig: {name} takes runs or run ids, got {item!r}")
        ids.append(run_id)
    return ids
