"""AutoML jobs described in YAML, in the shape of Azure ML CLI v2's ``type: automl``.

``runyard job submit -f automl.yml`` (and ``load_job_file``) read one into the
``AutoMLConfig`` the same run written in Python is:

- ``task``, ``primary_metric``, ``target_column_name``, ``weight_column_name``;
- ``training_data`` (and ``validation_data``): ``{path: data.csv}`` (a CSV or Parquet file,
  or a folder of them, relative to the file; ``type: mltable``, ``uri_file`` or ``uri_folder``
  may say so) or ``azureml:NAME:VERSION`` / ``azureml:NAME@latest`` (a registered tabular
  dataset);
- ``n_cross_validations``, ``validation_data_size``;
- ``limits``: ``timeout_minutes``, ``trial_timeout_minutes``, ``max_trials``,
  ``max_concurrent_trials``, ``max_cores_per_trial``, ``enable_early_termination``,
  ``exit_score``;
- ``training``: ``allowed_training_algorithms``, ``blocked_training_algorithms`` (Azure's
  names or CLI v2's snake_case ones: ``light_gbm``, ``xg_boost_classifier``),
  ``enable_vote_ensemble``, ``enable_stack_ensemble``, ``enable_model_explainability``;
- ``featurization``: ``mode`` (``auto``, ``off`` or ``custom``), ``blocked_transformers``,
  ``column_name_and_types``, ``transformer_params`` (``imputer`` /
  ``hash_one_hot_encoder``: a list of ``{fields, parameters}``);
- ``forecasting`` (``task: forecasting``): ``time_column_name``, ``forecast_horizon``,
  ``time_series_id_column_names``, ``target_lags``, ``feature_lags``,
  ``target_rolling_window_size``, ``seasonality``, ``frequency``,
  ``country_or_region_for_holidays``, ``short_series_handling_config``, ``cv_step_size``.

Every problem is a ``ConfigError`` naming the file, the line and the field, before
anything is recorded.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from .. import _yaml
from ..config import JobDefinition, JobFileHeader, check_compute
from ..errors import ConfigError, RunyardError
from . import models
from .featurization import BLOCKABLE, TRANSFORMER_PARAMS, FeaturizationConfig

if TYPE_CHECKING:
    from ..workspace import Workspace

_DATASET = re.compile(r"^azureml:(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?::(?P<version>\d+)|@latest)?$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataInput(_Spec):
    type: Literal["mltable", "uri_file", "uri_folder"] | None = None
    path: str = Field(min_length=1)


class AutoMLLimits(_Spec):
    timeout_minutes: float | None = Field(None, gt=0)
    trial_timeout_minutes: float | None = Field(None, gt=0)
    max_trials: int | None = Field(None, ge=1, le=1000)
    max_concurrent_trials: int = Field(1, ge=1, le=100)
    max_cores_per_trial: int = Field(1, ge=-1)
    enable_early_termination: bool = True
    exit_score: float | None = None


class AutoMLTraining(_Spec):
    allowed_training_algorithms: list[str] | None = None
    blocked_training_algorithms: list[str] | None = None
    enable_vote_ensemble: bool = True
    enable_stack_ensemble: bool | None = None
    enable_model_explainability: bool | None = None  # on, except for forecasting


class TransformerParams(_Spec):
    fields: list[str] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)


class AutoMLFeaturization(_Spec):
    mode: Literal["auto", "off", "custom"] = "auto"
    blocked_transformers: list[str] | None = None
    column_name_and_types: dict[str, str] | None = None
    transformer_params: dict[str, list[TransformerParams]] | None = None


class AutoMLForecasting(_Spec):
    """CLI v2's ``forecasting`` section (``ForecastingParameters`` under its names)."""

    time_column_name: str = Field(min_length=1)
    forecast_horizon: int = Field(1, ge=1)
    time_series_id_column_names: Union[str, list[str], None] = None
    target_lags: Union[int, list[int], Literal["auto"], None] = None
    feature_lags: Literal["auto", "none"] | None = None
    target_rolling_window_size: Union[int, Literal["auto"], None] = None
    seasonality: Union[int, Literal["auto"]] = "auto"
    frequency: str | None = None
    country_or_region_for_holidays: str | None = None
    short_series_handling_config: Literal["auto", "pad", "drop", "none"] | None = "auto"
    cv_step_size: Union[int, Literal["auto"]] = "auto"


class AutoMLJob(JobFileHeader):
    """An AutoML job file (``type: automl``)."""

    type: Literal["automl"] = "automl"
    task: Literal["classification", "regression", "forecasting"]
    primary_metric: str | None = None
    target_column_name: str = Field(min_length=1)
    weight_column_name: str | None = None
    training_data: Union[DataInput, str]
    validation_data: Union[DataInput, str, None] = None
    n_cross_validations: int | None = None
    validation_data_size: float | None = None
    limits: AutoMLLimits = Field(default_factory=AutoMLLimits)
    training: AutoMLTraining = Field(default_factory=AutoMLTraining)
    featurization: AutoMLFeaturization = Field(default_factory=AutoMLFeaturization)
    forecasting: AutoMLForecasting | None = None


def load_automl(doc: _yaml.YamlDocument, workspace: "Workspace | None") -> JobDefinition:
    """The ``AutoMLConfig`` of an AutoML job file already read (``load_job_file`` reads it)."""
    from .config import AutoMLConfig
    try:
        spec = AutoMLJob.model_validate(doc.data)
    except pydantic.ValidationError as e:
        raise doc.validation_error(e, data=doc.data) from e
    task = spec.task
    if (task == "forecasting") != (spec.forecasting is not None):
        raise doc.error(["forecasting"] if spec.forecasting is not None else ["task"],
                        "task: forecasting needs a forecasting section (time_column_name, forecast_horizon...)"
                        if task == "forecasting" else f"a forecasting section is for task: forecasting, not {task}")
    forecasting = None if spec.forecasting is None else _forecasting(doc, spec.forecasting)
    compute = check_compute(doc, spec.compute, workspace)
    training = _data(doc, "training_data", spec.training_data, workspace)
    validation = None if spec.validation_data is None else _data(doc, "validation_data", spec.validation_data,
                                                                 workspace)
    limits, options = spec.limits, spec.training
    try:
        config = AutoMLConfig(
            task=task, primary_metric=spec.primary_metric, training_data=training,
            label_column_name=spec.target_column_name, weight_column_name=spec.weight_column_name,
            validation_data=validation, validation_size=spec.validation_data_size,
            n_cross_validations=spec.n_cross_validations, compute_target=compute,
            iterations=limits.max_trials, experiment_timeout_minutes=limits.timeout_minutes,
            iteration_timeout_minutes=limits.trial_timeout_minutes,
            max_concurrent_iterations=limits.max_concurrent_trials, max_cores_per_iteration=limits.max_cores_per_trial,
            enable_early_stopping=limits.enable_early_termination, experiment_exit_score=limits.exit_score,
            allowed_models=_algorithms(doc, task, "allowed_training_algorithms", options.allowed_training_algorithms),
            blocked_models=_algorithms(doc, task, "blocked_training_algorithms", options.blocked_training_algorithms),
            featurization=_featurization(doc, spec.featurization),
            enable_voting_ensemble=options.enable_vote_ensemble, enable_stack_ensemble=options.enable_stack_ensemble,
            model_explainability=options.enable_model_explainability, forecasting_parameters=forecasting)
    except ConfigError as e:
        raise doc.error([], str(e).removeprefix("AutoMLConfig: ")) from None
    return JobDefinition(config=config, experiment_name=spec.experiment_name,
                         display_name=spec.display_name or spec.name, tags=spec.tags)


def _data(doc: _yaml.YamlDocument, field: str, value: DataInput | str, workspace: "Workspace | None") -> Any:
    """A registered dataset (``azureml:name:version``), or the table at a path of the file."""
    if isinstance(value, str) and value.startswith("azureml:"):
        match = _DATASET.match(value)
        if not match:
            raise doc.error([field], f"{value!r}: write a registered dataset as azureml:NAME:VERSION or "
                                     f"azureml:NAME@latest")
        if workspace is None:
            raise doc.error([field], f"{value!r} names a registered dataset: open a workspace to read the file")
        from ..data.dataset import Dataset
        try:
            return Dataset.get_by_name(workspace, match["name"], match["version"] or "latest")
        except RunyardError as e:  # not registered, or no such version
            raise doc.error([field], str(e)) from None
    path = value if isinstance(value, str) else value.path
    at = [field] if isinstance(value, str) else [field, "path"]
    target = (doc.path.parent / path).resolve()
    files = [target] if target.is_file() else sorted(
        p for p in target.rglob("*") if p.suffix in (".csv", ".parquet")) if target.is_dir() else []
    if not files:
        raise doc.error(at, f"{path!r} (relative to {doc.path.parent}) is no CSV or Parquet file, nor a folder "
                            f"holding some")
    if any(f.suffix not in (".csv", ".parquet") for f in files):
        raise doc.error(at, f"{path!r}: runyard reads CSV and Parquet tables")
    import pandas as pd
    try:
        frames = [pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f) for f in files]
    except (ValueError, OSError, ImportError) as e:
        raise doc.error(at, f"{path!r} could not be read as a table: {e}") from None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _forecasting(doc: _yaml.YamlDocument, spec: AutoMLForecasting) -> Any:
    from .forecasting import ForecastingParameters
    try:
        return ForecastingParameters(
            time_column_name=spec.time_column_name, forecast_horizon=spec.forecast_horizon,
            time_series_id_column_names=spec.time_series_id_column_names, target_lags=spec.target_lags,
            feature_lags=None if spec.feature_lags == "none" else spec.feature_lags,
            target_rolling_window_size=spec.target_rolling_window_size, seasonality=spec.seasonality,
            freq=spec.frequency, country_or_region_for_holidays=spec.country_or_region_for_holidays,
            short_series_handling_configuration=None if spec.short_series_handling_config == "none"
            else spec.short_series_handling_config, cv_step_size=spec.cv_step_size)
    except ConfigError as e:
        raise doc.error(["forecasting"], str(e).removeprefix("ForecastingParameters: ")) from None


def _algorithms(doc: _yaml.YamlDocument, task: str, field: str, names: list[str] | None) -> list[str] | None:
    """Azure's names, from them or CLI v2's snake_case ones."""
    if names is None:
        return None
    known = {re.sub(r"[^a-z0-9]", "", n.lower()): n for n in models.names(task)}
    out = []
    for index, name in enumerate(names):
        found = known.get(re.sub(r"[^a-z0-9]", "", name.lower()))
        if found is None:
            raise doc.error(["training", field, index], f"no {task} algorithm {name!r}; valid: "
                                                        f"{', '.join(models.names(task))}")
        out.append(found)
    return out


def _featurization(doc: _yaml.YamlDocument, spec: AutoMLFeaturization) -> str | FeaturizationConfig:
    customised = spec.blocked_transformers or spec.column_name_and_types or spec.transformer_params
    if spec.mode != "custom":
        if customised:
            raise doc.error(["featurization", "mode"], f"mode {spec.mode!r} takes no blocked_transformers, "
                                                       f"column_name_and_types or transformer_params: say mode: custom")
        return spec.mode
    config = FeaturizationConfig()
    blockable = {re.sub(r"[^a-z0-9]", "", n.lower()): n for n in BLOCKABLE}
    tunable = {re.sub(r"[^a-z0-9]", "", n.lower()): n for n in TRANSFORMER_PARAMS}
    try:
        for index, name in enumerate(spec.blocked_transformers or []):
            found = blockable.get(re.sub(r"[^a-z0-9]", "", name.lower()))
            if found is None:
                raise doc.error(["featurization", "blocked_transformers", index],
                                f"no transformer {name!r}; valid: {', '.join(BLOCKABLE)}")
            config.add_blocked_transformers([found])
        for column, purpose in (spec.column_name_and_types or {}).items():
            config.add_column_purpose(column, purpose)
        for name, entries in (spec.transformer_params or {}).items():
            found = tunable.get(re.sub(r"[^a-z0-9]", "", name.lower()))
            if found is None:
                raise doc.error(["featurization", "transformer_params", name],
                                f"no tunable transformer {name!r}; valid: imputer, hash_one_hot_encoder")
            for entry in entries:
                config.add_transformer_params(found, entry.fields, entry.parameters)
    except ConfigError as e:
        if str(e).startswith(str(doc.path)):
            raise
        raise doc.error(["featurization"], str(e)) from None
    return config
