"""Move a workspace folder into a team database and artifacts folder.

``migrate_workspace`` copies a folder workspace (its run history, its runs' files and its
snapshots; its datasets, datastores, models with their files, published pipelines, endpoints,
schedules with the slots they fired, and lineage) into any SQLAlchemy database and a plain
folder, which ``runyard server --store URL --artifacts DIR`` then serves. Datasets keep
pointing at their datastores' folders, which are not moved. Run ids stay the same. It is safe to run again: runs the
target already holds unchanged are skipped, and anything the target holds differently under
the same id stops it before it writes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import sqlalchemy as sa

from . import status as st
from .artifacts import ArtifactStore, copy_atomically
from .errors import ConfigError, NotFoundError, RunyardError
from .folders import LeftOut
from .store import schema as t

if TYPE_CHECKING:
    from .store.sql import SqlStore
    from .workspace import Workspace

#: what a summary counts, in the order it shows them
KINDS = ("experiments", "environments", "compute_targets", "runs", "status_events", "metrics",
         "tags", "properties", "files", "snapshots", "assets", "lineage", "schedule_firings")
#: tables of a run's own rows: copied whole with the run, checked by count afterwards
_RUN_TABLES = {"status_events": t.status_events, "metrics": t.metrics, "tags": t.tags,
               "properties": t.properties}
#: tables kept from a run's metrics (their latest values, each series' blocks): copied with
#: the run as they are, so the target charts and sorts the run without rebuilding them
_DERIVED_TABLES = (t.latest_metrics, t.metric_blocks)
_BATCH_ROWS = 5000
_BATCH_IDS = 500
_NAMED_AT_MOST = 10


class MigrationError(RunyardError):
    """The copy in the target does not match the source; the message lists the differences."""

    exit_code = 1


@dataclass
class MigrationSummary:
    """What ``migrate_workspace`` copied and skipped (skipped: already in the target)."""

    source: str
    target: str  #: the database URL, password hidden
    artifacts: str
    copied: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped_runs: list[str] = field(default_factory=list)
    #: a line for each thing not copied because it was no file of its run (a link out of it...)
    left_out: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "artifacts": self.artifacts,
                "copied": dict(self.copied), "skipped": dict(self.skipped),
                "skipped_runs": list(self.skipped_runs), "left_out": list(self.left_out), "verified": True}


def migrate_workspace(source: "str | os.PathLike | Workspace", store_url: str,
                      artifacts_dir: str | os.PathLike, *, include_active: bool = False,
                      progress: Callable[[int, int], None] | None = None) -> MigrationSummary:
    """Copy the workspace folder ``source`` into the database ``store_url`` (schema migrated
    first) and the folder ``artifacts_dir`` (``runs/<id>/...``, ``snapshots/<hash>.zip``),
    then check every run's counts in the target. ``progress(done, total)`` follows the runs.

    >>> summary = migrate_workspace(".runyard", "postgresql://runyard@db/runs",
    ...                             "/srv/runyard/files")  # doctest: +SKIP
    >>> summary.copied["runs"]  # doctest: +SKIP
    """
    workspace = _open_source(source)
    safe_url = _check_store_url(store_url, workspace)
    artifacts_root = _check_artifacts_dir(artifacts_dir)
    summary = MigrationSummary(str(workspace.path), safe_url, str(artifacts_root))
    with workspace._store._read() as source_conn:
        runs = [dict(r) for r in source_conn.execute(
            sa.select(t.runs).order_by(t.runs.c.created_at, t.runs.c.run_number)).mappings()]
        if not include_active:
            _refuse_active_runs(workspace, runs)
        target = _open_target(store_url, safe_url)
        try:
            _Migration(workspace, source_conn, target, ArtifactStore(artifacts_root), summary,
                       progress).run(runs)
        finally:
            target.close()
    return summary


# -- checks before anything is written ------------------------------------------------------
def _open_source(source: "str | os.PathLike | Workspace") -> "Workspace":
    from .workspace import CONFIG_FILE, Workspace, is_server_url
    if isinstance(source, Workspace):
        workspace = source
    elif is_server_url(source):
        raise ConfigError(f"source {source!r} is a workspace server; migrate copies a workspace "
                          f"folder (the server's own --store and --artifacts are already shared)")
    else:
        try:
            workspace = Workspace.get(source)
        except NotFoundError as e:
            raise NotFoundError(f"source {str(source)!r} is not a runyard workspace folder (no "
                                f"{CONFIG_FILE} in it or in its .runyard/)") from e
    if workspace.path is None:
        raise ConfigError(f"source {workspace.url} is a workspace server, not a workspace folder")
    return workspace


def _safe_url(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=True)


def _check_store_url(store_url: str, workspace: "Workspace") -> str:
    """The target URL with its password hidden, once it is known to be another database."""
    try:
        parsed = sa.engine.make_url(store_url)
    except (sa.exc.ArgumentError, ValueError) as e:
        raise ConfigError(f"--to: {_without_password(str(store_url))!r} is not a database URL "
                          f"(e.g. postgresql://user@host/db or sqlite:////path/runyard.db)") from e
    if parsed.get_backend_name() in ("http", "https"):
        raise ConfigError(f"--to {_safe_url(parsed)} is a server address; give the database URL the "
                          f"server runs on (its --store) and its --artifacts folder")
    if _same_database(parsed, sa.engine.make_url(workspace.store_url)):
        raise ConfigError(f"--to {_safe_url(parsed)} is the database of the source workspace itself")
    return _safe_url(parsed)


def _without_password(text: str) -> str:
    scheme, sep, rest = text.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return text
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def _same_database(a: sa.engine.URL, b: sa.engine.URL) -> bool:
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        if not a.database or not b.database or ":memory:" in (a.database, b.database):
            return False
        return Path(a.database).resolve() == Path(b.database).resolve()
    return (a.host, a.port, a.database) == (b.host, b.port, b.database)


def _check_artifacts_dir(artifacts_dir: str | os.PathLike) -> Path:
    root = Path(os.path.expanduser(str(artifacts_dir))).resolve()
    existing = root
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"--artifacts {str(artifacts_dir)!r}: {existing} is not a folder")
    try:  # write a file rather than trust os.access, which says yes to root everywhere
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".runyard-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ConfigError(f"--artifacts {str(artifacts_dir)!r}: {existing} is not writable "
                          f"({e.strerror})") from e
    return root


def _refuse_active_runs(workspace: "Workspace", runs: list[dict[str, Any]]) -> None:
    active = [r for r in runs if r["status"] not in st.TERMINAL]
    if active:
        raise ConfigError(
            f"workspace {workspace.name!r} has {len(active)} run(s) that have not ended: "
            f"{_name_some(_run_and_status(r) for r in active)}. Wait for them to end "
            f"or cancel them (runyard run cancel RUN_ID), or pass --include-active to copy them "
            f"as they are now")


def _run_and_status(row: dict[str, Any]) -> str:
    return f"{row['run_id']} ({row['status']})"


def _open_target(store_url: str, safe_url: str) -> "SqlStore":
    from .store.sql import SqlStore
    password = sa.engine.make_url(store_url).password
    try:
        return SqlStore(store_url)  # applies the schema migrations
    except (RunyardError, sa.exc.SQLAlchemyError) as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        reason = reason.replace(store_url, safe_url)
        if password:
            reason = reason.replace(str(password), "***")
        raise ConfigError(f"cannot open the target database {safe_url}: {reason}") from e


def _name_some(items: Iterator[str] | list[str]) -> str:
    items = list(items)
    shown = ", ".join(items[:_NAMED_AT_MOST])
    return shown + (f" and {len(items) - _NAMED_AT_MOST} more" if len(items) > _NAMED_AT_MOST else "")


# -- the copy ----------------------------------------------------------------------------------
class _Migration:
    def __init__(self, workspace: "Workspace", source_conn: sa.Connection, target: "SqlStore",
                 artifacts: ArtifactStore, summary: MigrationSummary,
                 progress: Callable[[int, int], None] | None):
        self.workspace = workspace
        self.source = source_conn
        self.target = target
        self.source_files = workspace._artifacts
        self.artifacts = artifacts
        self.summary = summary
        self.progress = progress

    def run(self, runs: list[dict[str, Any]]) -> None:
        existing = self._runs_in_target([r["run_id"] for r in runs])
        self._check_conflicts(runs, existing)
        self._copy_snapshots()
        self._copy_workspace_rows()
        assets = [dict(r) for r in self.source.execute(sa.select(t.assets.c.id)).mappings()]
        for asset in assets:  # a registered model's own files are kept under its id
            self._copy_files(asset["id"])
        for done, row in enumerate(runs, 1):
            self._copy_files(row["run_id"])
            if row["run_id"] in existing:
                self._skip_run(row["run_id"])
            else:
                self._copy_run(row)
            if self.progress:
                self.progress(done, len(runs))
        self._copy_asset_rows()
        self._verify(runs + [{"run_id": a["id"]} for a in assets])

    # -- conflicts: everything the target holds differently, found before any write -----
    def _runs_in_target(self, run_ids: list[str]) -> set[str]:
        found: set[str] = set()
        with self.target._read() as conn:
            for chunk in _chunks(run_ids, _BATCH_IDS):
                found.update(conn.execute(
                    sa.select(t.runs.c.run_id).where(t.runs.c.run_id.in_(chunk))).scalars())
        return found

    def _check_conflicts(self, runs: list[dict[str, Any]], existing: set[str]) -> None:
        conflicts = []
        with self.target._read() as target:
            for row in runs:
                if row["run_id"] in existing:
                    difference = _first_difference(_run_content(self.source, row["run_id"]),
                                                   _run_content(target, row["run_id"]))
                    difference = difference or self._file_difference(row["run_id"])
                    if difference:
                        conflicts.append(f"run {row['run_id']} ({difference})")
            conflicts += _orphan_conflicts(target, [r["run_id"] for r in runs
                                                    if r["run_id"] not in existing])
            conflicts += _keyed_conflicts(self.source, target, t.environments, ("name", "version"),
                                          ("hash",), "environment {name}:{version}")
            conflicts += _keyed_conflicts(self.source, target, t.compute_targets, ("name",),
                                          ("type", "config"), "compute target {name}")
            conflicts += _keyed_conflicts(self.source, target, t.assets, ("kind", "name", "version"),
                                          ("id", "hash", "run_id"), "{kind} {name}:{version}")
        if conflicts:
            raise ConfigError(
                f"the target {self.summary.target} already holds something else under the same "
                f"id: {_name_some(conflicts)}. Nothing was copied. Migrate into another database, "
                f"or remove those from the target first")

    def _file_difference(self, run_id: str) -> str | None:
        for found in self.source_files.contents(run_id).files:
            size = self._size_there(run_id, found.name)
            if size is not None and size != found.path.stat().st_size:
                return f"its file {found.name} differs in size"
        return None

    def _size_there(self, run_id: str, name: str) -> int | None:
        """The size of the target's copy of a run's file; None when it has none."""
        try:
            return self.artifacts.path(run_id, name).stat().st_size
        except NotFoundError:
            return None

    # -- writes -----------------------------------------------------------------------------
    def _copy_snapshots(self) -> None:
        folder = self.workspace.snapshots_dir
        sources = sorted(folder.glob("*.zip")) if folder.is_dir() else []
        for path in sources:
            if path.name.startswith("."):  # a snapshot being written
                continue
            if path.is_symlink() or not path.is_file():
                self.summary.left_out.append(LeftOut(f"snapshots/{path.name}", "a link or no file").line())
                continue
            target = self.artifacts.root / "snapshots" / path.name
            # Content-addressed: a zip of that name already there holds the same files.
            if target.is_file():
                self.summary.skipped["snapshots"] += 1
            else:
                _copy_file(path, target)
                self.summary.copied["snapshots"] += 1

    def _copy_workspace_rows(self) -> None:
        """Experiments, environments and compute targets the target lacks, in one transaction."""
        with self.target._write() as conn:
            for table, kind in ((t.experiments, "experiments"), (t.environments, "environments"),
                                (t.compute_targets, "compute_targets")):
                keys = [c.name for c in table.primary_key.columns]
                there = {tuple(r) for r in conn.execute(sa.select(*table.primary_key.columns))}
                rows = [dict(r) for r in self.source.execute(sa.select(table)).mappings()]
                missing = [r for r in rows if tuple(r[k] for k in keys) not in there]
                if missing:
                    conn.execute(sa.insert(table), missing)
                self.summary.copied[kind] += len(missing)
                self.summary.skipped[kind] += len(rows) - len(missing)

    def _copy_asset_rows(self) -> None:
        """Datasets, datastores, models, published pipelines, endpoints and schedules (a
        changed one is a conflict found first), the lineage of runs and assets and the slots
        schedules fired, after the runs they name, in one transaction."""
        with self.target._write() as conn:
            there = {tuple(r) for r in conn.execute(sa.select(t.assets.c.kind, t.assets.c.name, t.assets.c.version))}
            rows = [dict(r) for r in self.source.execute(sa.select(t.assets)).mappings()]
            missing = [r for r in rows if (r["kind"], r["name"], r["version"]) not in there]
            if missing:
                conn.execute(sa.insert(t.assets), missing)
            self.summary.copied["assets"] += len(missing)
            self.summary.skipped["assets"] += len(rows) - len(missing)
            fields = ("run_id", "role", "kind", "name", "version", "label")
            there = {tuple(r) for r in conn.execute(sa.select(*(t.lineage.c[f] for f in fields)))}
            rows = [dict(r) for r in self.source.execute(
                sa.select(*(t.lineage.c[f] for f in (*fields, "at"))).order_by(t.lineage.c.id)).mappings()]
            missing = [r for r in rows if tuple(r[f] for f in fields) not in there]
            if missing:
                conn.execute(sa.insert(t.lineage), missing)
            self.summary.copied["lineage"] += len(missing)
            self.summary.skipped["lineage"] += len(rows) - len(missing)
            there = {tuple(r) for r in conn.execute(sa.select(t.schedule_firings.c.schedule_id,
                                                              t.schedule_firings.c.slot))}
            rows = [dict(r) for r in self.source.execute(sa.select(t.schedule_firings)).mappings()]
            missing = [r for r in rows if (r["schedule_id"], r["slot"]) not in there]
            if missing:
                conn.execute(sa.insert(t.schedule_firings), missing)
            self.summary.copied["schedule_firings"] += len(missing)
            self.summary.skipped["schedule_firings"] += len(rows) - len(missing)

    def _copy_files(self, run_id: str) -> None:
        """Files first, then the rows: a run found in the target has all its files, and a
        migration stopped between the two finds the files there (same size) next time."""
        contents = self.source_files.contents(run_id)
        self.summary.left_out += [item.line() for item in contents.left_out]
        for found in contents.files:  # a link to a file of the run is copied as that file
            if self._size_there(run_id, found.name) == found.path.stat().st_size:
                self.summary.skipped["files"] += 1
            else:
                self.artifacts.put_file(run_id, found.name, found.path, keep_times=True)
                self.summary.copied["files"] += 1

    def _copy_run(self, row: dict[str, Any]) -> None:
        """One transaction per run, so a run is in the target whole or not at all."""
        run_id = row["run_id"]
        try:
            with self.target._write() as conn:
                conn.execute(sa.insert(t.runs), [row])
                for kind, table in _RUN_TABLES.items():
                    for batch in _run_rows(self.source, table, run_id):
                        conn.execute(sa.insert(table), batch)
                        self.summary.copied[kind] += len(batch)
                for table in _DERIVED_TABLES:  # (any left without their run are stale)
                    conn.execute(sa.delete(table).where(table.c.run_id == run_id))
                    for batch in _run_rows(self.source, table, run_id):
                        conn.execute(sa.insert(table), batch)
        except sa.exc.IntegrityError as e:
            raise ConfigError(f"run {run_id} appeared in the target {self.summary.target} while "
                              f"it was being copied; run the migration again to compare it") from e
        self.summary.copied["runs"] += 1

    def _skip_run(self, run_id: str) -> None:
        self.summary.skipped["runs"] += 1
        self.summary.skipped_runs.append(run_id)
        for kind, table in _RUN_TABLES.items():
            self.summary.skipped[kind] += _count(self.source, table, run_id)

    # -- verification ---------------------------------------------------------------------
    def _verify(self, runs: list[dict[str, Any]]) -> None:
        """Count every run's rows and files on both sides: a difference fails loudly."""
        problems = []
        run_ids = [r["run_id"] for r in runs]
        with self.target._read() as target:
            for kind, table in _RUN_TABLES.items():
                for chunk in _chunks(run_ids, _BATCH_IDS):
                    there = _counts(target, table, chunk)
                    for run_id, count in _counts(self.source, table, chunk).items():
                        if there.get(run_id, 0) != count:
                            problems.append(f"run {run_id}: {count} {kind} in the source, "
                                            f"{there.get(run_id, 0)} in the target")
        for run_id in run_ids:
            for found in self.source_files.contents(run_id).files:
                if self._size_there(run_id, found.name) != found.path.stat().st_size:
                    problems.append(f"run {run_id}: file {found.name} is missing or differs in the target")
        if problems:
            raise MigrationError(
                f"the copy in {self.summary.target} does not match the source "
                f"{self.summary.source}: {_name_some(problems)}. If a run was still writing "
                f"(--include-active), wait for it to end and migrate again")


def _run_rows(conn: sa.Connection, table: sa.Table, run_id: str) -> Iterator[list[dict[str, Any]]]:
    """A run's rows in batches, in the order they were written, without the surrogate id
    (the target numbers them itself, after whatever it already holds)."""
    columns = [c for c in table.columns if c.name != "id"]
    query = sa.select(*columns).where(table.c.run_id == run_id)
    if "id" in table.c:
        query = query.order_by(table.c.id)
    result = conn.execution_options(yield_per=_BATCH_ROWS).execute(query)
    for partition in result.mappings().partitions():
        yield [dict(r) for r in partition]


def _run_content(conn: sa.Connection, run_id: str) -> dict[str, Any]:
    """What makes two copies of a run the same: its row, events, tags, properties and the
    number of its metrics."""
    row = conn.execute(sa.select(t.runs).where(t.runs.c.run_id == run_id)).mappings().first()
    return {
        **dict(row),
        "status events": [tuple(r) for r in conn.execute(
            sa.select(t.status_events.c.status, t.status_events.c.time)
            .where(t.status_events.c.run_id == run_id).order_by(t.status_events.c.id))],
        "tags": dict(conn.execute(sa.select(t.tags.c.key, t.tags.c.value)
                                      .where(t.tags.c.run_id == run_id)).all()),
        "properties": dict(conn.execute(sa.select(t.properties.c.key, t.properties.c.value)
                                            .where(t.properties.c.run_id == run_id)).all()),
        "number of metrics": _count(conn, t.metrics, run_id),
    }


def _first_difference(source: dict[str, Any], target: dict[str, Any]) -> str | None:
    for key, value in source.items():
        if target.get(key) != value:
            return f"{key}: {_short(target.get(key))} in the target, {_short(value)} in the source"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _orphan_conflicts(target: sa.Connection, new_run_ids: list[str]) -> list[str]:
    """Rows the target holds under a run id it has no run for: copying would clash or mix."""
    found = []
    for chunk in _chunks(new_run_ids, _BATCH_IDS):
        held: dict[str, list[str]] = {}
        for kind, table in _RUN_TABLES.items():
            for run_id, count in _counts(target, table, chunk).items():
                if count:
                    held.setdefault(run_id, []).append(kind.replace("_", " "))
        found += [f"run {run_id} (the target holds its {', '.join(kinds)} but not the run)"
                  for run_id, kinds in held.items()]
    return found


def _keyed_conflicts(source: sa.Connection, target: sa.Connection, table: sa.Table,
                     keys: tuple[str, ...], compared: tuple[str, ...], label: str) -> list[str]:
    there = {tuple(r[k] for k in keys): r for r in target.execute(sa.select(table)).mappings()}
    found = []
    for row in source.execute(sa.select(table)).mappings():
        other = there.get(tuple(row[k] for k in keys))
        if other is not None and any(_canonical(other[c]) != _canonical(row[c]) for c in compared):
            found.append(label.format(**row) + " (other settings)")
    return found


def _canonical(value: Any) -> Any:
    """JSON text compared by meaning, so key order or spacing is no difference."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def _count(conn: sa.Connection, table: sa.Table, run_id: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table)
                        .where(table.c.run_id == run_id)).scalar() or 0


def _counts(conn: sa.Connection, table: sa.Table, run_ids: list[str]) -> dict[str, int]:
    counted = dict(conn.execute(sa.select(table.c.run_id, sa.func.count()).where(
        table.c.run_id.in_(run_ids)).group_by(table.c.run_id)).all())
    return {run_id: counted.get(run_id, 0) for run_id in run_ids}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _copy_file(source: Path, target: Path) -> None:
    """Copy with times kept, atomically (a half-copied file is never under its name)."""
    copy_atomically(source, target, keep_times=True)
