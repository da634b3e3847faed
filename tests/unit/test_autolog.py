"""Autologging's pieces: code that runs once a module is imported, and the epoch helper."""

from __future__ import annotations

import sys

from runyard.autolog import log_epoch, when_imported


def test_a_callback_runs_when_the_module_is_imported(tmp_path, monkeypatch):
    (tmp_path / "late_module_xyz.py").write_text("VALUE = 41\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    when_imported("late_module_xyz", lambda module: seen.append(module.VALUE + 1))
    assert seen == []
    import late_module_xyz  # noqa: F401
    assert seen == [42]
    when_imported("late_module_xyz", lambda module: seen.append("again"))  # already imported: now
    assert seen == [42, "again"]
    sys.modules.pop("late_module_xyz", None)


class _Recorder:
    def __init__(self):
        self.logged = []

    def log(self, name, value):
        self.logged.append((name, value))


def test_log_epoch_logs_the_epoch_and_each_metric():
    run = _Recorder()
    log_epoch(3, run=run, loss=0.25, accuracy=0.875)
    assert run.logged == [("epoch", 3), ("loss", 0.25), ("accuracy", 0.875)]
