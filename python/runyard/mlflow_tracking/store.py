"""``RunyardTrackingStore``: MLflow's tracking store contract over a runyard workspace's runs.

What maps onto what:

- an MLflow experiment is a runyard experiment, its id the name (MLflow's default experiment
  ``"0"`` is runyard's ``Default``);
- a run is a runyard run with the same id. ``mlflow.start_run()`` outside a job records an
  interactive run; a nested one (tag ``mlflow.parentRunId``) a child run of its parent;
  ``end_run`` moves it to Completed, Failed or Canceled. A job's own run keeps the status its
  compute target gives it (the process's exit), as Azure's did;
- metrics are scalar metrics with MLflow's step and timestamp; params are write-once run
  properties named ``mlflow.param.<key>`` (immutable, as MLflow's); tags are run tags, and so
  are the run's dataset inputs (``mlflow.input.<name>``);
- ``log_model``'s logged models live in this process (MLflow 3 asks for them while logging)
  and their files in the run's files under the model's name, where MLflow 2 and Azure put
  them; each is noted in the run's ``mlflow.log-model.history`` tag, as MLflow 2 did.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from . import require_mlflow_3

require_mlflow_3()
from mlflow.entities import (Dataset, DatasetInput, Experiment, InputTag, LifecycleStage, LoggedModel,
                             LoggedModelInput, LoggedModelStatus, Metric, Param, Run, RunData, RunInfo, RunInputs,
                             RunOutputs, RunStatus, RunTag, ViewType)
from mlflow.entities.logged_model_output import LoggedModelOutput
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS,
                                          RESOURCE_DOES_NOT_EXIST)
from mlflow.store.tracking.abstract_store import AbstractStore
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME
from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils

from .. import metrics as m
from .. import status as st
from ..errors import RunyardError
from . import ARTIFACT_SCHEME, open_workspace, workspace_address

DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT = "0", "Default"
PARAM_PREFIX = "mlflow.param."
MODEL_HISTORY_TAG = "mlflow.log-model.history"
INPUT_PREFIX, INPUT_MODEL_PREFIX = "mlflow.input.", "mlflow.input-model."
_TO_MLFLOW = {st.NOT_STARTED: RunStatus.SCHEDULED, st.QUEUED: RunStatus.SCHEDULED, st.COMPLETED: RunStatus.FINISHED,
              st.FAILED: RunStatus.FAILED, st.CANCELED: RunStatus.KILLED}
_FROM_MLFLOW = {RunStatus.FINISHED: st.COMPLETED, RunStatus.FAILED: st.FAILED, RunStatus.KILLED: st.CANCELED}
#: logged models of this process by id (MLflow 3 creates one per log_model and reads it back)
_logged_models: dict[str, LoggedModel] = {}
_models_lock = threading.Lock()


def _not_found(what: str) -> MlflowException:
    return MlflowException(what, error_code=RESOURCE_DOES_NOT_EXIST)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


class RunyardTrackingStore(AbstractStore):
    """MLflow's store for ``runyard:`` tracking URIs (see ``runyard.mlflow_tracking``)."""

    def __init__(self, store_uri: str, artifact_uri: str | None = None):
        super().__init__()
        self._address = workspace_address(store_uri)
        try:
            self._workspace = open_workspace(self._address)
        except RunyardError as e:
            raise MlflowException(f"MLflow tracking URI {store_uri}: {e}", error_code=INVALID_PARAMETER_VALUE) from e

    @property
    def _store(self) -> Any:
        return self._workspace._store

    # -- experiments ---------------------------------------------------------
    def _experiment(self, name: str) -> Experiment:
        return Experiment(experiment_id=name, name=name, artifact_location=self._artifact_uri(""),
                          lifecycle_stage=LifecycleStage.ACTIVE, tags=[])

    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY, max_results=None, filter_string=None,
                           order_by=None, page_token=None):
        from mlflow.store.entities.paged_list import PagedList
        experiments = [self._experiment(name) for name in self._store.list_experiments()]
        experiments = SearchExperimentsUtils.filter(experiments, filter_string)
        experiments = SearchExperimentsUtils.sort(experiments, order_by or ["name ASC"])
        page, token = SearchUtils.paginate(experiments, page_token, max_results or len(experiments) or 1)
        return PagedList(page, token)

    def create_experiment(self, name, artifact_location=None, tags=None):
        from ..experiment import Experiment as RunyardExperiment
        if artifact_location:
            raise MlflowException(f"experiment {name!r}: artifact_location {artifact_location!r} cannot be honoured: "
                                  f"runyard keeps a run's artifacts with the run (leave it out)",
                                  error_code=INVALID_PARAMETER_VALUE)
        if tags:
            raise MlflowException(f"experiment {name!r}: runyard experiments have no tags; tag the runs "
                                  f"(mlflow.set_tag)", error_code=INVALID_PARAMETER_VALUE)
        if name in self._store.list_experiments():
            raise MlflowException(f"experiment {name!r} already exists", error_code=RESOURCE_ALREADY_EXISTS)
        try:
            RunyardExperiment(self._workspace, name)
        except RunyardError as e:
            raise MlflowException(str(e), error_code=INVALID_PARAMETER_VALUE) from e
        self._store.ensure_experiment(name)
        return name

    def get_experiment(self, experiment_id):
        name = self._experiment_name(experiment_id)
        if name not in self._store.list_experiments():
            if name != DEFAULT_EXPERIMENT:
                raise _not_found(f"no experiment {experiment_id!r} in runyard workspace {self._workspace.name!r}")
            self._store.ensure_experiment(name)
        return self._experiment(name)

    def get_experiment_by_name(self, experiment_name):
        if experiment_name in self._store.list_experiments():
            return self._experiment(experiment_name)
        return None

    @staticmethod
    def _experiment_name(experiment_id: Any) -> str:
        return DEFAULT_EXPERIMENT if experiment_id in (None, DEFAULT_EXPERIMENT_ID) else str(experiment_id)

    def delete_experiment(self, experiment_id):
        raise MlflowException("runyard keeps every experiment's runs: deleting an experiment is not supported",
                              error_code=INVALID_PARAMETER_VALUE)

    def restore_experiment(self, experiment_id):
        self.get_experiment(experiment_id)

    def rename_experiment(self, experiment_id, new_name):
        raise MlflowException("runyard names an experiment once: renaming is not supported",
                              error_code=INVALID_PARAMETER_VALUE)

    def set_experiment_tag(self, experiment_id, tag):
        raise MlflowException("runyard experiments have no tags; tag the runs (mlflow.set_tag)",
                              error_code=INVALID_PARAMETER_VALUE)

    # -- runs ----------------------------------------------------------------
    def _row(self, run_id: str) -> dict[str, Any]:
        row = self._store.get_run(run_id)
        if row is None:
            raise _not_found(f"no run {run_id!r} in runyard workspace {self._workspace.name!r}")
        return row

    def _artifact_uri(self, run_id: str) -> str:
        from urllib.parse import quote
        return f"{ARTIFACT_SCHEME}:///{run_id}?workspace={quote(self._address, safe='')}"

    def _run(self, row: dict[str, Any], tags: dict[str, Any] | None = None,
             properties: dict[str, Any] | None = None) -> Run:
        run_id = row["run_id"]
        tags = self._store.get_tags(run_id) if tags is None else tags
        properties = self._store.get_properties(run_id) if properties is None else properties
        status = _TO_MLFLOW.get(row["status"], RunStatus.RUNNING)
        info = RunInfo(run_id=run_id, experiment_id=row["experiment"], user_id=str(tags.get("mlflow.user") or ""),
                       status=RunStatus.to_string(status), start_time=_ms(row.get("start_time") or row["created_at"]),
                       end_time=_ms(row.get("end_time")), lifecycle_stage=LifecycleStage.ACTIVE,
                       artifact_uri=self._artifact_uri(run_id), run_name=row.get("display_name") or run_id)
        latest: dict[str, Metric] = {}
        for metric in self._metrics(run_id):
            if metric.key not in latest or (metric.step, metric.timestamp) >= (latest[metric.key].step,
                                                                                latest[metric.key].timestamp):
                latest[metric.key] = metric
        params = [Param(key[len(PARAM_PREFIX):], value or "") for key, value in properties.items()
                  if key.startswith(PARAM_PREFIX)]
        run_tags = [RunTag(key, "" if value is None else str(value)) for key, value in tags.items()
                    if not key.startswith((INPUT_PREFIX, INPUT_MODEL_PREFIX))]
        outputs = [LoggedModelOutput(model_id, 0) for model_id, model in list(_logged_models.items())
                   if model.source_run_id == run_id]
        return Run(info, RunData(metrics=list(latest.values()), params=params, tags=run_tags),
                   self._inputs(tags), RunOutputs(model_outputs=outputs))

    def _metrics(self, run_id: str, key: str | None = None) -> list[Metric]:
        """The run's numeric scalar metrics as MLflow's (a run.log of text has no MLflow form)."""
        found = []
        for row in self._store.get_metric_rows([run_id], key):
            if row["kind"] != m.SCALAR:
                continue
            value = m.decode(row["value_num"], row["value_text"])
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            found.append(Metric(row["name"], float(value), int(row["logged_at"] * 1000), row.get("step") or 0,
                                run_id=run_id))
        return found

    def get_run(self, run_id):
        return self._run(self._row(run_id))

    def create_run(self, experiment_id, user_id, start_time, tags, run_name):
        from ..run import new_run_id
        tags = {tag.key: tag.value for tag in tags or []}
        run_name = run_name or tags.get(MLFLOW_RUN_NAME)
        if user_id:
            tags.setdefault("mlflow.user", user_id)
        parent_id = tags.get(MLFLOW_PARENT_RUN_ID)
        started = (start_time / 1000) if start_time else time.time()
        if parent_id:  # a nested run: a child run, in its parent's experiment as runyard's are
            parent = self._row(parent_id)
            experiment = parent["experiment"]
            row = {"parent_id": parent_id, "run_type": "child", "target": parent.get("target")}
        else:
            experiment = self.get_experiment(experiment_id).name
            row = {"run_type": "interactive", "target": "interactive"}
        row.update(run_id=new_run_id(experiment), experiment=experiment, display_name=run_name,
                   status=st.RUNNING, start_time=started)
        try:
            created = self._store.create_run(row, tags=tags)
        except RunyardError as e:
            raise MlflowException(str(e), error_code=INVALID_PARAMETER_VALUE) from e
        return self._run(created, tags=self._store.get_tags(created["run_id"]), properties={})

    def update_run_info(self, run_id, run_status, end_time, run_name):
        row = self._row(run_id)
        if run_name and run_name != row.get("display_name"):
            self._store.update_run(run_id, display_name=run_name)
        status = _FROM_MLFLOW.get(RunStatus.from_string(run_status) if isinstance(run_status, str) else run_status)
        # A job's run ends with its process (the target records the exit); the runs MLflow
        # created itself (interactive, nested) end here.
        if status is not None and row["run_type"] in ("interactive", "child"):
            self._store.set_status(run_id, status,
                                   error="ended by mlflow.end_run(status=...)" if status == st.FAILED else None)
            self._store.end_active_children(run_id, status)
        return self._run(self._row(run_id)).info

    def delete_run(self, run_id):
        raise MlflowException("runyard keeps every run: deleting a run is not supported",
                              error_code=INVALID_PARAMETER_VALUE)

    def restore_run(self, run_id):
        self._row(run_id)

    # -- metrics, params, tags -------------------------------------------------
    def log_metric(self, run_id, metric):
        self.log_batch(run_id, metrics=[metric], params=[], tags=[])

    def log_param(self, run_id, param):
        self.log_batch(run_id, metrics=[], params=[param], tags=[])

    def set_tag(self, run_id, tag):
        self.log_batch(run_id, metrics=[], params=[], tags=[tag])

    def delete_tag(self, run_id, key):
        if key not in self._store.get_tags(self._row(run_id)["run_id"]):
            raise _not_found(f"run {run_id!r} has no tag {key!r}")
        self._store.remove_tags(run_id, [key])

    def log_batch(self, run_id, metrics, params, tags):
        self._row(run_id)
        try:
            if params:
                self._log_params(run_id, params)
            if tags:
                self._store.set_tags(run_id, {tag.key: tag.value for tag in tags})
            metrics = self._without_relogged(run_id, metrics)
            if metrics:
                rows = []
                for metric in metrics:
                    num, text = m.encode(m.check_name(metric.key), metric.value)
                    rows.append({"run_id": run_id, "name": metric.key, "kind": m.SCALAR, "value_num": num,
                                 "value_text": text, "logged_at": metric.timestamp / 1000,
                                 "step": m.check_step(metric.step), "description": None})
                self._store.log_metrics(rows, batch_id=uuid.uuid4().hex)
        except RunyardError as e:
            raise MlflowException(f"run {run_id}: {e}", error_code=INVALID_PARAMETER_VALUE) from e

    def _without_relogged(self, run_id: str, metrics: list[Metric]) -> list[Metric]:
        """``metrics`` less those linked to a logged model that the run already holds: MLflow 3's
        ``log_model`` logs the run's metrics again with the model's id, and MLflow's own stores
        keep one row for identical values."""
        linked = {metric.key for metric in metrics if getattr(metric, "model_id", None)}
        if not linked:
            return metrics
        stored = {(metric.key, metric.value, metric.timestamp, metric.step)
                  for key in linked for metric in self._metrics(run_id, key)}
        return [metric for metric in metrics if not getattr(metric, "model_id", None)
                or (metric.key, float(metric.value), metric.timestamp, metric.step or 0) not in stored]

    def _log_params(self, run_id: str, params: list[Param]) -> None:
        """Params are write-once: the same value again is fine, another value is MLflow's error."""
        existing = self._store.get_properties(run_id)
        new = {}
        for param in params:
            key, value = PARAM_PREFIX + param.key, str(param.value)
            if key in existing and existing[key] != value:
                raise MlflowException(
                    f"param {param.key!r} of run {run_id} is {existing[key]!r} and cannot change to {value!r} "
                    f"(params are immutable, as in MLflow: log the new value under another key)",
                    error_code=INVALID_PARAMETER_VALUE)
            if key not in existing:
                new[key] = value
        if new:
            self._store.add_properties(run_id, new)

    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None):
        from mlflow.store.entities.paged_list import PagedList
        self._row(run_id)
        history = self._metrics(run_id, metric_key)
        page, token = SearchUtils.paginate(history, page_token, max_results or len(history) or 1)
        return PagedList(page, token)

    def _search_runs(self, experiment_ids, filter_string, run_view_type, max_results, order_by, page_token):
        runs = []
        if run_view_type == ViewType.DELETED_ONLY:  # runyard deletes no run
            experiment_ids = []
        for experiment_id in experiment_ids:
            name = self._experiment_name(experiment_id)
            runs.extend(self._run(row) for row in self._store.list_runs(experiment=name))
        runs = SearchUtils.filter(runs, filter_string)
        runs = SearchUtils.sort(runs, order_by)
        return SearchUtils.paginate(runs, page_token, max_results)

    def log_inputs(self, run_id, datasets=None, models=None):
        """``mlflow.log_input`` (and autologging's training data): each dataset is kept as the
        run's tag ``mlflow.input.<name>`` (JSON: digest, source, schema, profile, its tags); a
        logged model read by the run as ``mlflow.input-model.<model_id>``."""
        self._row(run_id)
        tags = {}
        for given in datasets or []:
            data = given.dataset
            tags[INPUT_PREFIX + data.name] = json.dumps({
                "digest": data.digest, "source_type": data.source_type, "source": data.source,
                "schema": data.schema, "profile": data.profile, "tags": {t.key: t.value for t in given.tags or []}})
        for model in models or []:
            tags[INPUT_MODEL_PREFIX + model.model_id] = ""
        if tags:
            self._store.set_tags(run_id, tags)

    @staticmethod
    def _inputs(tags: dict[str, Any]) -> RunInputs:
        datasets = []
        for key, value in tags.items():
            if key.startswith(INPUT_PREFIX) and value:
                kept = json.loads(value)
                data = Dataset(key[len(INPUT_PREFIX):], kept["digest"], kept["source_type"], kept["source"],
                               kept.get("schema"), kept.get("profile"))
                datasets.append(DatasetInput(data, [InputTag(k, v) for k, v in kept.get("tags", {}).items()]))
        models = [LoggedModelInput(key[len(INPUT_MODEL_PREFIX):]) for key in tags if key.startswith(INPUT_MODEL_PREFIX)]
        return RunInputs(dataset_inputs=datasets, model_inputs=models)

    # -- logged models (MLflow 3's log_model) ------------------------------------
    def create_logged_model(self, experiment_id=DEFAULT_EXPERIMENT_ID, name=None, source_run_id=None, tags=None,
                            params=None, model_type=None):
        if source_run_id is None:
            raise MlflowException("runyard keeps a logged model's files with its run: call log_model inside "
                                  "mlflow.start_run()", error_code=INVALID_PARAMETER_VALUE)
        self._row(source_run_id)
        name = name or "model"
        now = int(time.time() * 1000)
        base, query = self._artifact_uri(source_run_id).split("?", 1)
        model = LoggedModel(experiment_id=self._experiment_name(experiment_id), model_id=f"m-{uuid.uuid4().hex}",
                            name=name, artifact_location=f"{base}/{name}?{query}", creation_timestamp=now,
                            last_updated_timestamp=now, model_type=model_type, source_run_id=source_run_id,
                            status=LoggedModelStatus.PENDING, tags={t.key: t.value for t in tags or []},
                            params={p.key: p.value for p in params or []})
        with _models_lock:
            _logged_models[model.model_id] = model
        return model

    def get_logged_model(self, model_id, allow_deleted=False):
        model = _logged_models.get(model_id)
        if model is None:
            raise _not_found(f"no logged model {model_id!r} in this process: runyard keeps a logged model's files "
                             f"with its run; load it with runs:/<run_id>/<name>")
        return model

    def finalize_logged_model(self, model_id, status):
        model = self.get_logged_model(model_id)
        model.status = status
        return model

    def set_logged_model_tags(self, model_id, tags):
        model = self.get_logged_model(model_id)
        model.tags.update({tag.key: tag.value for tag in tags})

    def delete_logged_model_tag(self, model_id, key):
        self.get_logged_model(model_id).tags.pop(key, None)

    def log_outputs(self, run_id, models):
        """MLflow 3's ``log_model`` names the run's new logged models here: each is noted in the
        run's ``mlflow.log-model.history`` tag (name, id, time), as MLflow 2 noted its models."""
        self._row(run_id)
        entries = []
        for output in models:
            model = self.get_logged_model(output.model_id)
            entries.append({"artifact_path": model.name, "model_id": model.model_id, "run_id": run_id,
                            "utc_time_created": time.strftime("%Y-%m-%d %H:%M:%S",
                                                              time.gmtime(model.creation_timestamp / 1000))})
        self._note_models(run_id, entries)

    def record_logged_model(self, run_id, mlflow_model):
        """MLflow 2's ``log_model`` (and MLflow 3's for a model without a logged-model record)."""
        self._row(run_id)
        self._note_models(run_id, [mlflow_model.get_tags_dict()])

    def _note_models(self, run_id: str, entries: list[dict[str, Any]]) -> None:
        history = json.loads(self._store.get_tags(run_id).get(MODEL_HISTORY_TAG) or "[]")
        self._store.set_tags(run_id, {MODEL_HISTORY_TAG: json.dumps([*history, *entries])})
