"""Run history on any SQLAlchemy database: SQLite (WAL) by default, PostgreSQL for teams."""

from __future__ import annotations

import contextvars
import hashlib
import json
import secrets
import sqlite3
import time
import uuid
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect, sqlite as sqlite_dialect

from .. import ids
from .. import status as st
from ..errors import ConfigError, ConflictError, NotFoundError, RunNotFoundError, RunyardError
from . import checks
from . import metric_blocks
from . import metric_series as series
from . import query as run_query
from . import schema as t
from .base import RunStore
from .query import RunQuery

#: a job token's prefix: says what it is wherever it turns up
JOB_TOKEN_PREFIX = "ryj_"
#: how deep a run tree may go (a parent chain longer than this is refused, not walked)
MAX_RUN_DEPTH = 64

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


_METRIC_COLUMNS = ("run_id", "name", "kind", "value_num", "value_text", "logged_at", "step", "description", "seq")
_COPY_METRICS = f"COPY metrics ({', '.join(_METRIC_COLUMNS)}) FROM STDIN"
_INSERT_METRICS = f"INSERT INTO metrics ({', '.join(_METRIC_COLUMNS)}) VALUES ({', '.join('?' * len(_METRIC_COLUMNS))})"

class SqlStore(RunStore):
    """Experiments, runs, status events, metrics, tags, properties, environments, assets.

    Every public method checks its arguments first (``runyard.store.checks``): ids and names,
    types, lengths, the run state machine, that the runs written to exist.
    """

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

    def apply_once(self, key: str, operation: Callable[[], Any], *, request: str | None = None) -> Any:
        """Run the store calls in ``operation`` once per ``key``, in one transaction with the
        record of the key; a later call with the same key returns the first result (JSON). With
        ``request`` (what the key answered, e.g. ``"POST /api/v1/runs"``), a key seen with
        another request is a ``ConflictError``, never another request's answer."""
        done = sa.select(t.applied_requests.c.response, t.applied_requests.c.request).where(
            t.applied_requests.c.key == key)

        def first_answer(row: Any) -> Any:
            if request is not None and row.request is not None and row.request != request:
                raise ConflictError(f"Idempotency-Key {key!r} was used for {row.request}; a key names one "
                                    f"request: send a new key")
            return json.loads(row.response)

        try:
            with self._write() as conn:
                row = conn.execute(done).first()
                if row is not None:
                    return first_answer(row)
                token = self._outer.set(conn)
                try:
                    result = operation()
                finally:
                    self._outer.reset(token)
                conn.execute(sa.insert(t.applied_requests).values(
                    key=key, at=time.time(), response=json.dumps(result), request=request))
                return result
        except sa.exc.IntegrityError:
            # The same key was applied meanwhile by a concurrent retry (PostgreSQL): ours
            # rolled back, theirs stands.
            with self._read() as conn:
                row = conn.execute(done).first()
            if row is None:
                raise
            return first_answer(row)

    def prune_applied_requests(self, older_than_s: float) -> int:
        """Forget idempotency keys applied more than ``older_than_s`` ago; how many went."""
        with self._write() as conn:
            return conn.execute(sa.delete(t.applied_requests).where(
                t.applied_requests.c.at < time.time() - older_than_s)).rowcount

    def schema_version(self) -> int:
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.max(t.schema_version.c.version))).scalar() or 0

    def close(self) -> None:
        self.engine.dispose()

    # -- experiments ---------------------------------------------------------
    def ensure_experiment(self, name: str) -> None:
        ids.check_experiment_name(name, "experiment")
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
        row = checks.new_run(row)
        tags = checks.key_values(tags or {}, "tags")
        properties = checks.key_values(properties or {}, "properties")
        now = time.time()
        with self._write() as conn:
            if conn.execute(sa.select(t.runs.c.run_id).where(t.runs.c.run_id == row["run_id"])).first():
                raise ConflictError(f"run_id {row['run_id']!r}: a run with this id exists")
            if row.get("parent_id") is not None:
                parent = conn.execute(sa.select(t.runs.c.experiment).where(
                    t.runs.c.run_id == row["parent_id"])).first()
                if parent is None:
                    raise RunNotFoundError(f"parent_id {row['parent_id']!r}: no such run")
                if parent.experiment != row["experiment"]:
                    raise ConfigError(f"experiment {row['experiment']!r}: a child run belongs to its parent's "
                                      f"experiment, {parent.experiment!r}")
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
                    {"run_id": row["run_id"], "key": k, "value": v} for k, v in tags.items()])
            if properties:
                conn.execute(sa.insert(t.properties), [
                    {"run_id": row["run_id"], "key": k, "value": v} for k, v in properties.items()])
        return {column: None for column in t.runs.c.keys()} | values

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        if not _valid_id(run_id):
            return None
        with self._read() as conn:
            row = conn.execute(sa.select(t.runs).where(t.runs.c.run_id == run_id)).mappings().first()
            return dict(row) if row else None

    def update_run(self, run_id: str, **fields: Any) -> None:
        fields = checks.run_update(fields)
        if not fields:
            return
        with self._write() as conn:
            self._existing(conn, run_id)
            conn.execute(sa.update(t.runs).where(t.runs.c.run_id == run_id).values(**fields))

    def set_run_process(self, run_id: str, *, host: str, supervisor_pid: int | None = None,
                        supervisor_started: float | None = None, job_pid: int | None = None,
                        job_started: float | None = None) -> None:
        values = checks.run_process(host, {"supervisor_pid": supervisor_pid, "supervisor_started": supervisor_started,
                                           "job_pid": job_pid, "job_started": job_started})
        with self._write() as conn:
            self._existing(conn, run_id)
            conn.execute(sa.update(t.runs).where(t.runs.c.run_id == run_id).values(**values))

    def issue_job_token(self, run_id: str) -> str:
        token = JOB_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write() as conn:
            status = self._existing(conn, run_id).status
            if status in st.TERMINAL:
                raise ConflictError(f"run {run_id} ended {status}: no job token is issued for it")
            conn.execute(sa.insert(t.job_tokens).values(token_hash=_token_hash(token), run_id=run_id,
                                                         created_at=time.time()))
        return token

    def job_token_run(self, token: str) -> dict[str, Any] | None:
        """The run a job token was issued for (its id and status), or None for an unknown token
        or one whose run ended."""
        if not token.startswith(JOB_TOKEN_PREFIX):
            return None
        q = (sa.select(t.runs.c.run_id, t.runs.c.status, t.runs.c.experiment)
             .join(t.job_tokens, t.job_tokens.c.run_id == t.runs.c.run_id)
             .where(t.job_tokens.c.token_hash == _token_hash(token)))
        with self._read() as conn:
            row = conn.execute(q).mappings().first()
        return dict(row) if row and row["status"] not in st.TERMINAL else None

    def ancestors(self, run_id: str) -> list[str]:
        """The ids of the run's parent, its parent's parent, ... (nearest first)."""
        chain: list[str] = []
        current = run_id
        with self._read() as conn:
            for _ in range(MAX_RUN_DEPTH):
                parent = conn.execute(sa.select(t.runs.c.parent_id).where(t.runs.c.run_id == current)).scalar()
                if parent is None:
                    return chain
                chain.append(parent)
                current = parent
        raise ConfigError(f"run {run_id}: its parent chain is deeper than {MAX_RUN_DEPTH} runs")

    def _existing(self, conn: sa.Connection, run_id: Any) -> Any:
        """The run's row (id, status, run_type, experiment) in this transaction; RunNotFoundError if none."""
        row = None
        if _valid_id(run_id):
            row = conn.execute(sa.select(t.runs.c.run_id, t.runs.c.status, t.runs.c.run_type,
                                         t.runs.c.experiment).where(t.runs.c.run_id == run_id)).first()
        if row is None:
            raise RunNotFoundError(f"run_id {run_id!r}: no such run")
        return row

    def set_status(self, run_id: str, status: str, *, allow_from_terminal: bool = False,
                   error: str | None = None, exit_code: int | None = None) -> bool:
        """Move a run to ``status`` along ``status.check_transition``: False (and nothing changed)
        when the run already ended or a cancel was asked for first; a ``ConfigError`` for a move
        backwards. A run that ends takes its job tokens with it."""
        values: dict[str, Any] = {"status": status}
        if error is not None:
            values["error"] = checks.text(error, "error", checks.ERROR_LENGTH)
        if exit_code is not None:
            values["exit_code"] = checks.integer(exit_code, "exit_code")
        now = time.time()
        with self._write() as conn:
            current = self._existing(conn, run_id).status
            if not st.check_transition(current, status, allow_from_terminal=allow_from_terminal):
                return False
            if status == st.RUNNING and current != st.RUNNING:
                values["start_time"] = now
            if status in st.TERMINAL and current not in st.TERMINAL:
                values["end_time"] = now
            conn.execute(sa.update(t.runs).where(t.runs.c.run_id == run_id).values(**values))
            if current != status:
                conn.execute(sa.insert(t.status_events).values(run_id=run_id, status=status, time=now))
            if status in st.TERMINAL:
                conn.execute(sa.delete(t.job_tokens).where(t.job_tokens.c.run_id == run_id))
        return True

    def end_active_children(self, run_id: str, status: str) -> None:
        """When a run ends, children still active end with it (recursively)."""
        checks.one_of(status, "status", st.TERMINAL)
        with self._read() as conn:
            self._existing(conn, run_id)
        for child in self.list_runs(parent_id=run_id, status=st.ACTIVE):
            error = None if status == st.COMPLETED else f"its parent run ended {status}"
            self.set_status(child["run_id"], status, error=error)
            self.end_active_children(child["run_id"], status)

    def status_events(self, run_id: str) -> list[dict[str, Any]]:
        if not _valid_id(run_id):
            return []
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
        _check_filters(experiment=experiment, parent_id=parent_id, run_type=run_type, host=host,
                       status=status, limit=limit, tags=tags, properties=properties)
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

    def query_runs(self, query: RunQuery | None = None, **fields: Any) -> dict[str, Any]:
        query = query if query is not None else RunQuery.of(**fields)
        count, page = run_query.statements(query, time.time())
        split = run_query.by_metric(query)
        with self._read() as conn:
            total = conn.execute(count).scalar_one() if query.total else None
            runs = self._page_by_metric(conn, query, *split) if split else None
            if runs is None:
                runs = [dict(r) for r in conn.execute(page).mappings()] if query.limit else []
            page_ids = [r["run_id"] for r in runs]
            latest = run_query.latest_values(conn, page_ids, query.columns)
            tags, properties = run_query.key_values(conn, t.tags, page_ids), run_query.key_values(conn, t.properties, page_ids)
        return {"total": total, "runs": runs, "metrics": latest, "tags": tags, "properties": properties}

    @staticmethod
    def _page_by_metric(conn: sa.Connection, query: RunQuery, having: Any, lacking: Any) -> list[dict[str, Any]] | None:
        """The page from ``run_query.by_metric``'s two parts: the runs with the value from the
        offset, then, where they run out, those without it. None when the page starts past the
        runs with the value (how many there are is then unknown: the one statement answers)."""
        runs = [dict(r) for r in conn.execute(having.offset(query.offset).limit(query.limit)).mappings()]
        if len(runs) == query.limit:
            return runs
        if not runs and query.offset:
            return None
        # the runs with the value end inside this page: those without it follow from their first
        return runs + [dict(r) for r in conn.execute(lacking.limit(query.limit - len(runs))).mappings()]

    # -- metrics -------------------------------------------------------------
    def log_metrics(self, rows: list[dict[str, Any]], *, batch_id: str | None = None) -> None:
        """Insert metric rows in one transaction (the job side batches them); a ``batch_id``
        applied before is not applied again."""
        rows = checks.metric_rows(rows)
        if not rows:
            return
        if batch_id is not None and self._outer.get() is None:
            self.apply_once(checks.text(batch_id, "batch_id", empty=False), lambda: self._insert_metrics(rows))
        else:
            self._insert_metrics(rows)

    def _insert_metrics(self, rows: list[dict[str, Any]]) -> None:
        with self._write() as conn:
            wanted = {row["run_id"] for row in rows}
            found = set(conn.execute(sa.select(t.runs.c.run_id).where(t.runs.c.run_id.in_(wanted))).scalars())
            if wanted - found:
                raise RunNotFoundError(f"run_id {sorted(wanted - found)[0]!r}: no such run (metric rows are "
                                       f"logged to existing runs)")
            added = self._number_points(conn, rows)
            if self._sqlite:
                # the driver's own executemany: SQLAlchemy's per-row parameter handling cost more
                # than the insert itself
                cursor = conn.connection.driver_connection.cursor()
                try:
                    cursor.executemany(_INSERT_METRICS, [tuple(row[c] for c in _METRIC_COLUMNS) for row in rows])
                finally:
                    cursor.close()
            else:
                # PostgreSQL: COPY, in this transaction, takes a batch several times faster than
                # an INSERT of many rows (the server's metrics route spends most of its time here)
                with conn.connection.driver_connection.cursor() as cursor, cursor.copy(_COPY_METRICS) as copy:
                    for row in rows:
                        copy.write_row([row[column] for column in _METRIC_COLUMNS])
            metric_blocks.merge(conn, [block for (run_id, name), points in added.items()
                                       for block in metric_blocks.of_points(points, run_id, name)], sqlite=self._sqlite)

    def _number_points(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[Any]]:
        """Gives each number its ``seq`` in its series (every other row ``None``) and keeps
        ``latest_metrics``: each scalar's last row of the batch and its series' count. The
        write lock (SQLite) or the upsert's row locks, taken in key order (PostgreSQL), order
        concurrent batches of a series as their numbers are. Answers each series' new points
        ``(seq, value, step, logged_at)``."""
        scalars: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            row["seq"] = None
            if row["kind"] == "scalar":
                scalars.setdefault((row["run_id"], row["name"]), []).append(row)
        if not scalars:
            return {}
        values = [{"run_id": run_id, "name": name, "value_num": mine[-1]["value_num"], "step": mine[-1]["step"],
                   "logged_at": mine[-1]["logged_at"], "points": sum(r["value_num"] is not None for r in mine),
                   "rows": len(mine), "first_at": mine[0]["logged_at"]}
                  for (run_id, name), mine in sorted(scalars.items())]
        latest = t.latest_metrics
        statement = (sqlite_dialect.insert if self._sqlite else postgresql_dialect.insert)(latest)
        counted = conn.execute(statement.on_conflict_do_update(
            index_elements=[latest.c.run_id, latest.c.name],
            set_={**{c: statement.excluded[c] for c in ("value_num", "step", "logged_at")},
                  "points": latest.c.points + statement.excluded.points,
                  "rows": latest.c.rows + statement.excluded.rows},
        ).returning(latest.c.run_id, latest.c.name, latest.c.points, sort_by_parameter_order=True), values)
        added: dict[tuple[str, str], list[Any]] = {}
        for value, (run_id, name, total) in zip(values, counted):
            seq = total - value["points"]
            for row in scalars[(run_id, name)]:
                if row["value_num"] is not None:
                    row["seq"] = seq
                    added.setdefault((run_id, name), []).append((seq, row["value_num"], row["step"], row["logged_at"]))
                    seq += 1
        return added

    def get_metric_rows(self, run_ids: list[str], name: str | None = None) -> list[dict[str, Any]]:
        run_ids = [r for r in run_ids if _valid_id(r)]
        if name is not None:
            checks.text(name, "name")
        q = (sa.select(t.metrics.c.run_id, t.metrics.c.name, t.metrics.c.kind,
                       t.metrics.c.value_num, t.metrics.c.value_text, t.metrics.c.logged_at,
                       t.metrics.c.step, t.metrics.c.description)
             .where(t.metrics.c.run_id.in_(run_ids)).order_by(t.metrics.c.id))
        if name is not None:
            q = q.where(t.metrics.c.name == name)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def metric_names(self, run_id: str) -> list[dict[str, Any]]:
        """From ``latest_metrics`` (scalars) and the few other rows (an index of them alone):
        no scan of a long series."""
        m, latest = t.metrics, t.latest_metrics
        run_id = ids.check_id(run_id, "run_id")
        scalars = sa.select(latest.c.name, sa.literal("scalar").label("kind"), latest.c.rows.label("count"),
                            latest.c.value_num.label("latest"), latest.c.first_at).where(latest.c.run_id == run_id)
        others = (sa.select(m.c.name, m.c.kind, sa.func.count().label("count"), sa.null().label("latest"),
                            sa.func.min(m.c.logged_at).label("first_at"))
                  .where(m.c.run_id == run_id, m.c.kind != "scalar").group_by(m.c.name, m.c.kind))
        with self._read() as conn:
            found = [dict(r) for q in (scalars, others) for r in conn.execute(q).mappings()]
        found.sort(key=lambda r: (r.pop("first_at"), r["name"], r["kind"]))
        return found

    def metric_series(self, run_ids: list[str], name: str, *, points: int = 1000, start: int = 0,
                      end: int | None = None) -> list[dict[str, Any]]:
        run_ids, name, points, start, end = series.check(run_ids, name, points=points, start=start, end=end)
        with self._read() as conn:
            return [series.read(conn, run_id, name, points, start, end) for run_id in run_ids]

    # -- tags and properties -------------------------------------------------
    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        tags = checks.key_values(tags, "tags")
        with self._write() as conn:
            self._existing(conn, run_id)
            for key, value in tags.items():
                conn.execute(sa.delete(t.tags).where(t.tags.c.run_id == run_id, t.tags.c.key == key))
                conn.execute(sa.insert(t.tags).values(run_id=run_id, key=key, value=value))

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        if isinstance(keys, str) or not isinstance(keys, Iterable):
            raise ConfigError(f"keys: expected a list of tag names, got {type(keys).__name__}")
        keys = [checks.text(key, "keys[]", empty=False) for key in keys]
        with self._write() as conn:
            self._existing(conn, run_id)
            conn.execute(sa.delete(t.tags).where(t.tags.c.run_id == run_id, t.tags.c.key.in_(keys)))

    def get_tags(self, run_id: str) -> dict[str, str | None]:
        if not _valid_id(run_id):
            return {}
        with self._read() as conn:
            rows = conn.execute(sa.select(t.tags.c.key, t.tags.c.value).where(t.tags.c.run_id == run_id))
            return {k: v for k, v in rows}

    def add_properties(self, run_id: str, props: dict[str, Any]) -> None:
        """Properties are write-once: setting a key again to another value is an error."""
        props = checks.key_values(props, "properties")
        with self._write() as conn:
            self._existing(conn, run_id)
            existing = dict(conn.execute(
                sa.select(t.properties.c.key, t.properties.c.value).where(t.properties.c.run_id == run_id)
            ).all())
            for key, text in props.items():
                if key in existing:
                    if existing[key] != text:
                        raise ConflictError(
                            f"property {key!r} of run {run_id} is already {existing[key]!r}; "
                            f"properties cannot change (use tags for mutable values)")
                    continue
                conn.execute(sa.insert(t.properties).values(run_id=run_id, key=key, value=text))

    def get_properties(self, run_id: str) -> dict[str, str | None]:
        if not _valid_id(run_id):
            return {}
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.properties.c.key, t.properties.c.value).where(t.properties.c.run_id == run_id))
            return {k: v for k, v in rows}

    # -- environments --------------------------------------------------------
    def register_environment(self, name: str, env_hash: str, spec: dict[str, Any]) -> int:
        """Store a new version of ``name`` unless the latest one is this spec. The hash (what
        gets built) leaves out the environment variables; a version keeps them, so a spec that
        changes only those is a new version too."""
        checks.text(name, "name", empty=False)
        ids.check_sha256(env_hash, "hash")
        spec_text = checks.spec_json(spec)
        with self._write() as conn:
            latest = conn.execute(
                sa.select(t.environments.c.version, t.environments.c.hash, t.environments.c.spec)
                .where(t.environments.c.name == name)
                .order_by(t.environments.c.version.desc()).limit(1)
            ).first()
            if latest and latest.hash == env_hash and checks.spec_json(json.loads(latest.spec)) == spec_text:
                return latest.version
            version = (latest.version + 1) if latest else 1
            conn.execute(sa.insert(t.environments).values(
                name=name, version=version, hash=env_hash, spec=spec_text, created_at=time.time()))
            return version

    def get_environment(self, name: str, version: int | None = None) -> dict[str, Any] | None:
        checks.text(name, "name")
        if version is not None:
            checks.version(version)
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
        from ..compute import check_target_name, target_class
        check_target_name(name)
        checks.spec_json(config)
        # an unknown kind is an error listing the kinds there are; a bad setting one naming it
        config_text = checks.spec_json(target_class(kind)(None, name, config).config)
        with self._write() as conn:
            conn.execute(sa.delete(t.compute_targets).where(t.compute_targets.c.name == name))
            conn.execute(sa.insert(t.compute_targets).values(
                name=name, type=kind, config=config_text, created_at=time.time()))

    def delete_compute_target(self, name: str) -> bool:
        checks.text(name, "name")
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
        checks.asset(kind, name, spec, content_hash, asset_id, state)
        spec_text = checks.spec_json(spec)
        with self._write() as conn:
            if run_id is not None:
                self._existing(conn, run_id)
            if asset_id is not None and conn.execute(sa.select(t.assets.c.id).where(t.assets.c.id == asset_id)).first():
                raise ConflictError(f"asset_id {asset_id!r}: an asset with this id exists")
            if content_hash is not None:
                same = conn.execute(sa.select(t.assets).where(
                    t.assets.c.kind == kind, t.assets.c.name == name, t.assets.c.hash == content_hash,
                ).order_by(t.assets.c.version.desc()).limit(1)).mappings().first()
                if same is not None:
                    return _asset_row(same)
            latest = conn.execute(sa.select(sa.func.max(t.assets.c.version)).where(
                t.assets.c.kind == kind, t.assets.c.name == name)).scalar()
            if latest is not None and not create_new_version:
                raise ConflictError(f"{kind} {name!r} is already registered (version {latest}); pass "
                                  f"create_new_version=True to add a version")
            now = time.time()
            row = {"kind": kind, "name": name, "version": (latest or 0) + 1, "id": asset_id or uuid.uuid4().hex,
                   "hash": content_hash, "spec": spec_text, "state": state,
                   "run_id": run_id, "created_at": now, "updated_at": now}
            conn.execute(sa.insert(t.assets).values(**row))
            return _asset_row(row)

    def register_assets(self, kind: str, assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Many versions in one transaction (see ``RunStore.register_assets``): a few queries for
        the whole batch, not a few per item."""
        items = checks.asset_items(kind, assets)
        if not items:
            return []
        now = time.time()
        with self._write() as conn:
            runs = sorted({item["run_id"] for item in items if item["run_id"] is not None})
            for run_id in runs:
                self._existing(conn, run_id)
            names = sorted({item["name"] for item in items})
            hashes = sorted({item["content_hash"] for item in items if item["content_hash"] is not None})
            known: dict[tuple[str, str], dict[str, Any]] = {}  # (name, hash) -> its newest version's row
            latest: dict[str, int] = {}
            for start in range(0, len(names), 400):
                chunk = names[start:start + 400]
                if hashes:
                    for begin in range(0, len(hashes), 400):
                        found = conn.execute(sa.select(t.assets).where(
                            t.assets.c.kind == kind, t.assets.c.name.in_(chunk),
                            t.assets.c.hash.in_(hashes[begin:begin + 400])).order_by(t.assets.c.version)).mappings()
                        known.update({(row["name"], row["hash"]): dict(row) for row in found})
                latest.update(conn.execute(sa.select(t.assets.c.name, sa.func.max(t.assets.c.version)).where(
                    t.assets.c.kind == kind, t.assets.c.name.in_(chunk)).group_by(t.assets.c.name)).all())
            rows, new = [], []
            for item in items:
                key = (item["name"], item["content_hash"])
                if item["content_hash"] is not None and key in known:
                    rows.append(known[key])
                    continue
                version = latest.get(item["name"], 0) + 1
                latest[item["name"]] = version
                row = {"kind": kind, "name": item["name"], "version": version, "id": uuid.uuid4().hex,
                       "hash": item["content_hash"], "spec": item["spec_text"], "state": "active",
                       "run_id": item["run_id"], "created_at": now, "updated_at": now}
                new.append(row)
                rows.append(row)
                if item["content_hash"] is not None:
                    known[key] = row
            if new:
                conn.execute(sa.insert(t.assets), new)
            outputs = {(item["run_id"], row["name"], row["version"])
                       for item, row in zip(items, rows) if item["run_id"] is not None}
            if outputs:
                recorded: set[tuple[str, str, int]] = set()
                for start in range(0, len(runs), 400):
                    recorded.update(conn.execute(sa.select(t.lineage.c.run_id, t.lineage.c.name, t.lineage.c.version)
                                                 .where(t.lineage.c.run_id.in_(runs[start:start + 400]),
                                                        t.lineage.c.role == "output", t.lineage.c.kind == kind,
                                                        t.lineage.c.label.is_(None))).all())
                lines = [{"run_id": run_id, "role": "output", "kind": kind, "name": name, "version": version,
                          "label": None, "at": now} for run_id, name, version in sorted(outputs - recorded)]
                if lines:
                    conn.execute(sa.insert(t.lineage), lines)
        return [_asset_row(row) for row in rows]

    def get_asset(self, kind: str, name: str, version: int | None = None) -> dict[str, Any] | None:
        """Version ``version`` of ``name`` (the latest without one), or None."""
        checks.one_of(kind, "kind", checks.ASSET_KINDS)
        try:
            ids.check_asset_name(name)
        except ConfigError:
            return None
        if version is not None:
            checks.version(version)
        q = sa.select(t.assets).where(t.assets.c.kind == kind, t.assets.c.name == name)
        q = q.where(t.assets.c.version == version) if version is not None else \
            q.order_by(t.assets.c.version.desc()).limit(1)
        with self._read() as conn:
            row = conn.execute(q).mappings().first()
        return _asset_row(row) if row else None

    def get_asset_by_id(self, asset_id: str) -> dict[str, Any] | None:
        if not _valid_id(asset_id):
            return None
        with self._read() as conn:
            row = conn.execute(sa.select(t.assets).where(t.assets.c.id == asset_id)).mappings().first()
        return _asset_row(row) if row else None

    def list_assets(self, kind: str, name: str | None = None, *, state: str | None = None,
                    latest_only: bool = False) -> list[dict[str, Any]]:
        """Assets of ``kind`` by name then version (of one ``name``, in one ``state``)."""
        checks.one_of(kind, "kind", checks.ASSET_KINDS)
        if name is not None:
            ids.check_asset_name(name, "name")
        if state is not None:
            checks.one_of(state, "state", checks.ASSET_STATES)
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
            fields["spec"] = checks.spec_json(spec)
        if state is not None:
            fields["state"] = checks.one_of(state, "state", checks.ASSET_STATES)
        if not _valid_id(asset_id):
            raise NotFoundError(f"no asset with id {asset_id!r}")
        with self._write() as conn:
            if spec is not None:  # the whole new spec must fit the asset's kind (an unknown id: below)
                kind = conn.execute(sa.select(t.assets.c.kind).where(t.assets.c.id == asset_id)).scalar()
                if kind is not None:
                    from . import asset_specs  # pydantic models: built when an asset is written, not by every job
                    asset_specs.check_spec(kind, spec)
            if conn.execute(sa.update(t.assets).where(t.assets.c.id == asset_id).values(**fields)).rowcount == 0:
                raise NotFoundError(f"no asset with id {asset_id!r}")
            row = conn.execute(sa.select(t.assets).where(t.assets.c.id == asset_id)).mappings().first()
        return _asset_row(row)

    def record_lineage(self, run_id: str, role: str, kind: str, name: str, version: int,
                       label: str | None = None) -> None:
        """Record that ``run_id`` read (``role="input"``) or wrote (``"output"``) an asset version."""
        checks.one_of(role, "role", checks.LINEAGE_ROLES)
        checks.one_of(kind, "kind", checks.ASSET_KINDS)
        ids.check_asset_name(name, "name")
        checks.version(version)
        checks.optional_text(label, "label")
        with self._write() as conn:
            self._existing(conn, run_id)
            exists = conn.execute(sa.select(t.lineage.c.id).where(
                t.lineage.c.run_id == run_id, t.lineage.c.role == role, t.lineage.c.kind == kind,
                t.lineage.c.name == name, t.lineage.c.version == version, t.lineage.c.label == label)).first()
            if exists is None:
                conn.execute(sa.insert(t.lineage).values(run_id=run_id, role=role, kind=kind, name=name,
                                                         version=version, label=label, at=time.time()))

    def list_lineage(self, *, run_id: str | None = None, kind: str | None = None, name: str | None = None,
                     version: int | None = None, role: str | None = None) -> list[dict[str, Any]]:
        _check_filters(run_id=run_id, kind=kind, name=name, role=role)
        if version is not None:
            checks.version(version)
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
        ids.check_id(schedule_id, "schedule_id")
        checks.text(slot, "slot", empty=False)
        with self._write() as conn:
            done = conn.execute(sa.select(t.schedule_firings.c.slot).where(
                t.schedule_firings.c.schedule_id == schedule_id, t.schedule_firings.c.slot == slot)).first()
            if done is not None:
                return False
            try:
                # A savepoint: when another scheduler inserted the slot meanwhile (PostgreSQL),
                # only this insert is undone, not the transaction it may be part of (a server's
                # record of the request's Idempotency-Key).
                with conn.begin_nested():
                    conn.execute(sa.insert(t.schedule_firings).values(
                        schedule_id=schedule_id, slot=slot, fired_at=time.time()))
            except sa.exc.IntegrityError:
                return False
            return True

    def end_firing(self, schedule_id: str, slot: str, *, run_id: str | None = None,
                   error: str | None = None) -> None:
        ids.check_id(schedule_id, "schedule_id")
        checks.text(slot, "slot", empty=False)
        if run_id is not None:
            ids.check_id(run_id, "run_id")
        checks.optional_text(error, "error", checks.ERROR_LENGTH)
        with self._write() as conn:
            conn.execute(sa.update(t.schedule_firings).where(
                t.schedule_firings.c.schedule_id == schedule_id, t.schedule_firings.c.slot == slot,
            ).values(run_id=run_id, error=error))

    def list_firings(self, schedule_id: str) -> list[dict[str, Any]]:
        if not _valid_id(schedule_id):
            return []
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
    return checks.stored_value(value, "value")


def _valid_id(value: Any) -> bool:
    try:
        ids.check_id(value)
    except ConfigError:
        return False
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_filters(*, status: Any = None, limit: Any = None, tags: Any = None, properties: Any = None,
                   **texts: Any) -> None:
    """Filters of a listing: text without NUL that fits a column, known statuses, a sane limit."""
    for field, value in texts.items():
        if value is not None:
            checks.text(value, field)
    if status is not None:
        for value in [status] if isinstance(status, str) else list(status):
            checks.one_of(value, "status", st.ALL)
    if limit is not None:
        checks.integer(limit, "limit", 1)
    for field, values in (("tags", tags), ("properties", properties)):
        if values is not None:
            checks.key_values(values, field)
