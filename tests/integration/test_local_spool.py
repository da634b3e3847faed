"""A local job's metrics go through its spool to its supervisor (store/spool.py): the job does
not load the SQL store for them, reads its own writes once it needs the store, and nothing it
logged is lost or stored twice, whichever process applies it."""

from __future__ import annotations

import json
import threading
import time

from runyard import ScriptRunConfig
from runyard import status as st
from runyard.store.spool import APPLIED_FILE, EVENTS_FILE, apply_events, drain, write_run_file


def _submit(experiment, project, script: str):
    src = project({"job.py": script})
    run = experiment.submit(ScriptRunConfig(str(src), script="job.py"))
    details = run.wait_for_completion(raise_on_error=False)
    return run, details


def test_a_job_that_only_logs_never_loads_the_sql_store(experiment, project):
    run, details = _submit(experiment, project, """\
        import sys
        from runyard import Run
        run = Run.get_context()
        for i in range(300):
            run.log("i", i)
        run.flush()
        run.log("last", 1)
        print("sql store loaded:", "runyard.store.sql" in sys.modules)
        """)
    assert details["status"] == st.COMPLETED, details["error"]
    assert "sql store loaded: False" in run.get_log()
    assert run.get_metrics() == {"i": list(range(300)), "last": 1}


def test_a_job_reads_its_own_spooled_writes_and_nothing_is_stored_twice(experiment, project):
    # The first read opens the store: what was spooled before it is applied first, by the job
    # itself; the supervisor, which drains the same spool, must not apply it again.
    run, details = _submit(experiment, project, """\
        from runyard import Run
        run = Run.get_context()
        for i in range(5):
            run.log("loss", i)
        run.flush()
        seen = run.get_metrics(name="loss")["loss"]
        assert seen == [0, 1, 2, 3, 4], seen
        run.tag("phase", "second")
        for i in range(5, 10):
            run.log("loss", i)
        run.flush()
        assert run.get_metrics(name="loss")["loss"] == list(range(10))
        assert run.get_tags()["phase"] == "second"
        """)
    assert details["status"] == st.COMPLETED, details["error"]
    assert run.get_metrics() == {"loss": list(range(10))}
    assert run.get_tags()["phase"] == "second"


def test_metrics_flushed_before_the_job_is_killed_are_kept(experiment, project):
    run, details = _submit(experiment, project, """\
        import os, signal
        from runyard import Run
        run = Run.get_context()
        for i in range(50):
            run.log("step", i)
        run.flush()
        os.kill(os.getpid(), signal.SIGKILL)
        """)
    assert details["status"] == st.FAILED
    assert "SIGKILL" in details["error"]["message"]
    assert run.get_metrics()["step"] == list(range(50))


def test_the_spool_folder_is_removed_with_the_job_folder(experiment, project, workspace, wait_for):
    run, details = _submit(experiment, project, """\
        import os
        from runyard import Run
        Run.get_context().log("spool", os.environ["RUNYARD_SPOOL"])
        assert not any(name.endswith(".spool") for name in os.listdir("."))
        """)
    assert details["status"] == st.COMPLETED, details["error"]
    spool = run.get_metrics()["spool"]
    assert spool.endswith(f"{run.id}.spool")
    # the supervisor removes both once it has recorded the run's end
    gone = lambda: not (workspace.work_dir / f"{run.id}.spool").exists() and not (workspace.work_dir / run.id).exists()
    wait_for(gone, timeout=30, what="the job's folder and its spool to be removed")


def _spool_for(workspace, run_id, tmp_path):
    folder = tmp_path / "spool"
    write_run_file(folder, workspace._store.get_run(run_id), {}, {})
    return folder


def _append(folder, op, *args, **kwargs):
    with open(folder / EVENTS_FILE, "a") as fh:
        fh.write(json.dumps({"op": op, "args": args, "kwargs": kwargs}) + "\n")


def _row(run_id, value):
    return {"run_id": run_id, "name": "v", "kind": "scalar", "value_num": float(value), "value_text": None,
            "step": None, "description": None, "logged_at": time.time()}


def test_two_processes_draining_one_spool_apply_each_line_once(experiment, workspace, tmp_path):
    run = experiment.start_logging()
    folder = _spool_for(workspace, run.id, tmp_path)
    store = workspace._store
    stop = threading.Event()

    def writer():
        for i in range(400):
            _append(folder, "log_metrics", [_row(run.id, i)])  # no batch_id: the offset alone must hold
        stop.set()

    def drainer():
        while not stop.is_set():
            drain(store, folder, run.id)
        drain(store, folder, run.id)

    threads = [threading.Thread(target=writer), threading.Thread(target=drainer), threading.Thread(target=drainer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert run.get_metrics()["v"] == [float(i) for i in range(400)]
    assert int((folder / APPLIED_FILE).read_text()) == (folder / EVENTS_FILE).stat().st_size


def test_writes_for_runs_under_the_job_are_applied_and_others_refused(experiment, workspace, tmp_path):
    run = experiment.start_logging()
    child = run.child_run("child")
    grandchild = child.child_run("grandchild")  # made in the store, not through the spool
    stranger = experiment.start_logging()
    folder = _spool_for(workspace, run.id, tmp_path)
    _append(folder, "log_metrics", [_row(grandchild.id, 1)])
    _append(folder, "log_metrics", [_row(stranger.id, 2)])
    _append(folder, "set_tags", stranger.id, {"planted": "yes"})
    notes = []
    apply_events(workspace._store, folder, 0, run.id, note=notes.append)
    assert grandchild.get_metrics() == {"v": 1.0}
    assert stranger.get_metrics() == {} and "planted" not in stranger.get_tags()
    assert len(notes) == 2 and all("not the job's" in n or "is not the job's run" in n for n in notes)
