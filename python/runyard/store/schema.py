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
)
sa.Index("ix_metrics_run_name", metrics.c.run_id, metrics.c.name)

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
)

_V1_TABLES = [schema_version, experiments, runs, status_events, metrics, tags, properties,
              environments, compute_targets]


def _create_v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=_V1_TABLES)


def _add_applied_requests(conn: sa.Connection) -> None:
    applied_requests.create(conn, checkfirst=True)


#: (version, migration) in the order they apply; append, never edit.
MIGRATIONS: list[tuple[int, Callable[[sa.Connection], None]]] = [
    (1, _create_v1),
    (2, _add_applied_requests),
]
LATEST_VERSION = MIGRATIONS[-1][0]
