"""Run status names, as Azure ML SDK v1 spelled them, and the order they move in."""

from __future__ import annotations

NOT_STARTED = "NotStarted"
QUEUED = "Queued"
PREPARING = "Preparing"
STARTING = "Starting"
RUNNING = "Running"
FINALIZING = "Finalizing"
CANCEL_REQUESTED = "CancelRequested"
COMPLETED = "Completed"
FAILED = "Failed"
CANCELED = "Canceled"

ALL = (
    NOT_STARTED, QUEUED, PREPARING, STARTING, RUNNING, FINALIZING,
    CANCEL_REQUESTED, COMPLETED, FAILED, CANCELED,
)
TERMINAL = frozenset({COMPLETED, FAILED, CANCELED})
ACTIVE = frozenset(ALL) - TERMINAL


def is_terminal(status: str) -> bool:
    return status in TERMINAL
