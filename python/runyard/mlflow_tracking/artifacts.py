"""``RunyardArtifactRepository``: MLflow's artifacts of a run are the runyard run's files.

``mlflow.log_artifact("report.txt", "reports")`` stores the run file ``reports/report.txt``,
the same file ``run.upload_file("reports/report.txt", ...)`` would, so
``run.get_file_names()``, ``download_file`` and the studio show it; MLflow lists and
downloads the run's files through the same calls. The URIs
(``runyard-artifacts:///<run_id>/<folder>?workspace=<address>``) are written by the tracking
store; ``workspace`` is the store's workspace address (``job`` inside a job).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from . import require_mlflow_3

require_mlflow_3()
from mlflow.entities import FileInfo
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST
from mlflow.store.artifact.artifact_repo import ArtifactRepository

from ..errors import NotFoundError, RunyardError
from . import ARTIFACT_SCHEME, open_workspace


class RunyardArtifactRepository(ArtifactRepository):
    """The files of one runyard run, under one folder of it."""

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None):
        super().__init__(artifact_uri, tracking_uri=tracking_uri, registry_uri=registry_uri)
        parsed = urlparse(artifact_uri)
        address = parse_qs(parsed.query).get("workspace", [None])[0]
        parts = [p for p in parsed.path.split("/") if p]
        if parsed.scheme != ARTIFACT_SCHEME or not parts or address is None:
            raise MlflowException(f"artifact URI {artifact_uri!r} is not one runyard's tracking store wrote "
                                  f"({ARTIFACT_SCHEME}:///<run_id>/<folder>?workspace=<address>)",
                                  error_code=INVALID_PARAMETER_VALUE)
        self._run_id, self._prefix = parts[0], "/".join(parts[1:])
        from ..run import Run
        try:
            self._run = Run._from_id(open_workspace(address), self._run_id)
        except RunyardError as e:
            raise MlflowException(f"artifact URI {artifact_uri}: {e}", error_code=RESOURCE_DOES_NOT_EXIST) from e

    def _name(self, *parts: str | None) -> str:
        return "/".join(p.strip("/") for p in (self._prefix, *parts) if p and p.strip("/"))

    def log_artifact(self, local_file, artifact_path=None):
        name = self._name(artifact_path, os.path.basename(local_file))
        self._run.upload_file(name, local_file)

    def log_artifacts(self, local_dir, artifact_path=None):
        folder = self._name(artifact_path)
        if folder:
            self._run.upload_folder(folder, local_dir)
            return
        for entry in sorted(Path(local_dir).iterdir()):  # the run's top folder: each file and folder in it
            if entry.is_dir():
                self._run.upload_folder(entry.name, entry)
            else:
                self._run.upload_file(entry.name, entry)

    def list_artifacts(self, path=None):
        folder = self._name(path)
        below = f"{folder}/" if folder else ""
        seen: dict[str, FileInfo] = {}
        for name in self._run.get_file_names():
            if not name.startswith(below):
                continue
            head, _, rest = name[len(below):].partition("/")
            relative = posixpath.join(path.strip("/"), head) if path and path.strip("/") else head
            if rest:
                seen.setdefault(relative, FileInfo(relative, True, None))
            else:
                seen[relative] = FileInfo(relative, False, None)
        return sorted(seen.values(), key=lambda info: info.path)

    def _download_file(self, remote_file_path, local_path):
        try:
            self._run.download_file(self._name(remote_file_path), local_path)
        except NotFoundError as e:
            raise MlflowException(f"no artifact {remote_file_path!r} in run {self._run_id}: {e}",
                                  error_code=RESOURCE_DOES_NOT_EXIST) from e
