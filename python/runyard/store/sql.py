"""Run history on any SQLAlchemy database: SQLite (WAL) by default, PostgreSQL for teams."""

from __future__ import annotations

import contextvars
import json
import sqlite3
import time
import uuid
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import sqlalchemy as sa

from .. import status as st
from ..errors import ConfigError, NotFoundError, RunyardError
from . import schema as t

_SQLITE_BUSY_TIMEOUT_S = 60


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let this module issue BEGIN itself so writes can take the lock up front
    # (BEGIN IMMEDIATE) instead of failing on a read-to-write upgrade.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_S * 1000}")
    for attempt in range(50):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as e:
            # SQLITE_PROTOCOL: many processes opening the database at once raced for the
            # WAL index; it clears on a retry (SQLite's own advice)
            if "locking protocol" not in str(e) or attempt == 49:
                raise
            time.sleep(0.01 * (attempt + 1))
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class SqlStore:
    """Experiments, runs, status events, metrics, tags, properties, environments."""

    def __init__(self, url: str):
        self.url = url
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as e:
            raise ConfigError(f"store_url {url!r} is not a database URL: {e}") from e
        self._sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self._sqlite:
            kwargs["connect_args"] = {"timeout": _SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        try:
            self.engine = sa.create_engine(parsed, **kwargs)
        except ModuleNotFoundError as e:
            hint = 'pip install "runyard[postgres]"' if parsed.get_backend_name() == "postgresql" \
                else f"pip install {e.name}"
            raise ConfigError(f"store_url {url!r} needs the database driver {e.name!r}: {hint}") from e
        if self._sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_on_connect)
        # Close pooled connections when the store goes, not when the garbage collector
        # gets to them (PostgreSQL drivers warn about connections dropped while open).
        weakref.finalize(self, self.engine.dispose)
        # Set by apply_once: every read and write of one request then shares its transaction.
        self._outer: contextvars.ContextVar[sa.Connection | None] = contextvars.ContextVar(
            "runyard_store_outer", default=None)
        self._migrate()

    # -- transactions --------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        outer = self._outer.get()
        if outer is not None:
            yield outer
            return
        if not self._sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        outer = self._outer.get()
        if outer is not None:
            yield outer
            return
        with self.engine.connect() as conn:
            yield conn
            if not self._sqlite:
                conn.rollback()

    def _migrate(self) -> None:
        with self._write() as conn:
            inspector = sa.inspect(conn)
            current = 0
            if inspector.has_table("schema_version"):
                current = conn.execute(sa.select(sa.func.max(t.schema_version.c.version))).scalar() or 0
            if current > t.LATEST_VERSION:
                raise RunyardError(
                    f"The workspace store at {self.url} has schema version {current}, newer than "
                    f"this runyard understands ({t.LATEST_VERSION}). Upgrade runyard."
                )
            for version, migration in t.MIGRATIONS:
                if version > current:
                    migration(conn)
                    conn.execute(sa.delete(t.schema_version))
                    conn.execute(sa.insert(t.schema_version).values(version=version))

    def apply_once(self, key: str, operation: Callable[[], Any]) -> Any:
        """Run the store calls in ``operation`` once per ``key``, in one transaction with the
        record of the key; a later call with the same key returns the first result (JSON)."""
        done = sa.select(t.applied_requests.c.response).where(t.applied_requests.c.key == key)
        try:
            with self._write() as conn:
                row = conn.execute(done).first()
                if row is not None:
                    return json.loads(row.response)
                token = self._outer.set(conn)
                try:
                    result = operation()
                finally:
                    self._outer.reset(token)
                conn.execute(sa.insert(t.applied_requests).values(
                    key=key, at=time.time(), response=json.dumps(result)))
                return result
        except sa.exc.IntegrityError:
            # The same key was applied meanwhile by a concurrent retry (PostgreSQL): ours
            # rolled back, theirs stands.
            with self._read() as conn:
                row = conn.execute(done).first()
            if row is None:
                raise
            return json.loads(row.response)

    def schema_version(self) -> int:
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.max(t.schema_version.c.version))).scalar() or 0

    def close(self) -> None:
        self.engine.dispose()

    # -- experiments ---------------------------------------------------------
    def ensure_experiment(self, name: str) -> None:
        with self._write() as conn:
            self._ensure_experiment(conn, name)

    def _ensure_experiment(self, conn: sa.Connection, name: str) -> None:
        """Create the experiment if needed and lock its row until the transaction ends, so
        concurrent run creations number their runs one after another (PostgreSQL; SQLite's
        BEGIN IMMEDIATE already serialises writers)."""
        locked = sa.select(t.experiments.c.name).where(t.experiments.c.name == name).with_for_update()
        if conn.execute(locked).first():
            return
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(t.experiments).values(name=name, created_at=time.time()))
        except sa.exc.IntegrityError:  # created meanwhile by another process
            pass
        conn.execute(locked).first()

    def list_experiments(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(
                sa.select(t.experiments.c.name).order_by(t.experiments.c.created_at)
            ).scalars())

    # -- runs ----------------------------------------------------------------
    def create_run(self, row: dict[str, Any], tags: dict[str, Any] | None = None,
                   properties: dict[str, Any] | None = None) -> dict[str, Any]:
        now = time.time()
        with self._write() as conn:
            self._ensure_experiment(conn, row["experiment"])
            number = conn.execute(
                sa.select(sa.func.count()).select_from(t.runs)
                .where(t.runs.c.experiment == row["experiment"])
            ).scalar() + 1
            values = {"created_at": now, "run_number": number, **row}
            conn.execute(sa.insert(t.runs).values(**values))
            conn.execute(sa.insert(t.status_events).values(
                run_id=row["run_id"], status=row["status"], time=now))
            if tags:
                conn.execute(sa.insert(t.tags), [
                    {"run_id": row["run_id"], "key": k, "value": _text(v)} for k, v in tags.items()])
            if properties:
                conn.execute(sa.insert(t.properties), [
                    {"run_id": row["run_id"], "key": k, "value": _text(v)} for k, v in properties.items()])
        return values

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(sa.select(t.runs).where(t.runs.c.run_id == run_id)).mappings().first()
            return dict(row) if row else None

    def update_run(self, run_id: str, **fields: Any) -> None:
        with self._write() as conn:
            conn.execute(sa.update(t.runs).where(t.runs.c.run_id == run_id).values(**fields))

    def set_run_process(self, run_id: str, *, host: str, supervisor_pid: int | None = None,
                        supervisor_started: float | None = None, job_pid: int | None = None,
                        job_started: float | None = None) -> None:
        fields = {"host": host, "supervisor_pid": supervisor_pid, "supervisor_started": supervisor_started,
                  "job_pid": job_pid, "job_started": job_started}
        with self._write() as conn:
            conn.execute(sa.update(t.runs).where(t.runs.c.run_id == run_id).values(
                **{k: v for k, v in fields.items() if v is not None}))

    def set_status(self, run_id: str, status: str, *, allow_from_terminal: bool = False,
                   **fields: Any) -> bool:
        """Move a run to ``status``; returns False (and changes nothing) if it already ended."""
        now = time.time()
        with self._write() as conn:
            current = conn.execute(
                sa.select(t.runs.c.status).where(t.runs.c.run_id == run_id)).scalar()
            if current is None:
                return False
            if current in st.TERMINAL and not allow_from_terminal:
                return False
            values = dict(fields, status=status)
            if status == st.RUNNING and "start_time" not in values:
                values["start_time"] = now
            if status in st.TERMINAL and "end_time" not in values:
                values["end_time"] = now
            conn.execute(sa.update(t.runs).where(t.runs.c.run_id == run_id).values(**values))
            if current != status:
                conn.execute(sa.insert(t.status_events).values(run_id=run_id, status=status, time=now))
        return True

    def end_active_children(self, run_id: str, status: str) -> None:
        """When a run ends, children still active end with it (recursively)."""
        for child in self.list_runs(parent_id=run_id, status=st.ACTIVE):
            error = None if status == st.COMPLETED else f"its parent run ended {status}"
            self.set_status(child["run_id"], status, error=error)
            self.end_active_children(child["run_id"], status)

    def status_events(self, run_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.status_events.c.status, t.status_events.c.time)
                .where(t.status_events.c.run_id == run_id).order_by(t.status_events.c.id)
            ).mappings()
            return [dict(r) for r in rows]

    def list_runs(self, *, experiment: str | None = None, parent_id: str | None = None,
                  top_level_only: bool = False, status: str | Iterable[str] | None = None,
                  tags: dict[str, Any] | None = None, run_type: str | None = None,
                  host: str | None = None, limit: int | None = None,
                  properties: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        q = sa.select(t.runs)
        if experiment is not None:
            q = q.where(t.runs.c.experiment == experiment)
        if parent_id is not None:
            q = q.where(t.runs.c.parent_id == parent_id)
        elif top_level_only:
            q = q.where(t.runs.c.parent_id.is_(None))
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            q = q.where(t.runs.c.status.in_(statuses))
        if run_type is not None:
            q = q.where(t.runs.c.run_type == run_type)
        if host is not None:
            q = q.where(t.runs.c.host == host)
        for key, value in (tags or {}).items():
            sub = sa.select(t.tags.c.run_id).where(t.tags.c.key == key)
            if value is not None:
                sub = sub.where(t.tags.c.value == _text(value))
            q = q.where(t.runs.c.run_id.in_(sub))
        for key, value in (properties or {}).items():
            # the key inline, not bound, so SQLite can use a partial index of that key
            q = q.where(t.runs.c.run_id.in_(sa.select(t.properties.c.run_id).where(
                t.properties.c.key == sa.bindparam(None, key, literal_execute=True),
                t.properties.c.value == _text(value))))
        q = q.order_by(t.runs.c.created_at.desc(), t.runs.c.run_number.desc())
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    # -- metrics -------------------------------------------------------------
    def log_metrics(self, rows: list[dict[str, Any]]) -> None:
        """Insert metric rows in one transaction (the job side batches them)."""
        if not rows:
            return
        with self._write() as conn:
            conn.execute(sa.insert(t.metrics), rows)

    def get_metric_rows(self, run_ids: list[str], name: str | None = None) -> list[dict[str, Any]]:
        q = (sa.select(t.metrics.c.run_id, t.metrics.c.name, t.metrics.c.kind,
                       t.metrics.c.value_num, t.metrics.c.value_text, t.metrics.c.logged_at)
             .where(t.metrics.c.run_id.in_(run_ids)).order_by(t.metrics.c.id))
        if name is not None:
            q = q.where(t.metrics.c.name == name)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    # -- tags and properties -------------------------------------------------
    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        with self._write() as conn:
            for key, value in tags.items():
                conn.execute(sa.delete(t.tags).where(t.tags.c.run_id == run_id, t.tags.c.key == key))
                conn.execute(sa.insert(t.tags).values(run_id=run_id, key=key, value=_text(value)))

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(t.tags).where(t.tags.c.run_id == run_id, t.tags.c.key.in_(list(keys))))

    def get_tags(self, run_id: str) -> dict[str, str | None]:
        with self._read() as conn:
            rows = conn.execute(sa.select(t.tags.c.key, t.tags.c.value).where(t.tags.c.run_id == run_id))
            return {k: v for k, v in rows}

    def add_properties(self, run_id: str, props: dict[str, Any]) -> None:
        """Properties are write-once: setting a key again to another value is an error."""
        with self._write() as conn:
            existing = dict(conn.execute(
                sa.select(t.properties.c.key, t.properties.c.value).where(t.properties.c.run_id == run_id)
            ).all())
            for key, value in props.items():
                text = _text(value)
                if key in existing:
                    if existing[key] != text:
                        raise ConfigError(
                            f"property {key!r} of run {run_id} is already {existing[key]!r}; "
                            f"properties cannot change (use tags for mutable values)")
                    continue
                conn.execute(sa.insert(t.properties).values(run_id=run_id, key=key, value=text))

    def get_properties(self, run_id: str) -> dict[str, str | None]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.properties.c.key, t.properties.c.value).where(t.properties.c.run_id == run_id))
            return {k: v for k, v in rows}

    # -- environments --------------------------------------------------------
    def register_environment(self, name: str, env_hash: str, spec: dict[str, Any]) -> int:
        """Store a new version of ``name`` unless the latest one has the same hash."""
        with self._write() as conn:
            latest = conn.execute(
                sa.select(t.environments.c.version, t.environments.c.hash)
                .where(t.environments.c.name == name)
                .order_by(t.environments.c.version.desc()).limit(1)
            ).first()
            if latest and latest.hash == env_hash:
                return latest.version
            version = (latest.version + 1) if latest else 1
            conn.execute(sa.insert(t.environments).values(
                name=name, version=version, hash=env_hash,
                spec=json.dumps(spec, sort_keys=True), created_at=time.time()))
            return version

    def get_environment(self, name: str, version: int | None = None) -> dict[str, Any] | None:
        q = sa.select(t.environments).where(t.environments.c.name == name)
        q = q.where(t.environments.c.version == version) if version is not None else \
            q.order_by(t.environments.c.version.desc()).limit(1)
        with self._read() as conn:
            row = conn.execute(q).mappings().first()
        return _env_row(row) if row else None

    def list_environments(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(sa.select(t.environments).order_by(
                t.environments.c.name, t.environments.c.version)).mappings()
            return [_env_row(r) for r in rows]

    # -- compute targets -----------------------------------------------------
    def save_compute_target(self, name: str, kind: str, config: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(t.compute_targets).where(t.compute_targets.c.name == name))
            conn.execute(sa.insert(t.compute_targets).values(
                name=name, type=kind, config=json.dumps(config, sort_keys=True), created_at=time.time()))

    def delete_compute_target(self, name: str) -> bool:
        with self._write() as conn:
            return conn.execute(sa.delete(t.compute_targets).where(t.compute_targets.c.name == name)).rowcount > 0

    def list_compute_targets(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(sa.select(t.compute_targets).order_by(t.compute_targets.c.name)).mappings()
            return [dict(r, config=json.loads(r["config"])) for r in rows]


    # -- assets: datasets, datastores, models, published pipelines, endpoints, schedules ----
    def register_asset(self, kind: str, name: str, spec: dict[str, Any], *, content_hash: str | None = None,
                       create_new_version: bool = True, run_id: str | None = None,
                       asset_id: str | None = None, state: str = "active") -> dict[str, Any]:
        """Store a new version of asset ``name`` of ``kind`` and return its row.

        With a ``content_hash`` already registered under this name, that version is returned
        instead (versions are keyed by content). Without ``create_new_version`` a name that
        exists is an error.
        """
        with self._write() as conn:
            if content_hash is not None:
                same = conn.execute(sa.select(t.assets).where(
                    t.assets.c.kind == kind, t.assets.c.name == name, t.assets.c.hash == content_hash,
                ).order_by(t.assets.c.version.desc()).limit(1)).mappings().first()
                if same is not None:
                    return _asset_row(same)
            latest = conn.execute(sa.select(sa.func.max(t.assets.c.version)).where(
                t.assets.c.kind == kind, t.assets.c.name == name)).scalar()
            if latest is not None and not create_new_version:
                raise ConfigError(f"{kind} {name!r} is already registered (version {latest}); pass "
                                  f"create_new_version=True to add a version")
            now = time.time()
            row = {"kind": kind, "name": name, "version": (latest or 0) + 1, "id": asset_id or uuid.uuid4().hex,
                   "hash": content_hash, "spec": json.dumps(spec, sort_keys=True), "state": state,
                   "run_id": run_id, "created_at": now, "updated_at": now}
            conn.execute(sa.insert(t.assets).values(**row))
            return _asset_row(row)

    def get_asset(self, kind: str, name: str, version: int | None = None) -> dict[str, Any] | None:
        """Version ``version`` of ``name`` (the latest without one), or None."""
        q = sa.select(t.assets).where(t.assets.c.kind == kind, t.assets.c.name == name)
        q = q.where(t.assets.c.version == version) if version is not None else \
            q.order_by(t.assets.c.version.desc()).limit(1)
        with self._read() as conn:
            row = conn.execute(q).mappings().first()
        return _asset_row(row) if row else None

    def get_asset_by_id(self, asset_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(sa.select(t.assets).where(t.assets.c.id == asset_id)).mappings().first()
        return _asset_row(row) if row else None

    def list_assets(self, kind: str, name: str | None = None, *, state: str | None = None,
                    latest_only: bool = False) -> list[dict[str, Any]]:
        """Assets of ``kind`` by name then version (of one ``name``, in one ``state``)."""
        q = sa.select(t.assets).where(t.assets.c.kind == kind)
        if name is not None:
            q = q.where(t.assets.c.name == name)
        if state is not None:
            q = q.where(t.assets.c.state == state)
        with self._read() as conn:
            rows = [_asset_row(r) for r in conn.execute(q.order_by(t.assets.c.name, t.assets.c.version)).mappings()]
        if latest_only:
            rows = list({r["name"]: r for r in rows}.values())
        return rows

    def update_asset(self, asset_id: str, *, spec: dict[str, Any] | None = None,
                     state: str | None = None) -> dict[str, Any]:
        """Change the spec or state of one asset version; the row after the change."""
        fields: dict[str, Any] = {"updated_at": time.time()}
        if spec is not None:
            fields["spec"] = json.dumps(spec, sort_keys=True)
        if state is not None:
            fields["state"] = state
        with self._write() as conn:
            if conn.execute(sa.update(t.assets).where(t.assets.c.id == asset_id).values(**fields)).rowcount == 0:
                raise NotFoundError(f"no asset with id {asset_id!r}")
            row = conn.execute(sa.select(t.assets).where(t.assets.c.id == asset_id)).mappings().first()
        return _asset_row(row)

    def record_lineage(self, run_id: str, role: str, kind: str, name: str, version: int,
                       label: str | None = None) -> None:
        """Record that ``run_id`` read (``role="input"``) or wrote (``"output"``) an asset version."""
        if role not in ("input", "output"):
            raise ConfigError(f"lineage role must be 'input' or 'output', got {role!r}")
        with self._write() as conn:
            exists = conn.execute(sa.select(t.lineage.c.id).where(
                t.lineage.c.run_id == run_id, t.lineage.c.role == role, t.lineage.c.kind == kind,
                t.lineage.c.name == name, t.lineage.c.version == version, t.lineage.c.label == label)).first()
            if exists is None:
                conn.execute(sa.insert(t.lineage).values(run_id=run_id, role=role, kind=kind, name=name,
                                                         version=version, label=label, at=time.time()))

    def list_lineage(self, *, run_id: str | None = None, kind: str | None = None, name: str | None = None,
                     version: int | None = None, role: str | None = None) -> list[dict[str, Any]]:
        q = sa.select(t.lineage.c.run_id, t.lineage.c.role, t.lineage.c.kind, t.lineage.c.name,
                      t.lineage.c.version, t.lineage.c.label, t.lineage.c.at)
        for column, value in (("run_id", run_id), ("kind", kind), ("name", name), ("version", version),
                              ("role", role)):
            if value is not None:
                q = q.where(t.lineage.c[column] == value)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(q.order_by(t.lineage.c.id)).mappings()]

    # -- schedule firings ----------------------------------------------------
    def claim_firing(self, schedule_id: str, slot: str) -> bool:
        """Record that ``schedule_id`` fires ``slot`` now; False if it already did (here or
        in another scheduler)."""
        try:
            with self._write() as conn:
                done = conn.execute(sa.select(t.schedule_firings.c.slot).where(
                    t.schedule_firings.c.schedule_id == schedule_id, t.schedule_firings.c.slot == slot)).first()
                if done is not None:
                    return False
                conn.execute(sa.insert(t.schedule_firings).values(
                    schedule_id=schedule_id, slot=slot, fired_at=time.time()))
                return True
        except sa.exc.IntegrityError:  # PostgreSQL: another scheduler inserted it meanwhile
            return False

    def end_firing(self, schedule_id: str, slot: str, *, run_id: str | None = None,
                   error: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(sa.update(t.schedule_firings).where(
                t.schedule_firings.c.schedule_id == schedule_id, t.schedule_firings.c.slot == slot,
            ).values(run_id=run_id, error=error))

    def list_firings(self, schedule_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(sa.select(t.schedule_firings).where(
                t.schedule_firings.c.schedule_id == schedule_id).order_by(t.schedule_firings.c.fired_at)).mappings()
            return [dict(r) for r in rows]


def _asset_row(row) -> dict[str, Any]:
    return {**dict(row), "spec": json.loads(row["spec"])}


def _env_row(row) -> dict[str, Any]:
    return {"name": row["name"], "version": row["version"], "hash": row["hash"],
            "spec": json.loads(row["spec"]), "created_at": row["created_at"]}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if not isinstance(value, (int, float, bool)) else str(value)
