"""``Schedule``: submit a published pipeline on a recurrence, or when files change in a folder.

A schedule is stored in the workspace (an asset of kind ``"schedule"``) and fired by a
scheduler process (``runyard scheduler``, or the one inside ``runyard server``; see
``runyard.pipeline.scheduler``). Everything a scheduler needs to carry on after a restart
is in the store: the schedule itself, the manifest of a watched folder, and a row per
firing, which is claimed before the pipeline is submitted, so a slot fires once however
many schedulers run.

>>> recurrence = ScheduleRecurrence(frequency="Day", interval=1, hours=[22], minutes=[30],
...                                 time_zone="Europe/Berlin")  # doctest: +SKIP
>>> schedule = Schedule.create(ws, name="nightly", pipeline_id=published.id,
...                            experiment_name="nightly", recurrence=recurrence)  # doctest: +SKIP
>>> schedule.disable()  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..store import asset_by_id
from ..store.asset_specs import check_stored
from . import _datawatch
from .published import _check_flag, _check_workspace
from .recurrence import ScheduleRecurrence

if TYPE_CHECKING:
    from ..run import Run
    from ..workspace import Workspace

KIND = "schedule"
#: the stored manifest of a watched folder (one per data-change schedule, named by its id)
MANIFEST_KIND = "schedule_manifest"
ACTIVE, DISABLED = "active", "disabled"
#: tags of the pipeline runs a schedule submits
SCHEDULE_TAG, SLOT_TAG = "runyard.schedule_id", "runyard.schedule_slot"

__all__ = ["Schedule", "ScheduleRecurrence"]


class Schedule:
    """A stored schedule: ``Schedule.create`` makes one, ``get``/``list`` find them,
    ``disable``/``enable`` stop and restart its firing.

    >>> schedule = Schedule.get(ws, "5f1c...")  # doctest: +SKIP
    >>> schedule.status, schedule.recurrence.frequency  # doctest: +SKIP
    ('Active', 'Day')
    """

    def __init__(self, workspace: "Workspace", row: dict[str, Any]):
        self._workspace = workspace
        self._set_row(row)

    def _set_row(self, row: dict[str, Any]) -> None:
        self._row = check_stored(row)
        spec = row["spec"]
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.description: str | None = spec["description"]
        self.pipeline_id: str | None = spec["pipeline_id"]
        self.pipeline_endpoint_id: str | None = spec["pipeline_endpoint_id"]
        self.experiment_name: str = spec["experiment_name"]
        self.pipeline_parameters: dict[str, Any] = dict(spec["pipeline_parameters"])
        self.continue_on_step_failure: bool | None = spec["continue_on_step_failure"]
        self.recurrence = ScheduleRecurrence.from_dict(spec["recurrence"]) if spec["recurrence"] else None
        self.datastore_name: str | None = spec["datastore_name"]
        self.path_on_datastore: str | None = spec["path_on_datastore"]
        self.polling_interval: float | None = spec["polling_interval"]
        self.data_path_parameter_name: str | None = spec["data_path_parameter_name"]

    @property
    def status(self) -> str:
        """``"Active"`` or ``"Disabled"``."""
        return "Active" if self._row["state"] == ACTIVE else "Disabled"

    @property
    def created_at(self) -> float:
        return self._row["spec"]["created_at"]

    @property
    def watched_folder(self) -> Path | None:
        """The folder a data-change schedule watches (``path_on_datastore`` in the datastore)."""
        spec = self._row["spec"]
        if spec["datastore_path"] is None:
            return None
        return Path(spec["datastore_path"]) / (spec["path_on_datastore"] or "")

    # -- making one ------------------------------------------------------------------------
    @classmethod
    def create(cls, workspace: "Workspace", name: str, pipeline_id: str, experiment_name: str,
               recurrence: ScheduleRecurrence | None = None, description: str | None = None,
               pipeline_parameters: dict[str, Any] | None = None, wait_for_provisioning: bool = False,
               wait_timeout: int = 3600, datastore: Any = None, polling_interval: float = 5,
               data_path_parameter_name: str | None = None, continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None, _workflow_provider: Any = None,
               _service_endpoint: Any = None) -> "Schedule":
        """Store a schedule that submits published pipeline ``pipeline_id`` to ``experiment_name``:
        on ``recurrence``, or when files are added or changed under ``path_on_datastore`` of
        ``datastore`` (a folder, or a datastore with a local folder), checked every
        ``polling_interval`` minutes (a fraction is fine). With ``data_path_parameter_name``
        each changed file gets a run of its own, its absolute path in that parameter;
        without, one run per poll that found changes. Everything is checked before anything
        is stored; ``wait_for_provisioning`` has nothing to wait for (the schedule is active
        at once).

        >>> schedule = Schedule.create(ws, "on-new-data", published.id, "scoring",
        ...                            datastore="/data/incoming", polling_interval=1,
        ...                            data_path_parameter_name="input_path")  # doctest: +SKIP
        """
        from .published import PublishedPipeline, azure_service_only
        azure_service_only("Schedule.create", _workflow_provider, _service_endpoint)
        published = PublishedPipeline.get(workspace, pipeline_id) if isinstance(pipeline_id, str) else None
        if published is None:
            raise ConfigError(f"Schedule.create: pipeline_id must be the id of a published pipeline, got "
                              f"{pipeline_id!r}")
        return cls._create(workspace, name, experiment_name, published, {"pipeline_id": pipeline_id},
                           recurrence=recurrence, description=description,
                           pipeline_parameters=pipeline_parameters, datastore=datastore,
                           polling_interval=polling_interval, data_path_parameter_name=data_path_parameter_name,
                           continue_on_step_failure=continue_on_step_failure, path_on_datastore=path_on_datastore,
                           wait_for_provisioning=wait_for_provisioning, wait_timeout=wait_timeout)

    @classmethod
    def create_for_pipeline_endpoint(cls, workspace: "Workspace", name: str, pipeline_endpoint_id: str,
                                     experiment_name: str, recurrence: ScheduleRecurrence | None = None,
                                     description: str | None = None, pipeline_parameters: dict[str, Any] | None = None,
                                     wait_for_provisioning: bool = False, wait_timeout: int = 3600,
                                     datastore: Any = None, polling_interval: float = 5,
                                     data_path_parameter_name: str | None = None,
                                     continue_on_step_failure: bool | None = None,
                                     path_on_datastore: str | None = None, _workflow_provider: Any = None,
                                     _service_endpoint: Any = None) -> "Schedule":
        """As ``create``, for a pipeline endpoint: each firing runs its default version then."""
        from .published import PipelineEndpoint, azure_service_only
        azure_service_only("Schedule.create_for_pipeline_endpoint", _workflow_provider, _service_endpoint)
        if not isinstance(pipeline_endpoint_id, str):
            raise ConfigError(f"Schedule.create_for_pipeline_endpoint: pipeline_endpoint_id must be the id of a "
                              f"pipeline endpoint, got {pipeline_endpoint_id!r}")
        endpoint = PipelineEndpoint.get(workspace, id=pipeline_endpoint_id)
        return cls._create(workspace, name, experiment_name, endpoint.get_pipeline(),
                           {"pipeline_endpoint_id": pipeline_endpoint_id}, recurrence=recurrence,
                           description=description, pipeline_parameters=pipeline_parameters, datastore=datastore,
                           polling_interval=polling_interval, data_path_parameter_name=data_path_parameter_name,
                           continue_on_step_failure=continue_on_step_failure, path_on_datastore=path_on_datastore,
                           wait_for_provisioning=wait_for_provisioning, wait_timeout=wait_timeout)

    @classmethod
    def _create(cls, workspace: "Workspace", name: Any, experiment_name: Any, published: Any,
                target: dict[str, str], *, recurrence: Any, description: Any, pipeline_parameters: Any,
                datastore: Any, polling_interval: Any, data_path_parameter_name: Any,
                continue_on_step_failure: Any, path_on_datastore: Any, wait_for_provisioning: Any,
                wait_timeout: Any) -> "Schedule":
        from ..experiment import Experiment
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ConfigError(f"Schedule: name must be a non-empty text of at most 255 characters, got {name!r}")
        Experiment(workspace, experiment_name)  # checks the name
        if description is not None and not isinstance(description, str):
            raise ConfigError(f"Schedule {name!r}: description must be text, got {type(description).__name__}")
        if continue_on_step_failure is not None and not isinstance(continue_on_step_failure, bool):
            raise ConfigError(f"Schedule {name!r}: continue_on_step_failure must be True, False or None, "
                              f"got {continue_on_step_failure!r}")
        if not isinstance(wait_for_provisioning, bool) or not isinstance(wait_timeout, (int, float)):
            raise ConfigError(f"Schedule {name!r}: wait_for_provisioning must be True or False and wait_timeout "
                              f"a number of seconds")
        if (recurrence is None) == (datastore is None):
            raise ConfigError(f"Schedule {name!r}: give recurrence= (a ScheduleRecurrence) or datastore= (a folder "
                              f"to watch), one of them")
        if recurrence is not None and not isinstance(recurrence, ScheduleRecurrence):
            raise ConfigError(f"Schedule {name!r}: recurrence must be a ScheduleRecurrence, got "
                              f"{type(recurrence).__name__}")
        parameters = dict(pipeline_parameters or {})
        try:
            published._filled(parameters)
        except ConfigError as e:
            raise ConfigError(f"Schedule {name!r}: {e}") from e
        now = float(math.floor(time.time()))  # whole seconds: a recurrence without start_time fires at once
        spec: dict[str, Any] = {
            "description": description, "pipeline_id": None, "pipeline_endpoint_id": None, **target,
            "experiment_name": experiment_name, "pipeline_parameters": parameters,
            "continue_on_step_failure": continue_on_step_failure,
            "recurrence": recurrence.to_dict() if recurrence is not None else None,
            "datastore_name": None, "datastore_path": None, "path_on_datastore": None, "polling_interval": None,
            "data_path_parameter_name": None, "manifest_id": None, "created_at": now, "active_since": now,
        }
        if datastore is None:
            for field, value in (("path_on_datastore", path_on_datastore),
                                 ("data_path_parameter_name", data_path_parameter_name)):
                if value is not None:
                    raise ConfigError(f"Schedule {name!r}: {field} only goes with datastore= (a data-change "
                                      f"schedule)")
        else:
            spec.update(_data_trigger(name, datastore, path_on_datastore, polling_interval,
                                      data_path_parameter_name, published))
        store = workspace._store
        schedule_id = uuid.uuid4().hex
        if datastore is not None:  # what is there now is the baseline: later changes fire
            folder = Path(spec["datastore_path"]) / (spec["path_on_datastore"] or "")
            manifest = store.register_asset(MANIFEST_KIND, schedule_id, {"files": _datawatch.scan(folder)})
            spec["manifest_id"] = manifest["id"]
        return cls(workspace, store.register_asset(KIND, name, spec, asset_id=schedule_id))

    # -- finding them ----------------------------------------------------------------------
    @classmethod
    def get(cls, workspace: "Workspace", id: str, _workflow_provider: Any = None,
            _service_endpoint: Any = None) -> "Schedule":
        """The schedule with this id."""
        from .published import azure_service_only
        azure_service_only("Schedule.get", _workflow_provider, _service_endpoint)
        _check_workspace(workspace)
        return cls(workspace, asset_by_id(workspace, KIND, id, "schedule",
                                          "; Schedule.list(ws) shows the ones there are"))

    @classmethod
    def list(cls, workspace: "Workspace", active_only: bool = True, pipeline_id: str | None = None,
             pipeline_endpoint_id: str | None = None, _workflow_provider: Any = None,
             _service_endpoint: Any = None) -> list["Schedule"]:
        """The workspace's schedules (the active ones, by default), oldest first, optionally only
        those of one published pipeline or pipeline endpoint."""
        from .published import azure_service_only
        azure_service_only("Schedule.list", _workflow_provider, _service_endpoint)
        _check_workspace(workspace)
        _check_flag("active_only", active_only)
        for field, value in (("pipeline_id", pipeline_id), ("pipeline_endpoint_id", pipeline_endpoint_id)):
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"Schedule.list: {field} must be an id (text), got {type(value).__name__}")
        rows = workspace._store.list_assets(KIND, state=ACTIVE if active_only else None)
        rows = [r for r in rows if (pipeline_id is None or r["spec"]["pipeline_id"] == pipeline_id)
                and (pipeline_endpoint_id is None or r["spec"]["pipeline_endpoint_id"] == pipeline_endpoint_id)]
        return [cls(workspace, r) for r in sorted(rows, key=lambda r: r["created_at"])]

    @classmethod
    def get_all(cls, workspace: "Workspace", active_only: bool = True, pipeline_id: str | None = None,
                pipeline_endpoint_id: str | None = None, _workflow_provider: Any = None,
                _service_endpoint: Any = None) -> list["Schedule"]:
        """Azure ML's older name of ``list``."""
        return cls.list(workspace, active_only, pipeline_id, pipeline_endpoint_id, _workflow_provider,
                        _service_endpoint)

    @classmethod
    def get_schedules_for_pipeline_id(cls, workspace: "Workspace", pipeline_id: str, _workflow_provider: Any = None,
                                      _service_endpoint: Any = None) -> list["Schedule"]:
        return cls.list(workspace, False, pipeline_id, None, _workflow_provider, _service_endpoint)

    @classmethod
    def get_schedules_for_pipeline_endpoint_id(cls, workspace: "Workspace", pipeline_endpoint_id: str,
                                               _workflow_provider: Any = None,
                                               _service_endpoint: Any = None) -> list["Schedule"]:
        return cls.list(workspace, False, None, pipeline_endpoint_id, _workflow_provider, _service_endpoint)

    # -- changing it -----------------------------------------------------------------------
    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Stop firing. Slots that pass while disabled are not fired later. (It takes effect at
        once: ``wait_for_provisioning`` has nothing to wait for.)"""
        self._set_row(self._workspace._store.update_asset(self.id, state=DISABLED))

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Fire again, from now on: slots (or file changes) of the disabled time are skipped."""
        spec = dict(self._row["spec"], active_since=time.time())
        if spec["manifest_id"] is not None:
            self._workspace._store.update_asset(spec["manifest_id"],
                                                spec={"files": _datawatch.scan(self.watched_folder)})
        self._set_row(self._workspace._store.update_asset(self.id, spec=spec, state=ACTIVE))

    def update(self, name: str | None = None, description: str | None = None,
               recurrence: ScheduleRecurrence | None = None, pipeline_parameters: dict[str, Any] | None = None,
               status: str | None = None, wait_for_provisioning: bool = False, wait_timeout: int = 3600,
               datastore: Any = None, polling_interval: float | None = None,
               data_path_parameter_name: str | None = None, continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None) -> None:
        """Change the description, recurrence, parameters, polling interval or status. A new
        recurrence counts from now: none of its slots before this call fires."""
        if name is not None and name != self.name:
            raise ConfigError(f"Schedule {self.name!r}: a schedule keeps its name; create a new one to rename")
        for field, value in (("datastore", datastore), ("data_path_parameter_name", data_path_parameter_name),
                             ("path_on_datastore", path_on_datastore)):
            if value is not None:
                raise ConfigError(f"Schedule {self.name!r}: {field} cannot change; create a new schedule")
        spec = dict(self._row["spec"])
        if description is not None:
            spec["description"] = description
        if recurrence is not None:
            if spec["recurrence"] is None:
                raise ConfigError(f"Schedule {self.name!r} fires on data changes; it takes no recurrence")
            if not isinstance(recurrence, ScheduleRecurrence):
                raise ConfigError(f"Schedule {self.name!r}: recurrence must be a ScheduleRecurrence")
            spec["recurrence"] = recurrence.to_dict()
            spec["active_since"] = time.time()
        if pipeline_parameters is not None:
            spec["pipeline_parameters"] = self._checked_parameters(pipeline_parameters)
        if polling_interval is not None:
            if spec["polling_interval"] is None:
                raise ConfigError(f"Schedule {self.name!r} fires on a recurrence; it takes no polling_interval")
            spec["polling_interval"] = _polling_interval(self.name, polling_interval)
        if continue_on_step_failure is not None:
            spec["continue_on_step_failure"] = bool(continue_on_step_failure)
        if status not in (None, "Active", "Disabled"):
            raise ConfigError(f"Schedule {self.name!r}: status must be 'Active' or 'Disabled', got {status!r}")
        self._set_row(self._workspace._store.update_asset(self.id, spec=spec))
        if status == "Disabled":
            self.disable()
        elif status == "Active" and self._row["state"] != ACTIVE:
            self.enable()

    def _checked_parameters(self, parameters: Any) -> dict[str, Any]:
        self._target_pipeline()._filled(parameters)
        return dict(parameters)

    def _target_pipeline(self) -> Any:
        """The published pipeline a firing now submits (an endpoint's default version)."""
        from .published import PipelineEndpoint, PublishedPipeline
        if self.pipeline_endpoint_id is not None:
            return PipelineEndpoint.get(self._workspace, id=self.pipeline_endpoint_id).get_pipeline()
        return PublishedPipeline.get(self._workspace, self.pipeline_id)

    # -- what it did -----------------------------------------------------------------------
    def get_firings(self) -> list[dict[str, Any]]:
        """One row per fired slot, oldest first: slot, fired_at, run_id, error."""
        return self._workspace._store.list_firings(self.id)

    def get_pipeline_runs(self) -> list["Run"]:
        """The pipeline runs this schedule submitted, newest first."""
        run_ids = [f["run_id"] for f in reversed(self.get_firings()) if f["run_id"]]
        return [self._workspace.get_run(run_id) for run_id in dict.fromkeys(run_ids)]

    def get_last_pipeline_run(self) -> "Run | None":
        """The newest pipeline run this schedule submitted, or None."""
        runs = self.get_pipeline_runs()
        return runs[0] if runs else None

    def next_slot(self, after: float | None = None):
        """The first slot after ``after`` (default: now), an aware UTC datetime; None for a
        data-change schedule."""
        if self.recurrence is None:
            return None
        after = time.time() if after is None else after
        since = self._row["spec"]["active_since"] - 1e-6  # a slot at the enabling moment counts
        return self.recurrence.next_slot(max(after, since), created_at=self.created_at)

    def __repr__(self) -> str:
        trigger = repr(self.recurrence) if self.recurrence else f"datastore={str(self.watched_folder)!r}"
        return f"Schedule(name={self.name!r}, id={self.id!r}, status={self.status!r}, {trigger})"


def _polling_interval(name: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"Schedule {name!r}: polling_interval is minutes between polls, a number > 0 "
                          f"(0.05 is 3 seconds), got {value!r}")
    return float(value)


def datastore_folder(datastore: Any) -> tuple[str | None, Path]:
    """(name, local folder) of a folder path or of a datastore object with a local folder."""
    if isinstance(datastore, (str, os.PathLike)):
        return None, Path(datastore)
    for attribute in ("path", "local_path", "root", "folder"):
        value = getattr(datastore, attribute, None)
        if isinstance(value, (str, os.PathLike)):
            return getattr(datastore, "name", None), Path(value)
    raise ConfigError(f"datastore must be a folder path or a datastore with a local folder, got {datastore!r} "
                      f"(only folders of this machine are watched)")


def _data_trigger(name: str, datastore: Any, path_on_datastore: Any, polling_interval: Any,
                  data_path_parameter_name: Any, published: Any) -> dict[str, Any]:
    store_name, root = datastore_folder(datastore)
    root = root.expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(f"Schedule {name!r}: datastore folder {str(root)!r} does not exist")
    if path_on_datastore is not None:
        relative = Path(path_on_datastore) if isinstance(path_on_datastore, str) else None
        if relative is None or relative.is_absolute() or ".." in relative.parts:
            raise ConfigError(f"Schedule {name!r}: path_on_datastore must be a path inside the datastore, "
                              f"without '..', got {path_on_datastore!r}")
        if not (root / relative).is_dir():
            raise ConfigError(f"Schedule {name!r}: path_on_datastore {path_on_datastore!r} is not a folder of "
                              f"datastore {str(root)!r}")
        path_on_datastore = relative.as_posix()
    if data_path_parameter_name is not None:
        default = published.parameters.get(data_path_parameter_name, None)
        if data_path_parameter_name not in published.parameters or not isinstance(default, str):
            texts = ", ".join(n for n, v in published.parameters.items() if isinstance(v, str)) or "none"
            raise ConfigError(f"Schedule {name!r}: data_path_parameter_name {data_path_parameter_name!r} must be "
                              f"a text PipelineParameter of the pipeline (its text parameters: {texts})")
    return {"datastore_name": store_name, "datastore_path": str(root), "path_on_datastore": path_on_datastore,
            "polling_interval": _polling_interval(name, polling_interval),
            "data_path_parameter_name": data_path_parameter_name}
