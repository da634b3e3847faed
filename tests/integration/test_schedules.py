"""Schedules of a published pipeline on the local target: a recurrence fired on a fake clock
once per slot across a restart and two schedulers at once, missed slots, disable/enable,
a data-change trigger on a real folder, `runyard scheduler --once` and `runyard schedule`,
the scheduler inside `runyard server`, and bad input refused before anything is stored."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runyard import Pipeline, PipelineParameter, PythonScriptStep, Workspace
from runyard import status as st
from runyard.errors import ConfigError, NotFoundError
from runyard.pipeline import Schedule, ScheduleRecurrence
from runyard.pipeline.scheduler import Scheduler

ECHO = """\
import argparse, os
from runyard import Run
p = argparse.ArgumentParser(); p.add_argument("--tag"); p.add_argument("--path")
a = p.parse_args()
run = Run.get_context()
run.log("tag", a.tag)
run.log("path", a.path)
if os.path.isfile(a.path):
    run.log("content", open(a.path).read())
"""


@pytest.fixture
def published(workspace, project):
    """A published one-step pipeline with text parameters "tag" and "data_path"."""
    src = project({"echo.py": ECHO})
    step = PythonScriptStep("echo.py", name="echo", source_directory=src, allow_reuse=False, arguments=[
        "--tag", PipelineParameter("tag", default_value="none"),
        "--path", PipelineParameter("data_path", default_value="-")])
    return Pipeline(workspace, [step]).publish("echo")


def echoed(run) -> dict:
    run.wait_for_completion(timeout=180)
    assert run.get_status() == st.COMPLETED, run.get_details().get("error")
    (step,) = run.find_step_run("echo")
    return step.get_metrics()


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


def future_hour() -> datetime:
    """A whole hour well after now (so the schedule's creation time is before it)."""
    now = datetime.now(timezone.utc)
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(days=2)


def test_a_recurrence_fires_once_per_slot_across_restarts_and_concurrent_schedulers(workspace, published):
    start = future_hour()
    schedule = Schedule.create(workspace, "hourly", published.id, "scheduled",
                               recurrence=ScheduleRecurrence("Hour", 1, start_time=start.replace(tzinfo=None)),
                               pipeline_parameters={"tag": "hourly"}, description="every hour")
    assert (schedule.status, schedule.recurrence.frequency, schedule.description) == ("Active", "Hour", "every hour")
    clock = Clock(start - timedelta(minutes=1))
    first = Scheduler(workspace, clock=clock, log=lambda _: None)
    assert first.tick() == []  # before the first slot

    clock.at = start + timedelta(seconds=5)
    (fired,) = first.tick()
    assert (fired["slot"], fired["error"]) == (start.isoformat(), None) and fired["run_id"]
    clock.at = start + timedelta(minutes=20)
    assert first.tick() == []  # the same slot, again: already fired
    restarted = Scheduler(workspace, clock=clock, log=lambda _: None)  # a new process: nothing in memory
    assert restarted.tick() == []

    # the next slot, seen by two schedulers at the same moment: one fires it
    clock.at = start + timedelta(hours=1, seconds=1)
    results: list[list] = []
    barrier = threading.Barrier(2)

    def tick(scheduler):
        barrier.wait()
        results.append(scheduler.tick())

    threads = [threading.Thread(target=tick, args=(s,)) for s in (first, restarted)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 1]
    second = next(r[0] for r in results if r)
    assert second["slot"] == (start + timedelta(hours=1)).isoformat()

    # every firing is recorded with its run; the runs carry the schedule's parameters and tags
    firings = Schedule.get(workspace, schedule.id).get_firings()
    assert [(f["slot"], f["run_id"], f["error"]) for f in firings] == [
        (fired["slot"], fired["run_id"], None), (second["slot"], second["run_id"], None)]
    runs = schedule.get_pipeline_runs()
    assert [r.id for r in runs] == [second["run_id"], fired["run_id"]]
    assert schedule.get_last_pipeline_run().id == second["run_id"]
    assert runs[0].get_tags()["runyard.schedule_id"] == schedule.id
    assert runs[0].get_properties()["azureml.pipelineid"] == published.id
    assert echoed(runs[0])["tag"] == "hourly" and echoed(runs[1])["tag"] == "hourly"

    # no scheduler ran for three slots: only the newest fires, late, once
    clock.at = start + timedelta(hours=4, minutes=10)
    (late,) = Scheduler(workspace, clock=clock, log=lambda _: None).tick()
    assert late["slot"] == (start + timedelta(hours=4)).isoformat()
    assert len(schedule.get_firings()) == 3


def test_disable_stops_firing_and_enable_resumes(workspace, published):
    start = future_hour()
    schedule = Schedule.create(workspace, "daily", published.id, "scheduled", recurrence=ScheduleRecurrence(
        "Day", 1, start_time=start.replace(tzinfo=None) - timedelta(hours=1), hours=[start.hour]))
    clock = Clock(start + timedelta(seconds=1))
    scheduler = Scheduler(workspace, clock=clock, log=lambda _: None)
    schedule.disable()
    assert Schedule.get(workspace, schedule.id).status == "Disabled"
    assert scheduler.tick() == []
    assert Schedule.list(workspace) == []
    assert [s.id for s in Schedule.list(workspace, active_only=False)] == [schedule.id]
    assert schedule.get_firings() == [] and schedule.get_last_pipeline_run() is None

    schedule.enable()
    assert [s.id for s in Schedule.list(workspace, pipeline_id=published.id)] == [schedule.id]
    assert schedule.next_slot(after=start.timestamp() - 60) == start
    (fired,) = scheduler.tick()
    assert fired["slot"] == start.isoformat() and fired["run_id"]
    assert echoed(workspace.get_run(fired["run_id"]))["tag"] == "none"  # the defaults


def test_a_start_time_in_the_past_fires_first_at_the_next_slot(workspace, published):
    created = math.floor(time.time())
    schedule = Schedule.create(workspace, "past", published.id, "scheduled", recurrence=ScheduleRecurrence(
        "Hour", 1, start_time=datetime.fromtimestamp(created - 1800, timezone.utc)))
    scheduler = Scheduler(workspace, clock=lambda: created + 60, log=lambda _: None)
    assert scheduler.tick() == []  # its slot half an hour before the creation is not fired
    assert schedule.next_slot(after=created + 60).timestamp() == created + 1800


def test_a_firing_that_cannot_submit_records_why_and_the_schedule_goes_on(workspace, published):
    start = future_hour()
    schedule = Schedule.create(workspace, "hourly", published.id, "scheduled",
                               recurrence=ScheduleRecurrence("Hour", 1, start_time=start))
    published.disable()
    clock = Clock(start)
    (fired,) = Scheduler(workspace, clock=clock, log=lambda _: None).tick()
    assert fired["run_id"] is None and "disabled" in fired["error"]
    assert schedule.get_firings()[0]["error"] == fired["error"]
    assert Schedule.get(workspace, schedule.id).status == "Active"
    published.enable()
    clock.at = start + timedelta(hours=1)
    (fired,) = Scheduler(workspace, clock=clock, log=lambda _: None).tick()
    assert fired["run_id"] and fired["error"] is None


def test_a_schedule_of_a_pipeline_endpoint_runs_its_default_version_then(workspace, published):
    from runyard.pipeline import PipelineEndpoint
    endpoint = PipelineEndpoint.publish(workspace, "echo-endpoint", "echo", published)
    start = future_hour()
    schedule = Schedule.create_for_pipeline_endpoint(workspace, "endpoint", endpoint.id, "scheduled",
                                                     recurrence=ScheduleRecurrence("Hour", 1, start_time=start))
    assert schedule.pipeline_endpoint_id == endpoint.id and schedule.pipeline_id is None
    assert [s.id for s in Schedule.list(workspace, pipeline_endpoint_id=endpoint.id)] == [schedule.id]
    (fired,) = Scheduler(workspace, clock=Clock(start), log=lambda _: None).tick()
    run = workspace.get_run(fired["run_id"])
    assert run.get_properties()["azureml.pipelineid"] == endpoint.get_pipeline().id
    echoed(run)


def test_update_changes_what_the_next_firing_does(workspace, published):
    start = future_hour()
    schedule = Schedule.create(workspace, "hourly", published.id, "scheduled",
                               recurrence=ScheduleRecurrence("Hour", 1, start_time=start))
    schedule.update(description="now daily", recurrence=ScheduleRecurrence("Day", 1, start_time=start),
                    pipeline_parameters={"tag": "updated"})
    again = Schedule.get(workspace, schedule.id)
    assert (again.description, again.recurrence.frequency, again.pipeline_parameters) == (
        "now daily", "Day", {"tag": "updated"})
    assert again.next_slot(after=start.timestamp()) == start + timedelta(days=1)
    with pytest.raises(ConfigError, match="'tagg' is not a parameter"):
        schedule.update(pipeline_parameters={"tagg": "x"})
    with pytest.raises(ConfigError, match="takes no polling_interval"):
        schedule.update(polling_interval=1)
    with pytest.raises(ConfigError, match="status must be 'Active' or 'Disabled'"):
        schedule.update(status="Paused")
    schedule.update(status="Disabled")
    assert Schedule.get(workspace, schedule.id).status == "Disabled"


def test_a_data_change_fires_with_the_changed_path(workspace, published, tmp_path):
    folder = tmp_path / "landing"
    (folder / "incoming").mkdir(parents=True)
    (folder / "incoming" / "old.csv").write_text("there before\n")  # the baseline: fires nothing
    (folder / "elsewhere.csv").write_text("not watched\n")
    schedule = Schedule.create(workspace, "on-data", published.id, "data", datastore=str(folder),
                               path_on_datastore="incoming", polling_interval=0.02,  # 1.2 s
                               data_path_parameter_name="data_path", pipeline_parameters={"tag": "data"})
    assert schedule.recurrence is None and schedule.watched_folder == folder / "incoming"
    clock = Clock(datetime.now(timezone.utc))
    scheduler = Scheduler(workspace, clock=clock, log=lambda _: None)
    assert scheduler.tick() == []

    new = folder / "incoming" / "new.csv"
    new.write_text("1,2,3\n")
    (folder / "elsewhere.csv").write_text("changed, still not watched\n")
    clock.at += timedelta(seconds=0.5)
    assert scheduler.tick() == []  # within the polling interval: not looked at yet
    clock.at += timedelta(seconds=1)
    (fired,) = scheduler.tick()
    assert fired["slot"].endswith(":new.csv") and fired["run_id"]
    metrics = echoed(workspace.get_run(fired["run_id"]))
    assert (metrics["path"], metrics["content"], metrics["tag"]) == (str(new), "1,2,3\n", "data")

    # a restarted scheduler polls at once, and finds nothing new
    clock.at += timedelta(seconds=0.1)
    assert Scheduler(workspace, clock=clock, log=lambda _: None).tick() == []

    # a modified file and a file in a subfolder: a run each
    new.write_text("4,5,6,7\n")
    (folder / "incoming" / "more").mkdir()
    (folder / "incoming" / "more" / "b.csv").write_text("b\n")
    clock.at += timedelta(seconds=2)
    fired = scheduler.tick()
    paths = sorted(echoed(workspace.get_run(f["run_id"]))["path"] for f in fired)
    assert paths == sorted([str(new), str(folder / "incoming" / "more" / "b.csv")])
    assert len(schedule.get_firings()) == 3 and len(schedule.get_pipeline_runs()) == 3

    # a disabled schedule ignores changes, and enabling it does not fire them later
    schedule.disable()
    (folder / "incoming" / "while-off.csv").write_text("x\n")
    clock.at += timedelta(seconds=2)
    assert scheduler.tick() == []
    schedule.enable()
    clock.at += timedelta(seconds=2)
    assert scheduler.tick() == []


def test_without_a_path_parameter_one_run_per_poll_with_changes(workspace, published, tmp_path):
    from runyard.data import Datastore
    folder = tmp_path / "drop"
    folder.mkdir()
    datastore = Datastore.register_local(workspace, "drop", folder)
    schedule = Schedule.create(workspace, "batch", published.id, "data", datastore=datastore, polling_interval=0.01)
    assert (schedule.datastore_name, schedule.watched_folder) == ("drop", folder)
    for name in ("a.csv", "b.csv", ".partial.tmp"):
        (folder / name).write_text(name)
    (fired,) = Scheduler(workspace, log=lambda _: None).tick()
    assert echoed(workspace.get_run(fired["run_id"]))["path"] == "-"
    firings = schedule.get_firings()  # hidden files are not data
    assert sorted(f["slot"].rsplit(":", 1)[1] for f in firings) == ["a.csv", "b.csv"]
    assert {f["run_id"] for f in firings} == {fired["run_id"]}


def test_scheduler_once_and_schedule_commands(workspace, published):
    schedule = Schedule.create(workspace, "at-once", published.id, "cli",
                               recurrence=ScheduleRecurrence("Day", 1))  # no start_time: fires at once

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runyard.cli", *args], capture_output=True, text=True,
                              timeout=120)

    once = cli("scheduler", "--workspace", str(workspace.path), "--once", "--json")
    assert once.returncode == 0, once.stderr
    (fired,) = json.loads(once.stdout)
    assert fired["schedule_id"] == schedule.id and fired["run_id"]
    again = cli("-w", str(workspace.path), "scheduler", "--once")
    assert again.returncode == 0 and "nothing due" in again.stdout
    echoed(workspace.get_run(fired["run_id"]))

    listed = json.loads(cli("-w", str(workspace.path), "schedule", "list", "--json").stdout)
    assert [(s["id"], s["status"], s["trigger"]) for s in listed] == [(schedule.id, "Active", "every 1 day")]
    assert listed[0]["next_slot"] is not None
    shown = json.loads(cli("-w", str(workspace.path), "schedule", "show", schedule.id, "--json").stdout)
    assert [f["run_id"] for f in shown["firings"]] == [fired["run_id"]]
    disabled = cli("-w", str(workspace.path), "schedule", "disable", schedule.id)
    assert disabled.returncode == 0 and "Disabled" in disabled.stdout
    assert json.loads(cli("-w", str(workspace.path), "schedule", "list", "--json").stdout) == []
    assert len(json.loads(cli("-w", str(workspace.path), "schedule", "list", "--all", "--json").stdout)) == 1
    enabled = cli("-w", str(workspace.path), "schedule", "enable", schedule.id)
    assert enabled.returncode == 0 and "Active" in enabled.stdout
    missing = cli("-w", str(workspace.path), "schedule", "show", "0" * 32)
    assert missing.returncode == 3 and "no schedule with id" in missing.stderr


def test_the_scheduler_stops_cleanly_on_sigterm(workspace, published):
    proc = subprocess.Popen([sys.executable, "-m", "runyard.cli", "-w", str(workspace.path), "scheduler",
                             "--poll", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first_line = proc.stdout.readline()  # printed once its signal handlers are in place
        assert "started" in first_line
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "scheduler stopped" in output


def test_the_server_fires_schedules_of_its_workspace(tmp_path, project):
    from server_service import free_port, server_env, stop_server
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "runyard.cli", "server", "--store",
                                 f"sqlite:///{tmp_path / 'served.db'}", "--artifacts", str(tmp_path / "artifacts"),
                                 "--port", str(port), "--scheduler-poll", "0.3"],
                                stdout=out, stderr=subprocess.STDOUT, env=server_env())
    try:
        ws = _wait_for_server(f"http://127.0.0.1:{port}", proc, log)
        src = project({"echo.py": ECHO})
        step = PythonScriptStep("echo.py", name="echo", source_directory=src, arguments=[
            "--tag", PipelineParameter("tag", default_value="none"), "--path", "-"])
        published = Pipeline(ws, [step]).publish("served-echo")
        schedule = Schedule.create(ws, "served", published.id, "served", recurrence=ScheduleRecurrence("Week", 1),
                                   pipeline_parameters={"tag": "served"})
        deadline = time.monotonic() + 60
        while not (firings := schedule.get_firings()) or not firings[0]["run_id"] and not firings[0]["error"]:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert firings[0]["error"] is None, firings[0]["error"]
        assert echoed(ws.get_run(firings[0]["run_id"]))["tag"] == "served"
    finally:
        stop_server(proc)
    assert "scheduler stopped" in log.read_text()


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path) -> Workspace:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            return Workspace.get(url)
        except NotFoundError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)


def test_bad_schedules_are_refused_before_anything_is_stored(workspace, published, tmp_path):
    hourly = ScheduleRecurrence("Hour", 1)
    cases = [
        (dict(recurrence=hourly, datastore=str(tmp_path)), "give recurrence= .* or datastore="),
        (dict(), "give recurrence="),
        (dict(recurrence="every hour"), "recurrence must be a ScheduleRecurrence"),
        (dict(recurrence=hourly, pipeline_parameters={"alpha": 1}), "'alpha' is not a parameter"),
        (dict(recurrence=hourly, pipeline_parameters={"tag": 3}), "expected a str"),
        (dict(recurrence=hourly, path_on_datastore="x"), "path_on_datastore only goes with datastore="),
        (dict(datastore=str(tmp_path / "missing")), "does not exist"),
        (dict(datastore=str(tmp_path), polling_interval=0), "polling_interval is minutes"),
        (dict(datastore=str(tmp_path), path_on_datastore="../up"), "without '..'"),
        (dict(datastore=str(tmp_path), path_on_datastore="nope"), "is not a folder"),
        (dict(datastore=str(tmp_path), data_path_parameter_name="tagg"), "must be a text PipelineParameter"),
        (dict(recurrence=hourly, continue_on_step_failure="yes"), "continue_on_step_failure"),
    ]
    for arguments, message in cases:
        with pytest.raises(ConfigError, match=message):
            Schedule.create(workspace, "bad", published.id, "scheduled", **arguments)
    with pytest.raises(ConfigError, match="experiment name"):
        Schedule.create(workspace, "bad", published.id, "no spaces allowed", recurrence=hourly)
    with pytest.raises(NotFoundError, match="no published pipeline"):
        Schedule.create(workspace, "bad", "0" * 32, "scheduled", recurrence=hourly)
    with pytest.raises(ConfigError, match="never fire"):
        Schedule.create(workspace, "bad", published.id, "scheduled",
                        recurrence=ScheduleRecurrence("Week", 1, week_days=[]))
    assert workspace._store.list_assets("schedule") == []
    assert workspace._store.list_assets("schedule_manifest") == []
    with pytest.raises(NotFoundError, match="no schedule with id"):
        Schedule.get(workspace, published.id)  # an asset, but not a schedule
