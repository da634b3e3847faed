"""The Ray target on a real loopback cluster (a head and a worker node), with the
workspace served by ``runyard server`` on PostgreSQL: jobs log to the run over HTTP
from whichever node runs them."""

from __future__ import annotations

import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from runyard import (ComputeError, ConfigError, Environment, Experiment, PyTorchConfiguration, RayCluster,
                     RunConfiguration, ScriptRunConfig, Workspace)
from runyard import status as st
from runyard.environment import CondaDependencies

pytestmark = [pytest.mark.ray, pytest.mark.postgres]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sklearn-diabetes"


@pytest.fixture
def exp(ray_workspace) -> Experiment:
    return Experiment(ray_workspace, f"ray_{uuid.uuid4().hex[:8]}")


def _jobs(ray_cluster) -> list[dict]:
    return requests.get(f"{ray_cluster.address}/api/jobs/", timeout=10).json()


def _assert_nothing_left(ray_cluster, run_id: str) -> None:
    """No Ray job of the run still runs, and no actor of it is alive."""
    for job in _jobs(ray_cluster):
        if (job.get("metadata") or {}).get("runyard_run_id") == run_id:
            assert job["status"] in ("SUCCEEDED", "FAILED", "STOPPED"), job


def test_sklearn_example_runs_on_the_cluster(exp, ray_cluster, tmp_path):
    source = tmp_path / "sklearn-diabetes"
    shutil.copytree(EXAMPLE, source)
    env = Environment.from_pip_requirements("sklearn-diabetes", str(source / "requirements.txt"))
    run = exp.submit(ScriptRunConfig(str(source), script="train.py", compute_target="ray", environment=env,
                                     arguments=["--alpha-start", 0.0, "--alpha-stop", 0.3, "--alpha-step", 0.1]))
    details = run.wait_for_completion(timeout=600, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    metrics = run.get_metrics()
    assert metrics["data_rows"] == 442
    assert len(metrics["mse"]) == 3 and all(v > 0 for v in metrics["mse"])
    names = run.get_file_names()
    assert sum(n.startswith("outputs/") and n.endswith(".pkl") for n in names) == 3, names
    assert "logs/driver.log" in names
    driver_log = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
    assert "Running entrypoint for job runyard-" in driver_log
    _assert_nothing_left(ray_cluster, run.id)


def test_same_source_twice_uploads_once_and_both_complete(exp, tmp_path):
    (tmp_path / "t.py").write_text("import os\nos.makedirs('outputs', exist_ok=True)\n"
                                   "open('outputs/who.txt', 'w').write(os.environ['RUNYARD_RUN_ID'])\n")
    runs = [exp.submit(ScriptRunConfig(str(tmp_path), script="t.py", compute_target="ray")) for _ in range(2)]
    for run in runs:
        assert run.wait_for_completion(timeout=300)["status"] == st.COMPLETED
        # Runs of one snapshot share Ray's unpacked folder; each wrote in a copy of its own.
        target = Path(run.download_file("outputs/who.txt", str(tmp_path / f"{run.id}.txt")))
        assert target.read_text() == run.id


def test_r_script_runs_with_rscript_on_a_node(exp, tmp_path):
    if shutil.which("Rscript") is None:
        pytest.fail("Rscript is not installed (make test installs R)")
    (tmp_path / "train.R").write_text('cat("R says", 6 * 7, "\\n")\n'
                                      'dir.create("outputs", showWarnings = FALSE)\n'
                                      'writeLines(R.version.string, "outputs/r-version.txt")\n')
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="train.R", compute_target="ray"))
    assert run.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    log = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
    assert "R says 42" in log
    assert "outputs/r-version.txt" in run.get_file_names()


DDP = """\
import os, socket
import torch
import torch.distributed as dist
from runyard import Run

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
value = torch.tensor([float(rank + 1)])
dist.all_reduce(value)
print(f"rank {rank}/{world} node_rank {os.environ['NODE_RANK']} local_rank {os.environ['LOCAL_RANK']} "
      f"pid {os.getpid()} sum {value.item()}", flush=True)
if rank == 0:
    run = Run.get_context()
    run.log("world_size", world)
    run.log("allreduce_sum", value.item())
dist.barrier()  # every process done before any tears the group down
dist.destroy_process_group()
"""


def test_pytorch_ddp_two_processes_on_two_nodes(exp, ray_cluster, tmp_path):
    (tmp_path / "ddp.py").write_text(DDP)
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="ddp.py", compute_target="ray",
                                     distributed_job_config=PyTorchConfiguration(process_count=2, node_count=2)))
    details = run.wait_for_completion(timeout=600, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert run.get_metrics() == {"world_size": 2, "allreduce_sum": 3.0}
    names = run.get_file_names()
    assert {"logs/driver.log", "logs/rank_0.log", "logs/rank_1.log"} <= set(names), names
    driver = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
    rank1 = Path(run.download_file("logs/rank_1.log", str(tmp_path / "rank_1.log"))).read_text()
    assert "rank 0/2 node_rank 0 local_rank 0" in driver and "sum 3.0" in driver
    assert "rank 1/2 node_rank 1 local_rank 0" in rank1 and "rank 1/2" not in driver
    _assert_nothing_left(ray_cluster, run.id)
    actors = requests.get(f"{ray_cluster.address}/api/v0/actors?limit=1000", timeout=10).json()
    alive = [a for a in actors["data"]["result"]["result"]
             if a.get("state") == "ALIVE" and "RankProcess" in (a.get("class_name") or "")]
    assert not alive, alive


def test_cancel_stops_the_ray_job(exp, ray_cluster, tmp_path, wait_for):
    (tmp_path / "sleep.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(300)\n")
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="sleep.py", compute_target="ray"))
    wait_for(lambda: run.get_status() == st.RUNNING, timeout=120)
    run.cancel()
    assert run.wait_for_completion(timeout=120, raise_on_error=False)["status"] == st.CANCELED
    wait_for(lambda: all(j["status"] in ("STOPPED", "FAILED", "SUCCEEDED") for j in _jobs(ray_cluster)
                         if (j.get("metadata") or {}).get("runyard_run_id") == run.id), timeout=60)


def test_runtime_env_that_fails_to_install_fails_in_preparing(exp, tmp_path):
    (tmp_path / "t.py").write_text("print('never')\n")
    env = Environment("broken")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["runyard-no-such-package==9.9.9"])
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="t.py", compute_target="ray", environment=env))
    details = run.wait_for_completion(timeout=300, raise_on_error=False)
    assert details["status"] == st.FAILED
    message = details["error"]["message"]
    assert "runtime environment" in message and "runyard-no-such-package" in message, message
    statuses = [e["status"] for e in run.workspace._store.status_events(run.id)]
    assert st.PREPARING in statuses and st.RUNNING not in statuses, statuses
    build_log = Path(run.download_file("logs/environment_build.log", str(tmp_path / "build.log"))).read_text()
    assert "runyard-no-such-package" in build_log


def test_fields_a_ray_node_cannot_honour_are_refused(exp, tmp_path):
    (tmp_path / "t.py").write_text("print('script ran')\n")
    other = "3.13" if sys.version_info[:2] != (3, 13) else "3.12"  # one runyard runs on, not the node's
    env = Environment("other-python", python={"conda_dependencies": {"python_version": other}})
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="t.py", compute_target="ray", environment=env))
    details = run.wait_for_completion(timeout=300, raise_on_error=False)
    assert details["status"] == st.FAILED and details["exitCode"] == 2
    log = run.get_log()
    assert f"the environment asks for Python {other} and this Ray node runs Python" in log and "script ran" not in log
    before = len(exp.workspace._store.list_runs())
    with pytest.raises(ConfigError, match="r.r_version: a Ray job runs its node's R"):
        exp.submit(ScriptRunConfig(str(tmp_path), script="t.py", compute_target="ray",
                                   environment=Environment("r-version", r={"r_version": "4.2"})))
    assert len(exp.workspace._store.list_runs()) == before


def test_eight_concurrent_runs_lose_no_metric(exp, tmp_path):
    (tmp_path / "log.py").write_text(
        "from runyard import Run\nrun = Run.get_context()\n"
        "for i in range(5000):\n    run.log('step', i)\n")
    runs = [exp.submit(ScriptRunConfig(str(tmp_path), script="log.py", compute_target="ray")) for _ in range(8)]
    for run in runs:
        assert run.wait_for_completion(timeout=600)["status"] == st.COMPLETED
        assert run.get_metrics()["step"] == list(range(5000))


def test_unreachable_cluster_is_one_clear_error_and_writes_nothing(tmp_path, workspace_server):
    from conftest import SERVER_TOKEN
    ws = Workspace.get(workspace_server, token=SERVER_TOKEN)
    ws.compute_targets.attach("nowhere", RayCluster(address="http://127.0.0.1:9"))
    exp = Experiment(ws, f"ray_{uuid.uuid4().hex[:8]}")
    (tmp_path / "t.py").write_text("print(1)\n")
    with pytest.raises(ComputeError, match=r"no Ray cluster answers at http://127\.0\.0\.1:9"):
        exp.submit(ScriptRunConfig(str(tmp_path), script="t.py", compute_target="nowhere"))
    assert not list(exp.get_runs())


def test_bad_settings_name_the_field():
    with pytest.raises(ConfigError, match="RayCluster.*address"):
        RayCluster(address="127.0.0.1:8265")
    with pytest.raises(ConfigError, match="RayCluster.*no_such_setting"):
        RayCluster(no_such_setting=1)


# -- a node lost mid-run ----------------------------------------------------------------------
SLEEPER = "import time\nprint('on the doomed node', flush=True)\ntime.sleep(600)\n"
FINISHER = ("import os, time\nfrom runyard import Run\nrun = Run.get_context()\n"
            "print('attempt on a node with spot', flush=True)\n"
            "if not os.path.exists('/tmp/runyard-test-' + os.environ['RUNYARD_RUN_ID']):\n"
            "    open('/tmp/runyard-test-' + os.environ['RUNYARD_RUN_ID'], 'w').close()\n"
            "    time.sleep(600)\n"
            "run.log('finished', 1)\n")


def _kill_node_under(run, node, ray_cluster, wait_for) -> None:
    wait_for(lambda: run.get_status() == st.RUNNING, timeout=180)
    alive = len(ray_cluster.alive_nodes())
    time.sleep(2)
    node.kill()
    ray_cluster.wait_until_dead(alive - 1)


def test_a_job_lost_with_its_node_fails_with_that_reason(exp, ray_cluster, tmp_path, wait_for):
    doomed = ray_cluster.add_worker(num_cpus=1, resources={"doomed": 1})
    (tmp_path / "sleep.py").write_text(SLEEPER)
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="sleep.py", compute_target="ray",
                                     run_config=RunConfiguration(resources={"doomed": 0.5})))
    _kill_node_under(run, doomed, ray_cluster, wait_for)
    details = run.wait_for_completion(timeout=180, raise_on_error=False)
    assert details["status"] == st.FAILED, details
    assert "lost" in details["error"]["message"], details["error"]


def test_a_lost_job_is_retried_when_the_run_config_says_so(exp, ray_cluster, tmp_path, wait_for):
    spot = ray_cluster.add_worker(num_cpus=1, resources={"spot": 1})
    (tmp_path / "finish.py").write_text(FINISHER)
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="finish.py", compute_target="ray",
                                     run_config=RunConfiguration(resources={"spot": 0.5}, max_retries=1)))
    _kill_node_under(run, spot, ray_cluster, wait_for)
    replacement = ray_cluster.add_worker(num_cpus=1, resources={"spot": 1})  # as an autoscaler would
    try:
        details = run.wait_for_completion(timeout=300, raise_on_error=False)
        assert details["status"] == st.COMPLETED, details["error"]
        assert run.get_metrics() == {"finished": 1}
        log = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
        assert "starting it again (retry 1 of 1)" in log
    finally:
        replacement.stop()
        Path(f"/tmp/runyard-test-{run.id}").unlink(missing_ok=True)


def test_a_run_whose_supervisor_died_fails_and_its_ray_job_is_stopped(exp, ray_cluster, tmp_path, wait_for):
    import os
    import signal
    (tmp_path / "sleep.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="sleep.py", compute_target="ray"))
    wait_for(lambda: run.get_status() == st.RUNNING, timeout=120)
    supervisor = run.workspace._store.get_run(run.id)["supervisor_pid"]
    os.kill(supervisor, signal.SIGKILL)  # as when the submitting machine's runyard is killed
    details = run.wait_for_completion(timeout=120, raise_on_error=False)
    assert details["status"] == st.FAILED and "supervisor" in details["error"]["message"]
    wait_for(lambda: all(j["status"] in ("STOPPED", "FAILED", "SUCCEEDED") for j in _jobs(ray_cluster)
                         if (j.get("metadata") or {}).get("runyard_run_id") == run.id), timeout=60)


def test_a_ray_run_resumes_from_the_previous_runs_outputs(exp, tmp_path):
    from test_resume import TRAIN
    (tmp_path / "train.py").write_text(TRAIN)
    first = exp.submit(ScriptRunConfig(str(tmp_path), script="train.py", compute_target="ray"))
    assert first.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    second = exp.submit(ScriptRunConfig(str(tmp_path), script="train.py", compute_target="ray", resume_from=first))
    details = second.wait_for_completion(timeout=300, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert second.get_metrics() == {"resumed_at": 5, "epoch": 10}
