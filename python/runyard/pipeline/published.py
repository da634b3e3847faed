"""Published pipelines and pipeline endpoints: a pipeline stored in the workspace, run later.

``pipeline.publish(name)`` freezes a pipeline (its steps' sources are snapshotted then) as a
``PublishedPipeline`` with an id; anyone with the workspace submits it with other parameter
values: ``PublishedPipeline.get(ws, id).submit(ws, "experiment", pipeline_parameters={...})``,
``runyard pipeline submit NAME --param k=v``, R's ``submit_pipeline()``, a ``Schedule``, or
``POST /api/v1/published-pipelines/{id}/submit`` on a workspace server. A
``PipelineEndpoint`` is one name over successive published pipelines, with a default
version that callers get unless they ask for another.

>>> published = pipeline.publish("train", description="nightly training", version="1.0")  # doctest: +SKIP
>>> endpoint = PipelineEndpoint.publish(ws, "train", "the training pipeline", published)  # doctest: +SKIP
>>> endpoint.submit("diabetes", pipeline_parameters={"alpha": 0.2})  # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, NotFoundError, refuse_options
from ..store import asset_by_id
from ..store.asset_specs import check_stored
from .data import PipelineParameter

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .pipeline import Pipeline
    from .run import PipelineRun

KIND = "published_pipeline"
ENDPOINT_KIND = "pipeline_endpoint"
ACTIVE, DISABLED = "active", "disabled"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


def _check_name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{what} name {name!r}: use 1-255 letters, digits, '.', '_' or '-', starting with "
                          f"a letter or digit")
    return name


def _check_workspace(workspace: Any) -> None:
    from ..workspace import check_workspace
    check_workspace(workspace)


def _check_flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{field} must be True or False, got {value!r}")
    return value


def azure_service_only(where: str, _workflow_provider: Any, _service_endpoint: Any) -> None:
    """Azure ML's private arguments naming its service: runyard has none to reach."""
    refuse_options(where, "they name Azure ML's service, which runyard has no use for; leave them out",
                   _workflow_provider=_workflow_provider, _service_endpoint=_service_endpoint)


def _status(state: str) -> str:
    return "Active" if state == ACTIVE else "Disabled"


class PublishedPipeline:
    """A pipeline stored in a workspace: submit it with parameter values, disable it, enable it.

    >>> published = PublishedPipeline.get(ws, id="4b0c...")  # doctest: +SKIP
    >>> run = published.submit(ws, "diabetes", pipeline_parameters={"alpha": 0.2})  # doctest: +SKIP
    """

    def __init__(self, workspace: "Workspace", row: dict[str, Any]):
        self._workspace = workspace
        self._row = check_stored(row)
        spec = row["spec"]
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.description: str | None = spec.get("description")
        self.version: str | None = spec.get("version")
        #: parameter name -> default value
        self.parameters: dict[str, Any] = dict(spec["definition"]["parameters"])
        self.step_names: list[str] = [s["name"] for s in spec["definition"]["steps"]]

    @property
    def workspace(self) -> "Workspace":
        """The workspace it is stored in."""
        return self._workspace

    def _filled(self, pipeline_parameters: Any) -> dict[str, Any]:
        """Its definition with these parameter values, checked as a submission checks them (a
        ParallelRunStep's settings given by parameters too): what a schedule checks up front."""
        from .pipeline import check_step_settings, fill_parameters
        definition = dict(self._row["spec"]["definition"])
        definition["parameters"] = fill_parameters(
            {n: PipelineParameter(n, v) for n, v in definition["parameters"].items()}, pipeline_parameters)
        check_step_settings(definition)
        return definition

    @property
    def status(self) -> str:
        """``"Active"`` or ``"Disabled"`` (a disabled pipeline cannot be submitted)."""
        return _status(self._row["state"])

    @property
    def endpoint(self) -> str | None:
        """The REST address that submits it, on a served workspace (POST, JSON body
        ``{"experiment_name": ..., "pipeline_parameters": {...}}``)."""
        if not self._workspace.url:
            return None
        return f"{self._workspace.url}/api/v1/published-pipelines/{self.id}/submit"

    # -- storing and finding -------------------------------------------------
    @classmethod
    def _publish(cls, pipeline: "Pipeline", name: str | None, description: str | None,
                 version: str | None, continue_on_step_failure: bool | None = None) -> "PublishedPipeline":
        from .pipeline import check_continue_on_step_failure
        workspace = pipeline.workspace
        name = _check_name("published pipeline", name if name is not None else "pipeline")
        if version is not None and not isinstance(version, (str, int, float)):
            raise ConfigError(f"publish: version must be text, got {type(version).__name__}")
        if description is not None and not isinstance(description, str):
            raise ConfigError(f"publish: description must be text, got {type(description).__name__}")
        definition = pipeline._definition(workspace, {}, take_snapshots=True)
        if check_continue_on_step_failure(continue_on_step_failure) is not None:
            definition["continue_on_step_failure"] = continue_on_step_failure
        row = workspace._store.register_asset(KIND, name, {
            "definition": definition, "description": description if description is not None else
            pipeline.description, "version": None if version is None else str(version),
            "parameter_types": {n: type(p.default_value).__name__ for n, p in pipeline.parameters.items()},
        })
        return cls(workspace, row)

    @classmethod
    def get(cls, workspace: "Workspace", id: str, _workflow_provider: Any = None,
            _service_endpoint: Any = None) -> "PublishedPipeline":
        """The published pipeline with this id."""
        azure_service_only("PublishedPipeline.get", _workflow_provider, _service_endpoint)
        _check_workspace(workspace)
        return cls(workspace, asset_by_id(workspace, KIND, id, "published pipeline",
                                          "; PublishedPipeline.list(ws) shows the ones there are"))

    @classmethod
    def get_by_name(cls, workspace: "Workspace", name: str, version: int | None = None) -> "PublishedPipeline":
        """The newest published pipeline called ``name`` (or its ``version``-th publication)."""
        _check_workspace(workspace)
        row = workspace._store.get_asset(KIND, name, version)
        if row is None:
            names = sorted({r["name"] for r in workspace._store.list_assets(KIND, latest_only=True)})
            raise NotFoundError(f"no published pipeline named {name!r}"
                                + (f" (publication {version})" if version is not None else "")
                                + f" in workspace {workspace.name!r}; published: {', '.join(names) or 'none'}")
        return cls(workspace, row)

    @classmethod
    def list(cls, workspace: "Workspace", active_only: bool = True,
             _service_endpoint: Any = None) -> list["PublishedPipeline"]:
        """Every published pipeline (only the active ones, by default), oldest first."""
        azure_service_only("PublishedPipeline.list", None, _service_endpoint)
        _check_workspace(workspace)
        _check_flag("active_only", active_only)
        rows = workspace._store.list_assets(KIND, state=ACTIVE if active_only else None)
        return [cls(workspace, r) for r in sorted(rows, key=lambda r: r["created_at"])]

    # -- running -------------------------------------------------------------
    def submit(self, workspace: "Workspace", experiment_name: str, pipeline_parameters: dict[str, Any] | None = None,
               _workflow_provider: Any = None, _service_endpoint: Any = None, parent_run_id: str | None = None,
               continue_on_step_failure: bool | None = None, tags: dict[str, Any] | None = None,
               display_name: str | None = None, regenerate_outputs: bool = False) -> "PipelineRun":
        """Run it in ``experiment_name`` with these parameter values (the others: defaults).
        ``parent_run_id`` makes the pipeline run a child of that run; ``continue_on_step_failure``
        replaces the one given when it was published.

        >>> published.submit(ws, "diabetes", pipeline_parameters={"alpha": 0.2})  # doctest: +SKIP
        """
        from ..experiment import Experiment
        from .pipeline import fill_parameters, start_run
        azure_service_only("PublishedPipeline.submit", _workflow_provider, _service_endpoint)
        row = workspace._store.get_asset_by_id(self.id)
        if row is None:
            raise NotFoundError(f"published pipeline {self.id} is no longer in workspace {workspace.name!r}")
        if row["state"] != ACTIVE:
            raise ConfigError(f"published pipeline {self.name!r} ({self.id}) is disabled; enable() it to submit")
        definition = dict(check_stored(row)["spec"]["definition"])
        definition["parameters"] = fill_parameters(
            {n: PipelineParameter(n, v) for n, v in definition["parameters"].items()}, pipeline_parameters or {})
        return start_run(Experiment(workspace, experiment_name), definition, tags=dict(tags or {}),
                         regenerate_outputs=regenerate_outputs, display_name=display_name,
                         properties={"azureml.pipelineid": self.id}, parent_run_id=parent_run_id,
                         continue_on_step_failure=continue_on_step_failure)

    def disable(self) -> None:
        """Refuse submissions (schedules of it stop firing) until ``enable()``."""
        self._row = self._workspace._store.update_asset(self.id, state=DISABLED)

    def enable(self) -> None:
        self._row = self._workspace._store.update_asset(self.id, state=ACTIVE)

    def __repr__(self) -> str:
        return f"PublishedPipeline(name={self.name!r}, id={self.id!r}, status={self.status!r})"


class PipelineEndpoint:
    """One name for successive published pipelines; submissions run the default version
    unless they name another.

    >>> endpoint = PipelineEndpoint.publish(ws, "scoring", "batch scoring", published)  # doctest: +SKIP
    >>> endpoint.add_default(newer_published)  # doctest: +SKIP
    >>> endpoint.submit("scoring", pipeline_parameters={"day": "2026-11-27"})  # doctest: +SKIP
    """

    def __init__(self, workspace: "Workspace", row: dict[str, Any]):
        self._workspace = workspace
        self._row = check_stored(row)

    # -- what it holds -------------------------------------------------------
    @property
    def id(self) -> str:
        return self._row["id"]

    @property
    def name(self) -> str:
        return self._row["name"]

    @property
    def description(self) -> str | None:
        return self._row["spec"].get("description")

    @property
    def status(self) -> str:
        return _status(self._row["state"])

    @property
    def default_version(self) -> str:
        return self._row["spec"]["default_version"]

    @property
    def endpoint(self) -> str | None:
        if not self._workspace.url:
            return None
        return f"{self._workspace.url}/api/v1/pipeline-endpoints/{self.name}/submit"

    def list_versions(self) -> list[dict[str, str]]:
        """``[{"version": "0", "pipeline_id": ...}, ...]``, oldest first."""
        return [dict(v) for v in self._row["spec"]["pipelines"]]

    def get_default_version(self) -> str:
        return self.default_version

    def list_pipelines(self, active_only: bool = True) -> list[PublishedPipeline]:
        found = [PublishedPipeline.get(self._workspace, v["pipeline_id"]) for v in self.list_versions()]
        return [p for p in found if p.status == "Active"] if active_only else found

    def get_pipeline(self, version: str | int | None = None) -> PublishedPipeline:
        """The published pipeline of ``version`` (the default version without one)."""
        wanted = self.default_version if version is None else str(version)
        for entry in self.list_versions():
            if entry["version"] == wanted:
                return PublishedPipeline.get(self._workspace, entry["pipeline_id"])
        raise NotFoundError(f"pipeline endpoint {self.name!r} has no version {wanted!r}; versions: "
                            f"{', '.join(v['version'] for v in self.list_versions())}")

    # -- storing and finding -------------------------------------------------
    @classmethod
    def publish(cls, workspace: "Workspace", name: str, description: str | None,
                pipeline: "PublishedPipeline | Pipeline", _workflow_provider: Any = None,
                _service_endpoint: Any = None) -> "PipelineEndpoint":
        """A new endpoint ``name`` whose version "0" (the default) is ``pipeline``."""
        azure_service_only("PipelineEndpoint.publish", _workflow_provider, _service_endpoint)
        _check_name("pipeline endpoint", name)
        published = cls._published(workspace, pipeline, name)
        row = workspace._store.register_asset(ENDPOINT_KIND, name, {
            "description": description, "default_version": "0",
            "pipelines": [{"version": "0", "pipeline_id": published.id}],
        }, create_new_version=False)
        return cls(workspace, row)

    @classmethod
    def get(cls, workspace: "Workspace", id: str | None = None, name: str | None = None,
            _workflow_provider: Any = None, _service_endpoint: Any = None) -> "PipelineEndpoint":
        azure_service_only("PipelineEndpoint.get", _workflow_provider, _service_endpoint)
        if (id is None) == (name is None):
            raise ConfigError("PipelineEndpoint.get: give id= or name=, one of them")
        if id is not None:
            return cls(workspace, asset_by_id(workspace, ENDPOINT_KIND, id, "pipeline endpoint"))
        row = workspace._store.get_asset(ENDPOINT_KIND, name)
        if row is None:
            raise NotFoundError(f"no pipeline endpoint {name!r} in workspace {workspace.name!r}")
        return cls(workspace, row)

    @classmethod
    def list(cls, workspace: "Workspace", active_only: bool = True,
             _service_endpoint: Any = None) -> list["PipelineEndpoint"]:
        azure_service_only("PipelineEndpoint.list", None, _service_endpoint)
        rows = workspace._store.list_assets(ENDPOINT_KIND, state=ACTIVE if active_only else None)
        return [cls(workspace, r) for r in rows]

    @staticmethod
    def _published(workspace: "Workspace", pipeline: Any, name: str) -> PublishedPipeline:
        from .pipeline import Pipeline
        if isinstance(pipeline, Pipeline):
            return pipeline.publish(name=name)
        if not isinstance(pipeline, PublishedPipeline):
            raise ConfigError(f"pipeline endpoint {name!r}: expected a PublishedPipeline or a Pipeline, "
                              f"got {type(pipeline).__name__}")
        return pipeline

    # -- changing it ---------------------------------------------------------
    def _save(self, spec: dict[str, Any] | None = None, state: str | None = None) -> None:
        self._row = self._workspace._store.update_asset(self.id, spec=spec, state=state)

    def add(self, pipeline: "PublishedPipeline | Pipeline") -> str:
        """Add ``pipeline`` as the next version (not the default); that version."""
        published = self._published(self._workspace, pipeline, self.name)
        spec = dict(self._row["spec"])
        for entry in spec["pipelines"]:
            if entry["pipeline_id"] == published.id:
                return entry["version"]
        version = str(max(int(v["version"]) for v in spec["pipelines"]) + 1)
        spec["pipelines"] = [*spec["pipelines"], {"version": version, "pipeline_id": published.id}]
        self._save(spec)
        return version

    def add_default(self, pipeline: "PublishedPipeline | Pipeline") -> str:
        """Add ``pipeline`` and make it the default version; that version."""
        version = self.add(pipeline)
        self.set_default_version(version)
        return version

    def set_default(self, pipeline: PublishedPipeline) -> None:
        for entry in self.list_versions():
            if entry["pipeline_id"] == pipeline.id:
                return self.set_default_version(entry["version"])
        raise NotFoundError(f"published pipeline {pipeline.id} is not a version of endpoint {self.name!r}; add() it")

    def set_default_version(self, version: str | int) -> None:
        wanted = str(version)
        if wanted not in {v["version"] for v in self.list_versions()}:
            raise NotFoundError(f"pipeline endpoint {self.name!r} has no version {wanted!r}; versions: "
                                f"{', '.join(v['version'] for v in self.list_versions())}")
        self._save({**self._row["spec"], "default_version": wanted})

    def disable(self) -> None:
        self._save(state=DISABLED)

    def enable(self) -> None:
        self._save(state=ACTIVE)

    def submit(self, experiment_name: str, pipeline_parameters: dict[str, Any] | None = None,
               pipeline_version: str | int | None = None, **kwargs: Any) -> "PipelineRun":
        """Run the default version (or ``pipeline_version``) in ``experiment_name``."""
        self._row = check_stored(self._workspace._store.get_asset_by_id(self.id) or self._row)
        if self._row["state"] != ACTIVE:
            raise ConfigError(f"pipeline endpoint {self.name!r} is disabled; enable() it to submit")
        return self.get_pipeline(pipeline_version).submit(self._workspace, experiment_name,
                                                          pipeline_parameters=pipeline_parameters, **kwargs)

    def __repr__(self) -> str:
        return f"PipelineEndpoint(name={self.name!r}, default_version={self.default_version!r})"
