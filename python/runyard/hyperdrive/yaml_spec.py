"""Sweep jobs described in YAML, in the shape of Azure ML CLI v2's ``type: sweep``.

``runyard job submit -f sweep.yml`` (and ``load_job_file``) read one into the
``HyperDriveConfig`` the same sweep written in Python is:

- ``trial`` is a command job (``code``, ``command``, ``environment``...); the
  file's ``inputs`` and ``compute`` are its inputs and target;
- ``search_space`` maps each hyperparameter to an expression
  (``{type: uniform, min_value: 0.01, max_value: 1}``, Azure's ten kinds);
- ``sampling_algorithm`` is ``random``, ``grid`` or ``bayesian`` (or
  ``{type: random, seed: 7}``), ``objective`` the primary metric and its goal,
  ``limits`` the trial counts and ``timeout`` (seconds), ``early_termination``
  a bandit, median-stopping or truncation-selection policy.

A trial's command names its values as ``${{search_space.NAME}}``; a command that
names none gets ``--NAME value`` per hyperparameter appended, as HyperDrive v1
did. Every problem is a ``ConfigError`` naming the file, the line and the field,
before anything is recorded.

>>> job = load_job_file("examples/sklearn-sweep/sweep.yml", ws)  # doctest: +SKIP
>>> Experiment(ws, job.experiment_name).submit(job.config, tags=job.tags)  # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from .. import _yaml
from ..config import (DEFAULT_MAX_RUN_DURATION_S, CommandJob, Distribution, JobDefinition, JobFileHeader,
                      JobResources, LiteralInput, PathInput, check_compute, command_config)
from ..errors import ConfigError
from . import parameters
from .config import MAX_CONCURRENT_RUNS, MAX_DURATION_MINUTES, MAX_TOTAL_RUNS, HyperDriveConfig
from .policies import BanditPolicy, EarlyTerminationPolicy, MedianStoppingPolicy, TruncationSelectionPolicy
from .sampling import SAMPLINGS, BayesianParameterSampling, HyperParameterSampling
from .trial_command import references

if TYPE_CHECKING:
    from ..workspace import Workspace

_Scalar = Union[str, int, float, bool]
_REF = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


#: a number as written: an integer stays one (a quantised value is whole when its ``q`` is)
_Number = Annotated[Union[StrictInt, float], BeforeValidator(_not_bool)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- search_space: Azure's ten parameter expressions ------------------------------------
class Choice(_Spec):
    """One of ``values`` (numbers, text, true/false)."""

    type: Literal["choice"]
    values: list[_Scalar] = Field(min_length=1)


class Randint(_Spec):
    """An integer in ``[0, upper)``."""

    type: Literal["randint"]
    upper: StrictInt = Field(ge=1)


class Uniform(_Spec):
    type: Literal["uniform"]
    min_value: _Number
    max_value: _Number


class LogUniform(_Spec):
    """``exp(uniform(min_value, max_value))``: the bounds are natural logs."""

    type: Literal["loguniform"]
    min_value: _Number
    max_value: _Number


class QUniform(_Spec):
    type: Literal["quniform"]
    min_value: _Number
    max_value: _Number
    q: _Number


class QLogUniform(_Spec):
    type: Literal["qloguniform"]
    min_value: _Number
    max_value: _Number
    q: _Number


class Normal(_Spec):
    type: Literal["normal"]
    mu: _Number
    sigma: _Number


class LogNormal(_Spec):
    type: Literal["lognormal"]
    mu: _Number
    sigma: _Number


class QNormal(_Spec):
    type: Literal["qnormal"]
    mu: _Number
    sigma: _Number
    q: _Number


class QLogNormal(_Spec):
    type: Literal["qlognormal"]
    mu: _Number
    sigma: _Number
    q: _Number


SearchSpaceEntry = Annotated[Union[Choice, Randint, Uniform, LogUniform, QUniform, QLogUniform, Normal, LogNormal,
                                   QNormal, QLogNormal], Field(discriminator="type")]


# -- sampling_algorithm ----------------------------------------------------------------
class RandomSamplingAlgorithm(_Spec):
    """Random sampling; ``seed`` picks another sequence of trials (default: one derived from
    the search space). Azure's ``rule: sobol`` and ``logbase`` are not supported."""

    type: Literal["random"]
    seed: StrictInt | None = Field(None, ge=0, lt=2**32)
    rule: Literal["random"] = "random"


class GridSamplingAlgorithm(_Spec):
    """Every combination of the ``choice`` values, once each."""

    type: Literal["grid"]


class BayesianSamplingAlgorithm(_Spec):
    """Optuna's TPE sampler (``pip install "runyard[hyperdrive]"``); takes choice, uniform and
    quniform, and no early termination."""

    type: Literal["bayesian"]


def _or_by_name(schema: dict[str, Any]) -> None:
    """``sampling_algorithm``'s JSON Schema: a name, or one of the written-out forms."""
    written_out = {key: schema.pop(key) for key in ("oneOf", "discriminator") if key in schema}
    schema["anyOf"] = [{"enum": ["random", "grid", "bayesian"], "type": "string"}, written_out]


SamplingAlgorithm = Annotated[Union[RandomSamplingAlgorithm, GridSamplingAlgorithm, BayesianSamplingAlgorithm],
                              Field(discriminator="type")]


# -- objective, limits, early_termination -----------------------------------------------
class Objective(_Spec):
    goal: Literal["maximize", "minimize"]
    #: a metric each trial logs with ``run.log`` (a trial's score is the best value it logged)
    primary_metric: str = Field(min_length=1)


class SweepLimits(_Spec):
    """How many trials, how many at once (default: this machine's CPU count), and for how long
    (seconds; ``timeout`` for the sweep, ``trial_timeout`` for each trial)."""

    max_total_trials: int = Field(MAX_TOTAL_RUNS, ge=1, le=MAX_TOTAL_RUNS)
    max_concurrent_trials: int | None = Field(None, ge=1, le=MAX_CONCURRENT_RUNS)
    timeout: int | None = Field(None, gt=0, le=MAX_DURATION_MINUTES * 60)
    trial_timeout: int | None = Field(None, gt=0)


class BanditPolicySpec(_Spec):
    """Stop trials not within ``slack_factor`` (a ratio) or ``slack_amount`` (a difference) of
    the best trial at the same interval; give one of the two."""

    type: Literal["bandit"]
    slack_factor: _Number | None = None
    slack_amount: _Number | None = None
    evaluation_interval: int = Field(1, ge=1)
    delay_evaluation: int = Field(0, ge=0)


class MedianStoppingPolicySpec(_Spec):
    """Stop trials whose best value is worse than the median of the running averages."""

    type: Literal["median_stopping"]
    evaluation_interval: int = Field(1, ge=1)
    delay_evaluation: int = Field(0, ge=0)


class TruncationSelectionPolicySpec(_Spec):
    """Stop the worst ``truncation_percentage`` percent of the trials at each evaluation."""

    type: Literal["truncation_selection"]
    truncation_percentage: int = Field(ge=1, le=99)
    evaluation_interval: int = Field(1, ge=1)
    delay_evaluation: int = Field(0, ge=0)


EarlyTermination = Annotated[Union[BanditPolicySpec, MedianStoppingPolicySpec, TruncationSelectionPolicySpec],
                             Field(discriminator="type")]


class SweepTrial(_Spec):
    """``trial:`` the command each trial runs, written as a command job's fields."""

    code: str = "."
    command: str = Field(min_length=1)
    environment: str | dict[str, Any] | None = None
    environment_variables: dict[str, _Scalar] = Field(default_factory=dict)
    distribution: Distribution | None = None
    resources: JobResources = Field(default_factory=JobResources)


class SweepJob(JobFileHeader):
    """A sweep job file (``type: sweep``)."""

    type: Literal["sweep"] = "sweep"
    inputs: dict[str, Union[PathInput, LiteralInput, _Scalar]] = Field(default_factory=dict)
    #: ``random``, ``grid`` or ``bayesian``, or one written out (``{type: random, seed: 7}``)
    sampling_algorithm: SamplingAlgorithm = Field(json_schema_extra=_or_by_name)
    search_space: dict[str, SearchSpaceEntry] = Field(min_length=1)
    objective: Objective
    limits: SweepLimits = Field(default_factory=SweepLimits)
    early_termination: EarlyTermination | None = None
    trial: SweepTrial

    @pydantic.field_validator("sampling_algorithm", mode="before")
    @classmethod
    def _by_name(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value


#: keys a command job has that a sweep job has at its top level, not in ``trial``: where they go
_TOP_LEVEL = {"inputs": "'inputs'", "compute": "'compute'", "limits": "'limits.trial_timeout' (seconds)"}


# -- loading ---------------------------------------------------------------------------
def load_sweep(doc: _yaml.YamlDocument, workspace: "Workspace | None") -> JobDefinition:
    """The ``HyperDriveConfig`` of a sweep job file already read (``load_job_file`` reads it)."""
    trial = doc.data.get("trial")
    if isinstance(trial, dict):
        for key, where in _TOP_LEVEL.items():
            if key in trial:
                raise doc.error(["trial", key], f"a sweep job has this at its top level, beside 'trial' (as in "
                                                f"Azure ML CLI v2): write it as {where} there")
    try:
        spec = SweepJob.model_validate(doc.data)
    except pydantic.ValidationError as e:
        raise doc.validation_error(e, data=doc.data) from e
    space = {name: _expression(doc, name, entry) for name, entry in spec.search_space.items()}
    _check_command(doc, spec)
    sampling = _sampling(doc, spec, space)
    policy = _policy(doc, spec.early_termination)
    if isinstance(sampling, BayesianParameterSampling) and policy is not None:
        raise doc.error(["early_termination"], "bayesian sampling takes no early termination: each trial informs "
                                               "the next, so let them finish (remove early_termination)")
    compute = check_compute(doc, spec.compute, workspace)
    job = CommandJob.model_validate({**spec.trial.model_dump(exclude_unset=True), "inputs": spec.inputs,
                                     "compute": compute})
    run_config = command_config(doc, job, workspace, timeout=spec.limits.trial_timeout or DEFAULT_MAX_RUN_DURATION_S,
                                at=("trial",))
    environment = run_config.resolved_environment()
    if environment is not None:
        try:
            environment.validate_for_build()
        except ConfigError as e:
            raise doc.error(["trial", "environment"], str(e)) from None
    limits = spec.limits
    try:
        config = HyperDriveConfig(
            run_config=run_config, hyperparameter_sampling=sampling, policy=policy,
            primary_metric_name=spec.objective.primary_metric, primary_metric_goal=spec.objective.goal,
            max_total_runs=limits.max_total_trials, max_concurrent_runs=limits.max_concurrent_trials,
            max_duration_minutes=limits.timeout / 60 if limits.timeout else MAX_DURATION_MINUTES)
    except ConfigError as e:
        raise doc.error([], str(e)) from None
    return JobDefinition(config=config, experiment_name=spec.experiment_name,
                         display_name=spec.display_name or spec.name, tags=spec.tags)


def _expression(doc: _yaml.YamlDocument, name: str, entry: BaseModel) -> parameters.Expression:
    loc = ["search_space", name]
    if not re.match(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$", name):
        raise doc.error(loc, f"{name!r} is no hyperparameter name: use letters, digits, '_', '.' or '-', starting "
                             f"with a letter (a trial gets it as ${{{{search_space.{name}}}}} or '--{name} VALUE')")
    fields = entry.model_dump(exclude={"type"})
    arguments = [fields[k] for k in ("values", "upper", "min_value", "max_value", "mu", "sigma", "q") if k in fields]
    try:
        if entry.type == "choice":
            return parameters.choice(*fields["values"])
        return parameters.EXPRESSIONS[entry.type](*arguments)
    except ConfigError as e:
        raise doc.error(loc, str(e)) from None


def _check_command(doc: _yaml.YamlDocument, spec: SweepJob) -> None:
    """Every ``${{...}}`` of the trial's command names an input or a hyperparameter; one that
    names hyperparameters names them all (a value no script sees makes trials that differ in
    nothing)."""
    loc = ["trial", "command"]
    for match in _REF.finditer(spec.trial.command):
        ref = match.group(1)
        kind, _, name = ref.partition(".")
        if kind == "search_space" and name not in spec.search_space:
            raise doc.error(loc, f"${{{{{ref}}}}}: the search space has no {name!r} (its names: "
                                 f"{', '.join(spec.search_space)})")
        if kind not in ("inputs", "search_space") or not name:
            raise doc.error(loc, f"${{{{{ref}}}}} is no reference a sweep job's trial knows; use "
                                 f"${{{{search_space.NAME}}}} or ${{{{inputs.NAME}}}}")
    used = references(spec.trial.command)
    for name in spec.search_space:
        if used and name not in used:
            raise doc.error(["search_space", name], f"the trial's command names other hyperparameters as "
                                                    f"${{{{search_space.NAME}}}} but not this one; add "
                                                    f"${{{{search_space.{name}}}}} to it (or remove {name!r})")


def _sampling(doc: _yaml.YamlDocument, spec: SweepJob,
              space: dict[str, parameters.Expression]) -> HyperParameterSampling:
    chosen = spec.sampling_algorithm
    kind = chosen if isinstance(chosen, str) else chosen.type
    seed = getattr(chosen, "seed", None)
    cls = SAMPLINGS[kind]
    for name, expression in space.items():
        if expression.kind not in cls.allowed:
            raise doc.error(["search_space", name, "type"], f"{kind} sampling takes only "
                                                            f"{', '.join(sorted(cls.allowed))}, not {expression.kind}")
    try:
        return cls(space, properties={"seed": seed} if seed is not None else None)
    except ConfigError as e:
        raise doc.error(["sampling_algorithm"], str(e)) from None


def _policy(doc: _yaml.YamlDocument, spec: BaseModel | None) -> EarlyTerminationPolicy | None:
    if spec is None:
        return None
    fields = spec.model_dump(exclude={"type"})
    make = {"bandit": BanditPolicy, "median_stopping": MedianStoppingPolicy,
            "truncation_selection": TruncationSelectionPolicy}[spec.type]
    try:
        return make(**fields)
    except ConfigError as e:
        raise doc.error(["early_termination"], str(e)) from None
