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


#: where each active status stands in a run's life; a run only moves forward
_ORDER = {NOT_STARTED: 0, QUEUED: 1, PREPARING: 2, STARTING: 3, RUNNING: 4, FINALIZING: 5}
#: what a new run may be recorded as (terminal ones: a reused or skipped pipeline step)
INITIAL = frozenset({NOT_STARTED, QUEUED, RUNNING}) | TERMINAL


def check_transition(current: str, new: str, *, allow_from_terminal: bool = False) -> bool:
    """Whether a run in ``current`` may move to ``new``: True to apply it, False when the move
    is moot (the run already ended, or a cancel was asked for and wins over a later step of
    its start); a ``ConfigError`` for a status that does not exist or a move backwards.

    >>> check_transition(QUEUED, PREPARING)
    True
    >>> check_transition(CANCEL_REQUESTED, RUNNING)
    False
    """
    from .errors import ConfigError
    if new not in ALL:
        raise ConfigError(f"status {new!r} is not one of: {', '.join(ALL)}")
    if current in TERMINAL:
        if not allow_from_terminal:
            return False
        if new not in TERMINAL:
            raise ConfigError(f"a run that ended {current} can only be given another final status, not {new!r}")
        return True
    if new == current or new in TERMINAL or new == CANCEL_REQUESTED:
        return True
    if current == CANCEL_REQUESTED:
        return new == FINALIZING
    if _ORDER[new] < _ORDER[current]:
        raise ConfigError(f"a run cannot move from {current} back to {new}")
    return True
