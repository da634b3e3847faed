"""A local job's metrics go through its spool to its supervisor (store/spool.py): the job does
not load the SQL store for them, reads its own writes once it needs the store, and nothing it
logged is lost or stored twice, whichever process applies it."""

from __future__ import annotations

import json
import threading
import time

import pytest

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


def _model_item(folder, run_id, name, data: bytes, link_to=None):
    """A model as a container's worker prepares it: its file in the spool's run files."""
    from runyard.artifacts import sha256_of
    from runyard.model import _hash, _metadata
    where = f"parallel_run/models/0/{name}/model.pkl"
    path = folder / "artifacts" / "runs" / run_id / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if link_to is not None:
        path.symlink_to(link_to)
    else:
        path.write_bytes(data)
    meta = _metadata(name, None, None, None, None, None, None, None, None, None)
    digest = sha256_of(link_to or path)
    spec = {**meta, "path": "model.pkl", "folder": False, "holder": run_id, "prefix": where, "files": [where],
            "sha256": {where: digest}, "experiment_name": "e"}
    return {"name": name, "spec": spec, "run_id": run_id, "content_hash": _hash({"files": {where: digest}})}


def test_a_container_s_model_registrations_are_answered_by_its_supervisor(experiment, workspace, tmp_path):
    """``register_models`` waits for the supervisor: it copies the files into the workspace and
    registers them, or answers why not (a model of another run, a file that is a link) and
    registers nothing of the request."""
    from runyard import Model
    from runyard.errors import NotFoundError, RunyardError
    from runyard.store.spool import ModelRegistrar, SpoolStore
    run = experiment.start_logging()
    stranger = experiment.start_logging()
    folder = _spool_for(workspace, run.id, tmp_path)
    secret = tmp_path / "secret"
    secret.write_bytes(b"not the job's")
    requests = [
        [_model_item(folder, run.id, "good-a", b"a"), _model_item(folder, stranger.id, "planted", b"p")],
        [_model_item(folder, run.id, "good-b", b"b"), _model_item(folder, run.id, "linked", b"", link_to=secret)],
        [_model_item(folder, run.id, "good-c", b"c")],
    ]
    answers: list = []

    def job():
        for items in requests:
            try:
                answers.append(SpoolStore(folder).register_models(items))
            except RunyardError as e:
                answers.append(str(e))

    thread = threading.Thread(target=job)
    thread.start()
    offset, registrar = 0, ModelRegistrar(workspace, folder)
    while thread.is_alive():
        offset = apply_events(workspace._store, folder, offset, run.id, registrar=registrar)
        time.sleep(0.01)
    thread.join()
    assert "a job registers models from its own runs' files only" in answers[0]
    assert "not a file the job uploaded through the spool" in answers[1]
    assert answers[2] == ["good-c:1"]
    for name in ("good-a", "planted", "good-b", "linked"):  # a refused request registers none of its models
        with pytest.raises(NotFoundError):
            Model(workspace, name)
    assert not (workspace._artifacts.run_dir(run.id) / "parallel_run/models/0/good-b/model.pkl").exists()
    with open(Model(workspace, "good-c").download(tmp_path / "dl"), "rb") as fh:
        assert fh.read() == b"c"
    assert not list((folder / "answers").iterdir())  # each answer was taken
