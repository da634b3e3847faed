"""MLflow's client logging into runyard runs: the ``runyard`` tracking URIs and the plugin's wiring.

``mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())`` makes ``mlflow.start_run``,
``log_metric``, ``log_param``, ``set_tag``, ``log_artifact`` and ``mlflow.sklearn.log_model``
write runyard runs, as Azure ML's workspace URI did. It is an MLflow *tracking store plugin*
(``store.RunyardTrackingStore``, ``artifacts.RunyardArtifactRepository``), registered through
the ``mlflow.tracking_store`` and ``mlflow.artifact_repository`` entry points of runyard's
own distribution: it works on a workspace folder and on a workspace server alike, through
the same store a job's ``Run.get_context()`` uses, with no server to run.

The URIs:

- ``runyard:///abs/path/.runyard``: a workspace folder;
- ``runyard+http://host:port`` (``runyard+https://``): a workspace server (token from
  ``RUNYARD_TOKEN``);
- ``runyard://job``: inside a runyard job, the job's own workspace (``RUNYARD_TRACKING_URI``).
  Every job gets ``MLFLOW_TRACKING_URI=runyard://job`` and ``MLFLOW_RUN_ID`` (its run), so
  ``mlflow.start_run()`` attaches to the job's run as it did on Azure (``job_variables``).

Nothing here imports mlflow; ``store`` and ``artifacts`` do, and only MLflow loads them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlparse

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..workspace import Workspace

SCHEME = "runyard"
#: the tracking URI every job gets: "the workspace this job logs to"
JOB_URI = "runyard://job"
#: MLflow's variables that runyard sets in a job (unless the job's configuration sets them)
ENV_TRACKING_URI, ENV_RUN_ID = "MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID"
#: the scheme of the run artifact URIs the tracking store hands out
ARTIFACT_SCHEME = "runyard-artifacts"
#: the entry points (group -> name -> object) that make MLflow find the plugin
ENTRY_POINTS = {
    "mlflow.tracking_store": {name: "runyard.mlflow_tracking.store:RunyardTrackingStore"
                              for name in (SCHEME, f"{SCHEME}+http", f"{SCHEME}+https")},
    "mlflow.artifact_repository": {ARTIFACT_SCHEME: "runyard.mlflow_tracking.artifacts:RunyardArtifactRepository"},
}
_JOB = "job"


def require_mlflow_3() -> None:
    """The plugin speaks MLflow 3's store contract (logged models, run outputs); an older
    MLflow gets this error, which MLflow shows when it fails to register the plugin."""
    from mlflow.version import VERSION as found
    from packaging.version import Version
    if Version(found).major < 3:
        raise ImportError(f"runyard's MLflow tracking plugin needs MLflow 3 or later, and this Python has MLflow "
                          f"{found}: pip install 'mlflow-skinny>=3' (or 'mlflow>=3')")


def tracking_uri(workspace: "Workspace") -> str:
    """The MLflow tracking URI of ``workspace`` (``Workspace.get_mlflow_tracking_uri``)."""
    if workspace.url:
        return f"{SCHEME}+{workspace.url}"
    return f"{SCHEME}://{quote(str(workspace.path))}"


def workspace_address(uri: str) -> str:
    """What a ``runyard`` tracking URI names: a folder path, a server URL, or ``"job"``."""
    parsed = urlparse(uri)
    if parsed.scheme in (f"{SCHEME}+http", f"{SCHEME}+https"):
        return uri[len(SCHEME) + 1:]
    if parsed.scheme != SCHEME:
        raise ConfigError(f"MLflow tracking URI {uri!r} is not runyard's: use ws.get_mlflow_tracking_uri() "
                          f"(runyard:///path/to/.runyard, runyard+http://host:port, or runyard://job in a job)")
    if parsed.netloc == _JOB and parsed.path in ("", "/"):
        return _JOB
    if parsed.netloc or not parsed.path.startswith("/"):
        raise ConfigError(f"MLflow tracking URI {uri!r}: a workspace folder is runyard:///absolute/path "
                          f"(three slashes), as ws.get_mlflow_tracking_uri() writes it")
    return unquote(parsed.path)


def open_workspace(address: str) -> Any:
    """The workspace (or, in a job, the job's own view of it) at ``address``."""
    if address == _JOB:
        from ..run import Run, _OfflineRun
        run = Run.get_context()
        if isinstance(run, _OfflineRun):
            raise ConfigError(f"MLflow tracking URI {JOB_URI} names the workspace of the runyard job this process "
                              f"runs in, and it runs in none (RUNYARD_RUN_ID and RUNYARD_TRACKING_URI are unset); "
                              f"use ws.get_mlflow_tracking_uri() outside jobs")
        return run.workspace
    from ..workspace import Workspace
    return Workspace(address, _check_lost_runs=False)


def job_variables(job: Any) -> dict[str, str]:
    """MLflow's variables for ``job`` (a ``JobSpec``): the job's workspace as tracking URI and
    its run as MLflow's active run, unless the job's environment or run configuration sets
    either, in which case the user's MLflow setup is left as it is. Set at start, never stored
    in the run's definition (a resubmitted definition must not name the old run)."""
    configured = {**(job.environment.get("environment_variables") or {}), **job.environment_variables}
    if ENV_TRACKING_URI in configured or ENV_RUN_ID in configured:
        return {}
    return {ENV_TRACKING_URI: JOB_URI, ENV_RUN_ID: job.run_id}


def write_distribution_metadata(folder: Path) -> None:
    """A ``dist-info`` in ``folder`` declaring the plugin's entry points, for a job whose
    Python reaches runyard through ``PYTHONPATH`` (``compute.local_env.client_path``) rather
    than an installed distribution: MLflow finds plugins by distribution metadata only."""
    from .. import __version__
    info = folder / f"runyard_mlflow_plugin-{__version__}.dist-info"
    if (info / "entry_points.txt").is_file():
        return
    lines = []
    for group, entries in ENTRY_POINTS.items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
        lines.append("")
    tmp = folder / f".dist-info-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "METADATA").write_text(f"Metadata-Version: 2.1\nName: runyard-mlflow-plugin\nVersion: {__version__}\n")
    (tmp / "entry_points.txt").write_text("\n".join(lines))
    try:
        os.replace(tmp, info)
    except OSError:  # another process wrote it first
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
