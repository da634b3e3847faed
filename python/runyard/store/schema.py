"""The run-history schema and its versioned migrations.

Tables are SQLAlchemy Core objects so the same statements run on SQLite and on
PostgreSQL. A migration is a function applied once, in order, inside one write
transaction; the ``schema_version`` table says how far a database has come.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

experiments = sa.Table(
    "experiments", metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("experiment", sa.String(255), sa.ForeignKey("experiments.name"), nullable=False),
    sa.Column("parent_id", sa.String(255), nullable=True),
    sa.Column("run_number", sa.Integer, nullable=False),
    sa.Column("display_name", sa.String(255), nullable=True),
    sa.Column("run_type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("target", sa.String(255), nullable=True),
    sa.Column("definition", sa.Text, nullable=True),  # JSON of the job spec
    sa.Column("environment_name", sa.String(255), nullable=True),
    sa.Column("environment_version", sa.String(64), nullable=True),
    sa.Column("environment_hash", sa.String(64), nullable=True),
    sa.Column("snapshot_hash", sa.String(64), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("start_time", sa.Float, nullable=True),
    sa.Column("end_time", sa.Float, nullable=True),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("supervisor_pid", sa.Integer, nullable=True),
    sa.Column("supervisor_started", sa.Float, nullable=True),
    sa.Column("job_pid", sa.Integer, nullable=True),
    sa.Column("job_started", sa.Float, nullable=True),
)
sa.Index("ix_runs_experiment", runs.c.experiment, runs.c.created_at)
sa.Index("ix_runs_parent", runs.c.parent_id)
sa.Index("ix_runs_status", runs.c.status)
# the runs table's pages (schema v6): newest first within an experiment, among top-level runs
# or a run's children, and across the workspace, read in index order rather than sorted
sa.Index("ix_runs_experiment_order", runs.c.experiment, runs.c.created_at, runs.c.run_number)
sa.Index("ix_runs_parent_order", runs.c.parent_id, runs.c.created_at, runs.c.run_number)
sa.Index("ix_runs_order", runs.c.created_at, runs.c.run_number)

status_events = sa.Table(
    "status_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(255), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("time", sa.Float, nullable=False),
)

metrics = sa.Table(
    "metrics", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # scalar | list | row | table | image
    sa.Column("value_num", sa.Float, nullable=True),
    sa.Column("value_text", sa.Text, nullable=True),  # JSON for anything not a plain number
    sa.Column("logged_at", sa.Float, nullable=False),
    sa.Column("step", sa.Integer, nullable=True),  # run.log(..., step=N) (schema v4)
    sa.Column("description", sa.Text, nullable=True),  # run.log(..., description=...) (schema v4)
    # a number's place in its run's series of that name, from 0, in logging order; null for
    # any other row (schema v7: what a chart asks for by range, see metric_series)
    sa.Column("seq", sa.BigInteger, nullable=True),
)
# a run's rows of a name, a series' points by range (schema v7; until v6 the index was
# ix_metrics_run_name on run_id and name: one index, as each costs every logged row time)
sa.Index("ix_metrics_series", metrics.c.run_id, metrics.c.name, metrics.c.seq)
# the few rows that are not scalars (tables, images, lists, rows), without the many that are
# (schema v7: what a run logged is latest_metrics' scalars and these)
sa.Index("ix_metrics_other_kinds", metrics.c.run_id, metrics.c.name, metrics.c.kind,
         sqlite_where=metrics.c.kind != "scalar", postgresql_where=metrics.c.kind != "scalar")

tags = sa.Table(
    "tags", metadata,
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=True),
)

properties = sa.Table(
    "properties", metadata,
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=True),
)

environments = sa.Table(
    "environments", metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

compute_targets = sa.Table(
    "compute_targets", metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)


# Writes the workspace server has applied, by the client's Idempotency-Key: a retried
# request finds its key here and gets the first answer instead of being applied again.
applied_requests = sa.Table(
    "applied_requests", metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("response", sa.Text, nullable=True),  # JSON of what the write returned
    sa.Column("request", sa.String(512), nullable=True),  # "METHOD /path" it answered (schema v4)
)

# Named, versioned things of a workspace other than environments: datasets, datastores,
# models, published pipelines, pipeline endpoints, schedules. ``spec`` is the kind's own JSON;
# ``hash`` the content hash that keys a version (registering the same content again returns
# that version); ``state`` active/disabled; ``run_id`` the run that produced it, if one did.
assets = sa.Table(
    "assets", metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
sa.Index("ix_assets_hash", assets.c.kind, assets.c.name, assets.c.hash)

# Which asset versions a run read (role "input") and wrote ("output").
lineage = sa.Table(
    "lineage", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(255), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("label", sa.String(255), nullable=True),  # the input's name in the run
    sa.Column("at", sa.Float, nullable=False),
)
sa.Index("ix_lineage_asset", lineage.c.kind, lineage.c.name, lineage.c.version)

# Each slot a schedule fired: the primary key makes a slot fire once, whichever
# scheduler process gets there first.
schedule_firings = sa.Table(
    "schedule_firings", metadata,
    sa.Column("schedule_id", sa.String(64), primary_key=True),
    sa.Column("slot", sa.String(255), primary_key=True),
    sa.Column("fired_at", sa.Float, nullable=False),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)

# Job-scoped credentials (schema v4): a job gets a token that can write only its run and the
# runs under it; only its sha256 is stored, and the row goes when the run ends.
job_tokens = sa.Table(
    "job_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(255), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

# Each scalar metric's last value per run (schema v5), kept as rows are logged: what a runs
# table sorts and filters by, read from an index rather than from every metric row.
latest_metrics = sa.Table(
    "latest_metrics", metadata,
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("value_num", sa.Float, nullable=True),
    sa.Column("step", sa.Integer, nullable=True),
    sa.Column("logged_at", sa.Float, nullable=False),
    # schema v7: how many numbers the series holds (the next one's seq), how many scalar rows
    # the name has (numbers and text), and when the first was logged
    sa.Column("points", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("first_at", sa.Float, nullable=False, server_default="0"),
)
sa.Index("ix_latest_metrics_value", latest_metrics.c.name, latest_metrics.c.value_num)

# A pyramid over each series (schema v7): block B of level L covers the points whose seq // 64**L
# is B, and keeps how many it holds and its lowest and highest point (the first of equal ones),
# so a chart of a million points reads some thousands of rows (runyard.store.metric_blocks).
metric_blocks = sa.Table(
    "metric_blocks", metadata,
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("block", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("min_seq", sa.BigInteger, nullable=False),
    sa.Column("min_value", sa.Float, nullable=False),
    sa.Column("min_step", sa.Integer, nullable=True),
    sa.Column("min_logged_at", sa.Float, nullable=False),
    sa.Column("max_seq", sa.BigInteger, nullable=False),
    sa.Column("max_value", sa.Float, nullable=False),
    sa.Column("max_step", sa.Integer, nullable=True),
    sa.Column("max_logged_at", sa.Float, nullable=False),
)

_V1_TABLES = [schema_version, experiments, runs, status_events, metrics, tags, properties,
              environments, compute_targets]


def _create_v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=_V1_TABLES)


def _add_applied_requests(conn: sa.Connection) -> None:
    applied_requests.create(conn, checkfirst=True)


def _add_assets(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[assets, lineage, schedule_firings])
    # A pipeline step looks up its reuse key before it runs: an index of that one property
    # (partial, so long values of other properties stay out of it), on SQLite and PostgreSQL.
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_properties_reuse_key ON properties (value) "
                         "WHERE key = 'runyard.reuse_key'")


def _add_steps_and_job_tokens(conn: sa.Connection) -> None:
    # A v1-v3 database lacks the new columns; one created by this version's _create_v1 and
    # _add_applied_requests already has them (the Tables above are the latest shape).
    have = {column["name"] for column in sa.inspect(conn).get_columns("metrics")}
    for column, kind in (("step", "INTEGER"), ("description", "TEXT")):
        if column not in have:
            conn.exec_driver_sql(f"ALTER TABLE metrics ADD COLUMN {column} {kind}")
    job_tokens.create(conn, checkfirst=True)
    if "request" not in {column["name"] for column in sa.inspect(conn).get_columns("applied_requests")}:
        conn.exec_driver_sql("ALTER TABLE applied_requests ADD COLUMN request VARCHAR(512)")
    # pruning old idempotency records looks them up by age
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_applied_requests_at ON applied_requests (at)")


def _add_latest_metrics(conn: sa.Connection) -> None:
    latest_metrics.create(conn, checkfirst=True)
    # the last scalar row of each run and name logged so far (ids grow in logging order)
    last = (sa.select(sa.func.max(metrics.c.id)).where(metrics.c.kind == "scalar")
            .group_by(metrics.c.run_id, metrics.c.name))
    conn.execute(sa.insert(latest_metrics).from_select(
        ["run_id", "name", "value_num", "step", "logged_at"],
        sa.select(metrics.c.run_id, metrics.c.name, metrics.c.value_num, metrics.c.step, metrics.c.logged_at)
        .where(metrics.c.id.in_(last))))


def _add_run_order_indexes(conn: sa.Connection) -> None:
    for index in runs.indexes:
        if index.name in ("ix_runs_experiment_order", "ix_runs_parent_order", "ix_runs_order"):
            index.create(conn, checkfirst=True)


def _add_metric_pyramid(conn: sa.Connection) -> None:
    """Numbers each series' points (``metrics.seq``), counts them (``latest_metrics.points``)
    and builds each series' blocks, from the rows already there."""
    from . import metric_blocks as blocks
    added = {"metrics": [("seq", "BIGINT")], "latest_metrics": [("points", "BIGINT NOT NULL DEFAULT 0"),
                                                                 ("rows", "BIGINT NOT NULL DEFAULT 0"),
                                                                 ("first_at", "FLOAT NOT NULL DEFAULT 0")]}
    for table, columns in added.items():
        have = {c["name"] for c in sa.inspect(conn).get_columns(table)}
        for column, kind in columns:
            if column not in have:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    numbered = (sa.select(metrics.c.id, (sa.func.row_number().over(partition_by=(metrics.c.run_id, metrics.c.name),
                                                                   order_by=metrics.c.id) - 1).label("i"))
                .where(blocks.IS_POINT).subquery("numbered"))
    conn.execute(sa.update(metrics).values(seq=numbered.c.i).where(metrics.c.id == numbered.c.id))
    same = sa.and_(metrics.c.run_id == latest_metrics.c.run_id, metrics.c.name == latest_metrics.c.name)
    scalar = metrics.c.kind == "scalar"
    conn.execute(sa.update(latest_metrics).values(
        points=sa.select(sa.func.count()).where(same, blocks.IS_POINT).scalar_subquery(),
        rows=sa.select(sa.func.count()).where(same, scalar).scalar_subquery(),
        first_at=sa.select(sa.func.min(metrics.c.logged_at)).where(same, scalar).scalar_subquery()))
    metric_blocks.create(conn, checkfirst=True)
    for index in metrics.indexes:
        if index.name in ("ix_metrics_series", "ix_metrics_other_kinds"):
            index.create(conn, checkfirst=True)
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_metrics_run_name")
    for level in blocks.LEVELS:
        conn.execute(blocks.backfill(level))


#: (version, migration) in the order they apply; append, never edit.
MIGRATIONS: list[tuple[int, Callable[[sa.Connection], None]]] = [
    (1, _create_v1),
    (2, _add_applied_requests),
    (3, _add_assets),
    (4, _add_steps_and_job_tokens),
    (5, _add_latest_metrics),
    (6, _add_run_order_indexes),
    (7, _add_metric_pyramid),
]
LATEST_VERSION = MIGRATIONS[-1][0]
