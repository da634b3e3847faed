"""Azure's ``azureml.telemetry``: runyard sends no diagnostics anywhere, so there is nothing to switch."""

from __future__ import annotations

import sys

_told = False


def set_diagnostics_collection(send_diagnostics: bool = True, path: str | None = None, reset: bool = False) -> None:
    """Does nothing, and says so once: runyard collects no telemetry, whatever the arguments.

    >>> set_diagnostics_collection(send_diagnostics=True)  # doctest: +SKIP
    """
    global _told
    if not _told:
        _told = True
        print("azureml.telemetry.set_diagnostics_collection: runyard collects no diagnostics; this call does nothing.",
              file=sys.stderr)


__all__ = ["set_diagnostics_collection"]
