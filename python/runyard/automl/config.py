"""``AutoMLConfig``: a table, a label and a budget; submitted, a search over child runs.

Submitting one checks the settings and the data (errors that name the setting or the
column, before anything is recorded), registers a pandas ``training_data`` (and
``validation_data``) as a dataset version so the run has lineage, snapshots the
iteration script once, records the AutoML run ``Queued`` and starts its driver
(``runyard.automl._driver``): a detached process that runs each iteration as a child run
on the config's compute target, ``max_concurrent_iterations`` at a time.

>>> config = AutoMLConfig(task="classification", primary_metric="AUC_weighted", training_data=frame,
...                       label_column_name="churned", experiment_timeout_minutes=5)  # doctest: +SKIP
>>> run = Experiment(ws, "churn").submit(config)  # doctest: +SKIP
>>> best_run, model = run.get_output()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, refuse_unknown_arguments
from . import metrics as am
from . import models
from .featurization import FeaturizationConfig
from .validation import plan as validation_plan

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..workspace import Workspace
    from .run import AutoMLRun

#: the AutoML run's logs/ file with its driver's output
DRIVER_LOG = "automl.log"
MAX_ITERATIONS = 1000
MAX_TIMEOUT_MINUTES = 525_600  # a year, as in Azure
MAX_ITERATION_TIMEOUT_MINUTES = 43_200
#: Azure's default experiment timeout: 6 days
DEFAULT_TIMEOUT_MINUTES = 6 * 24 * 60
#: a budget under this with cross-validation on this many rows gets a warning of what will happen
SHORT_BUDGET_MINUTES = 1.0
LARGE_TABLE_ROWS = 10_000
ITERATION_SCRIPT = "automl_iteration.py"
SETTINGS_FILE = "automl_settings.json"


class AutoMLConfig:
    """Azure ML's ``AutoMLConfig`` (names and rules; see the reference for each argument).

    ``task``: ``'classification'``, ``'regression'`` or ``'forecasting'`` (with
    ``forecasting_parameters``, a ``ForecastingParameters``: rolling-origin cross-validation,
    ``n_cross_validations`` folds, default up to 3);
    ``training_data``: a pandas DataFrame or a ``TabularDataset`` holding ``label_column_name``;
    validation: ``validation_data``, ``validation_size``, ``n_cross_validations`` (with
    ``validation_size``: Monte Carlo) or ``cv_split_column_names``, else Azure's default by row
    count; budget: ``iterations`` (default 1000), ``experiment_timeout_hours`` or
    ``experiment_timeout_minutes`` (default 6 days; any length: a run shorter than a minute
    says what it will manage), ``iteration_timeout_minutes``, ``experiment_exit_score``,
    ``enable_early_stopping``; search: ``allowed_models``, ``blocked_models``,
    ``featurization`` ('auto', 'off' or a ``FeaturizationConfig``); where: ``compute_target``
    (default local), ``environment`` (default: the submitting Python, which needs
    ``runyard[automl]``), ``max_concurrent_iterations``, ``max_cores_per_iteration`` (-1: all).
    """

    def __init__(self, task: str, primary_metric: str | None = None, training_data: Any = None,
                 label_column_name: str | None = None, validation_data: Any = None,
                 validation_size: float | None = None, n_cross_validations: int | None = None,
                 cv_split_column_names: list[str] | None = None, weight_column_name: str | None = None,
                 compute_target: Any = None, iterations: int | None = None,
                 experiment_timeout_hours: float | None = None, experiment_timeout_minutes: float | None = None,
                 iteration_timeout_minutes: float | None = None, max_concurrent_iterations: int = 1,
                 max_cores_per_iteration: int = 1, enable_early_stopping: bool = True,
                 experiment_exit_score: float | None = None, allowed_models: list[str] | None = None,
                 blocked_models: list[str] | None = None, featurization: str | FeaturizationConfig = "auto",
                 enable_voting_ensemble: bool = True, enable_stack_ensemble: bool | None = None,
                 model_explainability: bool | None = None, environment: Any = None,
                 forecasting_parameters: Any = None, **kwargs: Any):
        refuse_unknown_arguments("AutoMLConfig()", kwargs, "see help(AutoMLConfig) for its arguments")
        # what rebuilds this config around other data (an AutoMLStep whose data a step writes)
        self._given = {
            "task": task, "primary_metric": primary_metric, "label_column_name": label_column_name,
            "validation_size": validation_size, "n_cross_validations": n_cross_validations,
            "cv_split_column_names": cv_split_column_names, "weight_column_name": weight_column_name,
            "iterations": iterations, "experiment_timeout_hours": experiment_timeout_hours,
            "experiment_timeout_minutes": experiment_timeout_minutes,
            "iteration_timeout_minutes": iteration_timeout_minutes, "max_concurrent_iterations": max_concurrent_iterations,
            "max_cores_per_iteration": max_cores_per_iteration, "enable_early_stopping": enable_early_stopping,
            "experiment_exit_score": experiment_exit_score, "allowed_models": allowed_models,
            "blocked_models": blocked_models, "enable_voting_ensemble": enable_voting_ensemble,
            "enable_stack_ensemble": enable_stack_ensemble, "model_explainability": model_explainability}
        if task not in am.TASKS:
            raise ConfigError(f"AutoMLConfig: task must be 'classification', 'regression' or 'forecasting', got {task!r}")
        if task == "forecasting":
            _check_forecasting(forecasting_parameters, validation_data, validation_size, cv_split_column_names,
                               weight_column_name, enable_stack_ensemble)
            enable_stack_ensemble = False if enable_stack_ensemble is None else enable_stack_ensemble
        elif forecasting_parameters is not None:
            raise ConfigError(f"AutoMLConfig: forecasting_parameters are for task='forecasting', not {task!r}")
        self.forecasting_parameters = forecasting_parameters
        model_explainability = True if model_explainability is None else model_explainability
        self.task = task
        self.primary_metric = am.check_primary_metric(task, primary_metric)
        for name, value in (("enable_voting_ensemble", enable_voting_ensemble),
                            ("enable_stack_ensemble", enable_stack_ensemble), ("model_explainability", model_explainability)):
            if value is not None and not isinstance(value, bool):
                raise ConfigError(f"AutoMLConfig: {name} must be True or False, got {value!r}")
        #: the last iterations, as Azure runs them (stacking is on unless turned off)
        self.ensembles = [name for name, on in (("VotingEnsemble", enable_voting_ensemble),
                                                ("StackEnsemble", enable_stack_ensemble is not False)) if on]
        self.model_explainability = model_explainability
        if training_data is None:
            raise ConfigError("AutoMLConfig: training_data is required (a pandas DataFrame or a TabularDataset)")
        self.training_data = _check_data(training_data, "training_data")
        self.validation_data = None if validation_data is None else _check_data(validation_data, "validation_data")
        if not isinstance(label_column_name, str) or not label_column_name:
            raise ConfigError(f"AutoMLConfig: label_column_name must name the column to predict, "
                              f"got {label_column_name!r}")
        self.label_column_name = label_column_name
        self.weight_column_name = _optional_name("weight_column_name", weight_column_name)
        self.validation_size = validation_size
        self.n_cross_validations = n_cross_validations
        self.cv_split_column_names = cv_split_column_names
        names = [label_column_name, weight_column_name,
                 *([cv_split_column_names] if isinstance(cv_split_column_names, str) else cv_split_column_names or [])]
        lowered = [n.lower() for n in names if n]
        if len(set(lowered)) != len(lowered):
            raise ConfigError("AutoMLConfig: label_column_name, weight_column_name and cv_split_column_names must "
                              "name different columns")
        self.compute_target = compute_target
        self.environment = environment
        self.iterations = MAX_ITERATIONS if iterations is None else _whole("iterations", iterations, 1, MAX_ITERATIONS)
        if experiment_timeout_hours is not None and experiment_timeout_minutes is not None:
            raise ConfigError("AutoMLConfig: give experiment_timeout_hours or experiment_timeout_minutes, not both")
        minutes = experiment_timeout_minutes if experiment_timeout_hours is None else (
            _positive("experiment_timeout_hours", experiment_timeout_hours, MAX_TIMEOUT_MINUTES / 60) * 60)
        self.experiment_timeout_minutes = DEFAULT_TIMEOUT_MINUTES if minutes is None else \
            _positive("experiment_timeout_minutes", minutes, MAX_TIMEOUT_MINUTES)
        self.iteration_timeout_minutes = None if iteration_timeout_minutes is None else \
            _positive("iteration_timeout_minutes", iteration_timeout_minutes, MAX_ITERATION_TIMEOUT_MINUTES)
        self.max_concurrent_iterations = _whole("max_concurrent_iterations", max_concurrent_iterations, 1, 100)
        if max_cores_per_iteration != -1:
            _whole("max_cores_per_iteration", max_cores_per_iteration, 1, 16_384)
        self.max_cores_per_iteration = max_cores_per_iteration
        if not isinstance(enable_early_stopping, bool):
            raise ConfigError(f"AutoMLConfig: enable_early_stopping must be True or False, got {enable_early_stopping!r}")
        self.enable_early_stopping = enable_early_stopping
        if experiment_exit_score is not None and (isinstance(experiment_exit_score, bool) or not isinstance(
                experiment_exit_score, (int, float)) or not math.isfinite(experiment_exit_score)):
            raise ConfigError(f"AutoMLConfig: experiment_exit_score must be a number (a score of {self.primary_metric}), "
                              f"got {experiment_exit_score!r}")
        self.experiment_exit_score = experiment_exit_score
        self.allowed_models = models.check_names(task, allowed_models, "allowed_models")
        self.blocked_models = models.check_names(task, blocked_models, "blocked_models")
        if isinstance(featurization, str):
            if featurization.lower() not in ("auto", "off"):
                raise ConfigError(f"AutoMLConfig: featurization must be 'auto', 'off' or a FeaturizationConfig, "
                                  f"got {featurization!r}")
            featurization = featurization.lower()
        elif not isinstance(featurization, FeaturizationConfig):
            raise ConfigError(f"AutoMLConfig: featurization must be 'auto', 'off' or a FeaturizationConfig, "
                              f"got {type(featurization).__name__}")
        self.featurization = featurization

    # -- the data --------------------------------------------------------------------
    def _frames(self) -> tuple[Any, Any]:
        train = _frame(self.training_data, "training_data")
        valid = None if self.validation_data is None else _frame(self.validation_data, "validation_data")
        return train, valid

    def _check(self, train: Any, valid: Any) -> dict[str, Any]:
        """The data checked against the settings; the validation plan and the algorithms."""
        import pandas as pd
        label = self.label_column_name
        if len(train) == 0:
            raise ConfigError("AutoMLConfig: training_data has no rows")
        columns = [str(c) for c in train.columns]
        for field, name in (("label_column_name", label), ("weight_column_name", self.weight_column_name)):
            if name is not None and name not in columns:
                raise ConfigError(f"AutoMLConfig: {field} {name!r} is not a column of training_data "
                                  f"(columns: {', '.join(columns)})")
        y = train[label]
        if y.isna().any():
            missing = int(y.isna().sum())
            raise ConfigError(f"AutoMLConfig: {missing} row(s) of training_data have no {label!r}; drop them or fill "
                              f"them in")
        if self.task == "classification":
            counts = y.value_counts()
            if len(counts) < 2:
                raise ConfigError(f"AutoMLConfig: label {label!r} has one class only ({counts.index[0]!r}); "
                                  f"classification needs two or more")
        elif not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise ConfigError(f"AutoMLConfig: task {self.task!r} needs a numeric label; {label!r} is {y.dtype}"
                              + (" (use task='classification' to predict categories)" if self.task == "regression"
                                 else ""))
        if self.weight_column_name:
            weights = train[self.weight_column_name]
            if not pd.api.types.is_numeric_dtype(weights) or weights.isna().any() or (weights < 0).any():
                raise ConfigError(f"AutoMLConfig: weight_column_name {self.weight_column_name!r} must hold numbers "
                                  f"of 0 or more on every row")
        if valid is not None:
            lacking = [c for c in columns if c not in valid.columns]
            if lacking:
                raise ConfigError(f"AutoMLConfig: validation_data lacks column {lacking[0]!r} of training_data")
        if isinstance(self.featurization, FeaturizationConfig):
            self.featurization.check_columns(columns)
        if self.task == "forecasting":
            return self._check_forecasting(train, columns)
        plan = validation_plan(len(train), validation_data=valid if valid is not None else None,
                               validation_size=self.validation_size, n_cross_validations=self.n_cross_validations,
                               cv_split_column_names=self.cv_split_column_names, columns=columns)
        if plan.kind == "cv_columns":
            for column in plan.columns:
                values = set(pd.unique(train[column].dropna()))
                if not values <= {0, 1} or train[column].isna().any():
                    raise ConfigError(f"AutoMLConfig: cv_split_column_names {column!r} must hold 1 (train) or 0 "
                                      f"(validate) on every row")
        algorithms = models.chosen(self.task, self.allowed_models, self.blocked_models, len(train))
        features = len(columns) - 1 - bool(self.weight_column_name) - len(plan.columns)
        if features < 1:
            raise ConfigError("AutoMLConfig: training_data has no column to learn from besides the label")
        warning = None
        if self.experiment_timeout_minutes < SHORT_BUDGET_MINUTES and plan.kind in ("cv", "monte_carlo") \
                and len(train) >= LARGE_TABLE_ROWS:
            warning = (f"a budget of {self.experiment_timeout_minutes * 60:g} s with {plan.describe()} on "
                       f"{len(train):,} rows: each iteration fits {plan.folds + 1} models, so only the cheapest "
                       f"configurations will finish; the run returns the best of those (give validation_size= or "
                       f"more time for more)")
            warnings.warn(f"AutoMLConfig: {warning}", UserWarning, stacklevel=3)
        classes = int(y.nunique()) if self.task == "classification" else None
        return {"plan": plan, "algorithms": algorithms, "rows": len(train), "features": features, "warning": warning,
                "classes": classes}

    def _check_forecasting(self, train: Any, columns: list[str]) -> dict[str, Any]:
        from .forecasting import resolve
        from .time_features import PREFIX
        from .validation import ValidationPlan
        if self.n_cross_validations is not None and (isinstance(self.n_cross_validations, bool) or not isinstance(
                self.n_cross_validations, int) or not 1 <= self.n_cross_validations <= 100):
            raise ConfigError(f"AutoMLConfig: n_cross_validations must be a whole number of rolling-origin folds from "
                              f"1 to 100, got {self.n_cross_validations!r}")
        clash = [c for c in columns if c.startswith(PREFIX)]
        if clash:
            raise ConfigError(f"AutoMLConfig: column {clash[0]!r} starts with {PREFIX!r}, which names the features "
                              f"AutoML makes; rename it")
        settings = resolve(self.forecasting_parameters, train, self.label_column_name, self.n_cross_validations)
        plan = ValidationPlan("rolling_origin", folds=settings["folds"], horizon=settings["horizon"],
                              step=settings["step"],
                              reason="" if self.n_cross_validations is not None else "default: up to 3 folds")
        algorithms = models.chosen(self.task, self.allowed_models, self.blocked_models, len(train))
        covariates = len(columns) - 1 - len(self.forecasting_parameters.columns())
        features = covariates + len(self.forecasting_parameters.time_series_id_column_names) + 4 + len(
            settings["lags"] or []) + (3 if settings["window"] else 0)
        warning = None
        if self.experiment_timeout_minutes < SHORT_BUDGET_MINUTES and settings["series"] >= 100:
            warning = (f"a budget of {self.experiment_timeout_minutes * 60:g} s for {settings['series']} series: the "
                       f"statistical models fit each series on its own, so only the quickest will finish")
            warnings.warn(f"AutoMLConfig: {warning}", UserWarning, stacklevel=4)
        return {"plan": plan, "algorithms": algorithms, "rows": len(train), "features": features, "warning": warning,
                "classes": None, "forecasting": settings}

    # -- submitting -------------------------------------------------------------------
    def _submit(self, experiment: "Experiment", tags: dict[str, Any], display_name: str | None = None,
                properties: dict[str, Any] | None = None, parent_run_id: str | None = None,
                show_output: bool = False, **kwargs: Any) -> "AutoMLRun":
        refuse_unknown_arguments("Experiment.submit(AutoMLConfig)", kwargs,
                                 "it takes tags, display_name, properties, parent_run_id and show_output")
        definition = self._definition(experiment.workspace, f"{experiment.name}-automl")
        run = start_automl(experiment, definition, tags=tags, display_name=display_name, properties=properties,
                           parent_run_id=parent_run_id)
        if show_output:
            run.wait_for_completion(show_output=True)
        return run

    def _arguments(self) -> dict[str, Any]:
        """This config's settings as JSON, less its data (``_from_arguments`` rebuilds it)."""
        from ..compute import ComputeTarget
        target = self.compute_target
        if target is not None and not isinstance(target, str):
            target = target.name if isinstance(target, ComputeTarget) else str(target)
        return {**self._given, "compute_target": target,
                "environment": None if self.environment is None else self.environment.model_dump(mode="json"),
                "featurization": self.featurization if isinstance(self.featurization, str)
                else self.featurization.to_json(),
                "forecasting_parameters": None if self.forecasting_parameters is None
                else self.forecasting_parameters.to_json()}

    @staticmethod
    def _from_arguments(arguments: dict[str, Any], training_data: Any) -> "AutoMLConfig":
        from ..environment import Environment
        from .forecasting import ForecastingParameters
        given = dict(arguments)
        featurization = given.pop("featurization")
        forecasting = given.pop("forecasting_parameters")
        environment = given.pop("environment")
        return AutoMLConfig(
            **given, training_data=training_data,
            featurization=featurization if isinstance(featurization, str) else FeaturizationConfig.from_json(featurization),
            forecasting_parameters=None if forecasting is None else ForecastingParameters.from_json(forecasting),
            environment=None if environment is None else Environment(**environment))

    def _definition(self, workspace: "Workspace", data_name: str) -> dict[str, Any]:
        """What the driver runs; a DataFrame given as data is registered as dataset
        ``{data_name}-training`` (``-validation``)."""
        from ..config import RunConfiguration, ScriptRunConfig
        from ..hyperdrive.config import trial_job
        train, valid = self._frames()
        checked = self._check(train, valid)
        plan = checked["plan"]
        # Azure's rule: ensembles only where the iterations leave room for one more besides them
        ensembles = self.ensembles if self.iterations >= 2 + len(self.ensembles) else []
        training = _registered(self.training_data, train, workspace, f"{data_name}-training")
        validation = None if valid is None else _registered(self.validation_data, valid, workspace,
                                                            f"{data_name}-validation")
        settings = {
            "task": self.task, "primary_metric": self.primary_metric, "label_column_name": self.label_column_name,
            "weight_column_name": self.weight_column_name, "plan": plan.to_json(),
            "featurization": self.featurization if isinstance(self.featurization, str) else self.featurization.to_json(),
            "max_cores_per_iteration": self.max_cores_per_iteration,
            **({"forecasting": checked["forecasting"]} if "forecasting" in checked else {}),
        }
        arguments: list[Any] = ["--settings", SETTINGS_FILE,
                                "--training-data", training.as_named_input("training_data").as_download()]
        if validation is not None:
            arguments += ["--validation-data", validation.as_named_input("validation_data").as_download()]
        with tempfile.TemporaryDirectory(prefix="runyard-automl-") as tmp:
            (Path(tmp) / SETTINGS_FILE).write_text(json.dumps(settings, indent=1))
            (Path(tmp) / ITERATION_SCRIPT).write_text(
                "from runyard.automl.trial import main\n\nif __name__ == \"__main__\":\n    main()\n")
            # an iteration reserves its cores where a cluster schedules by them (Ray places each
            # on a node with that many free)
            cores = None if self.max_cores_per_iteration == -1 else float(self.max_cores_per_iteration)
            config = ScriptRunConfig(tmp, script=ITERATION_SCRIPT, arguments=arguments,
                                     compute_target=self.compute_target, environment=self.environment,
                                     run_config=RunConfiguration(num_cpus=cores))
            if self.iteration_timeout_minutes is not None:
                config.max_run_duration_seconds = max(1, int(self.iteration_timeout_minutes * 60))
            job = trial_job(config, workspace)
        return {
            "trial": {"kind": "job", "job": job}, "settings": settings,
            "algorithms": checked["algorithms"], "rows": checked["rows"], "features": checked["features"],
            "classes": checked["classes"],
            "training_data": {"name": training.name, "version": training.version},
            "validation_data": None if validation is None else {"name": validation.name, "version": validation.version},
            "primary_metric_name": self.primary_metric, "goal": "MAXIMIZE" if am.maximize(self.primary_metric)
            else "MINIMIZE", "policy": None, "max_total_runs": self.iterations - len(ensembles),
            "ensembles": ensembles, "model_explainability": self.model_explainability,
            "max_concurrent_runs": self.max_concurrent_iterations, "max_duration_minutes": self.experiment_timeout_minutes,
            "enable_early_stopping": self.enable_early_stopping, "experiment_exit_score": self.experiment_exit_score,
            "warning": checked["warning"],
        }

    def __repr__(self) -> str:
        return (f"AutoMLConfig(task={self.task!r}, primary_metric={self.primary_metric!r}, "
                f"label_column_name={self.label_column_name!r}, iterations={self.iterations}, "
                f"experiment_timeout_minutes={self.experiment_timeout_minutes:g})")


def start_automl(experiment: "Experiment", definition: dict[str, Any], *, tags: dict[str, Any],
                 display_name: str | None = None, properties: dict[str, Any] | None = None,
                 parent_run_id: str | None = None) -> "AutoMLRun":
    """Record an AutoML run of ``definition`` Queued and start its driver."""
    from ..compute.local import start_driven_run
    settings = definition["settings"]
    iterations = definition["max_total_runs"] + len(definition["ensembles"])
    return start_driven_run(
        experiment, definition, run_type="automl", module="runyard.automl._driver", log_name=DRIVER_LOG,
        what="AutoML run", tags={"iterations": str(iterations), **tags}, display_name=display_name,
        parent_run_id=parent_run_id,
        properties={"task": settings["task"], "primary_metric": settings["primary_metric"],
                    "num_iterations": str(iterations), "runTemplate": "AutoML", **(properties or {})})


def _check_forecasting(parameters: Any, validation_data: Any, validation_size: Any, cv_split_column_names: Any,
                       weight_column_name: Any, enable_stack_ensemble: Any) -> None:
    """What a forecasting config must have, and what runyard's forecasting does not take (yet)."""
    from .forecasting import ForecastingParameters
    if not isinstance(parameters, ForecastingParameters):
        raise ConfigError("AutoMLConfig: task='forecasting' needs forecasting_parameters=ForecastingParameters("
                          "time_column_name=..., forecast_horizon=...)" + (
                              f", got {type(parameters).__name__}" if parameters is not None else ""))
    for name, value, why in (
            ("validation_data", validation_data, "forecasts are validated on rolling origins of the training data"),
            ("validation_size", validation_size, "forecasts are validated on rolling origins (n_cross_validations)"),
            ("cv_split_column_names", cv_split_column_names, "forecasts are validated on rolling origins"),
            ("weight_column_name", weight_column_name, "forecasting models are fitted unweighted"),
    ):
        if value is not None:
            raise ConfigError(f"AutoMLConfig: {name} is not taken for task='forecasting' ({why})")
    if enable_stack_ensemble:
        raise ConfigError("AutoMLConfig: enable_stack_ensemble is not offered for forecasting (as in Azure ML, where "
                          "it overfits the short validation windows); the voting ensemble is")


def _check_data(value: Any, field: str) -> Any:
    from ..data.dataset import TabularDataset
    from ..pipeline.data import OutputFileDatasetConfig, StepInput
    if isinstance(value, TabularDataset) or (hasattr(value, "columns") and hasattr(value, "to_parquet")):
        return value
    if isinstance(value, (OutputFileDatasetConfig, StepInput)):  # an AutoMLStep reads it when it starts
        return value
    raise ConfigError(f"AutoMLConfig: {field} must be a pandas DataFrame or a TabularDataset (or, in an AutoMLStep, "
                      f"an earlier step's output read as a table), got {type(value).__name__}")


def _frame(value: Any, field: str) -> Any:
    from ..data.dataset import TabularDataset
    from ..pipeline.data import OutputFileDatasetConfig, StepInput
    if isinstance(value, (OutputFileDatasetConfig, StepInput)):
        raise ConfigError(f"AutoMLConfig: {field} is a pipeline step's output; such a config runs as an AutoMLStep "
                          f"of that pipeline")
    frame = value.to_pandas_dataframe() if isinstance(value, TabularDataset) else value
    return frame.rename(columns=str).reset_index(drop=True)  # a copy: the caller's frame stays as it is


def _registered(value: Any, frame: Any, workspace: "Workspace", name: str) -> Any:
    """The data as a registered dataset version (a frame is written as Parquet and registered)."""
    from ..data.dataset import Dataset, TabularDataset
    if isinstance(value, TabularDataset) and value.name is not None:
        return value
    try:
        datastore = workspace.get_default_datastore()
    except ConfigError as e:
        raise ConfigError(f"AutoMLConfig: a DataFrame given as data is registered as a dataset in the workspace's "
                          f"default datastore, which the iterations read: {e}") from None
    return Dataset.Tabular.register_pandas_dataframe(frame, datastore, name, show_progress=False)


def _optional_name(field: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(f"AutoMLConfig: {field} must be a column name, got {value!r}")
    return value


def _whole(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"AutoMLConfig: {field} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _positive(field: str, value: Any, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= high:
        raise ConfigError(f"AutoMLConfig: {field} must be a number above 0 and at most {high:g}, got {value!r}")
    return float(value)
