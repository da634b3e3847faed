"""A distributed job on the local target: every process on this machine."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from runyard import Environment, MpiConfiguration, PyTorchConfiguration, ScriptRunConfig, TensorflowConfiguration
from runyard import status as st
from runyard.compute.local_env import materialise

DDP = """\
import os
import torch
import torch.distributed as dist
from runyard import Run

dist.init_process_group("gloo")
rank = dist.get_rank()
value = torch.tensor([float(rank + 1)])
dist.all_reduce(value)
print(f"rank {rank} local_rank {os.environ['LOCAL_RANK']} sum {value.item()}", flush=True)
if rank == 0:
    Run.get_context().log("allreduce_sum", value.item())
dist.barrier()  # every process done before any tears the group down
dist.destroy_process_group()
"""


def test_pytorch_ddp_processes_on_this_machine(experiment, project, workspace):
    src = project({"ddp.py": DDP})
    run = experiment.submit(ScriptRunConfig(str(src), script="ddp.py",
                                            distributed_job_config=PyTorchConfiguration(process_count=3)))
    details = run.wait_for_completion(timeout=300, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert run.get_metrics() == {"allreduce_sum": 6.0}
    logs = workspace._artifacts.run_dir(run.id) / "logs"
    assert "rank 0 local_rank 0 sum 6.0" in (logs / "driver.log").read_text()
    assert "rank 2 local_rank 2 sum 6.0" in (logs / "rank_2.log").read_text()


MPI = """\
import os
from mpi4py import MPI
from runyard import Run

comm = MPI.COMM_WORLD
total = comm.allreduce(comm.Get_rank() + 1)
print(f"rank {comm.Get_rank()} of {comm.Get_size()} RANK={os.environ['RANK']} sum {total}", flush=True)
if comm.Get_rank() == 0:
    Run.get_context().log("allreduce_sum", total)
"""


@pytest.fixture(scope="module")
def mpi_environment(runyard_session_env) -> Environment:
    """mpi4py, built against this machine's Open MPI (its mpicc) before any test waits on a run."""
    environment = Environment("mpi4py")
    environment.python.conda_dependencies.add_pip_package("mpi4py")
    materialise(environment, io.StringIO())
    return environment


def test_mpi_job_runs_under_mpirun_and_its_ranks_communicate(experiment, project, workspace, mpi_environment):
    src = project({"mpi.py": MPI})
    run = experiment.submit(ScriptRunConfig(str(src), script="mpi.py", environment=mpi_environment,
                                            distributed_job_config=MpiConfiguration(process_count_per_node=3)))
    details = run.wait_for_completion(timeout=600, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert run.get_metrics() == {"allreduce_sum": 6}
    logs = workspace._artifacts.run_dir(run.id) / "logs"
    assert "rank 0 of 3 RANK=0 sum 6" in (logs / "driver.log").read_text()
    assert "rank 2 of 3 RANK=2 sum 6" in (logs / "rank_2.log").read_text()


#: rank 1 fails after MPI_Init: run plainly, it would wait at exit in mpi4py's MPI_Finalize
#: for rank 0, which sleeps on
FAILING_MPI_RANK = """\
import os, time
from mpi4py import MPI
print('pid', os.getpid(), flush=True)
if MPI.COMM_WORLD.Get_rank() == 1:
    raise SystemExit(3)
time.sleep(300)
"""


def test_a_failing_mpi_rank_fails_the_run_and_ends_the_others(experiment, project, process_gone, mpi_environment):
    src = project({"r.py": FAILING_MPI_RANK})
    run = experiment.submit(ScriptRunConfig(str(src), script="r.py", environment=mpi_environment,
                                            distributed_job_config=MpiConfiguration(process_count_per_node=2)))
    details = run.wait_for_completion(timeout=60, raise_on_error=False)
    assert details["status"] == st.FAILED, "rank 0 still runs: the failing rank did not end the job"
    assert "rank 1 of 2 exited with code 3; its output is in logs/rank_1.log" in details["error"]["message"], \
        details["error"]
    driver = (experiment.workspace._artifacts.run_dir(run.id) / "logs" / "driver.log").read_text()
    rank0_pid = int(driver.split("pid ", 1)[1].split()[0])
    assert process_gone(rank0_pid)
    assert "logs/.failed_rank" not in run.get_file_names()


def test_the_ranks_entry_point_reports_a_failing_mpi_rank(tmp_path, process_gone, mpi_environment):
    """What a Docker target's container runs for an MPI job (``python -m runyard.compute._ranks``),
    here on this machine's mpirun: the failing rank's code, naming the rank, the others ended."""
    prepared = materialise(mpi_environment, io.StringIO())
    (tmp_path / "r.py").write_text(FAILING_MPI_RANK)
    (tmp_path / "logs").mkdir()
    plan = json.dumps({"framework": "mpi", "process_count": 2})
    done = subprocess.run([prepared.python, "-m", "runyard.compute._ranks", plan, str(tmp_path / "logs"), "--",
                           prepared.python, "r.py"], cwd=tmp_path, env={**os.environ, **prepared.env_vars},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "runyard: rank 1 of 2 exited with code 3" in done.stdout, done.stdout
    assert process_gone(int(done.stdout.split("pid ", 1)[1].split()[0]))
    assert not (tmp_path / "logs" / ".failed_rank").exists()


def test_canceling_an_mpi_job_signals_every_rank(experiment, project, wait_for, process_gone, monkeypatch):
    """SIGTERM reaches each rank's own process (under mpirun and runyard's rank wrapper), and
    each has the cancel's grace, not Open MPI's one second, before SIGKILL."""
    monkeypatch.setenv("RUNYARD_CANCEL_GRACE_SECONDS", "10")  # the job's supervisor inherits it
    src = project({"t.py": """\
import os, signal, sys, time
def stop(*_):
    time.sleep(3)  # past Open MPI's own second before its SIGKILL
    open(os.path.join(os.environ["RUNYARD_OUTPUTS_DIR"], f"sigterm_{os.environ['RANK']}"), "w").close()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("pid", os.getpid(), flush=True)
time.sleep(60)
"""})
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py",
                                            distributed_job_config=MpiConfiguration(process_count_per_node=2)))
    logs = experiment.workspace._artifacts.run_dir(run.id) / "logs"

    def pids() -> list[int]:
        texts = [(logs / name).read_text() if (logs / name).is_file() else "" for name in ("driver.log", "rank_1.log")]
        return [int(text.split("pid ", 1)[1].split()[0]) for text in texts if "pid " in text]
    wait_for(lambda: len(pids()) == 2, timeout=60, what="both ranks to start")
    started = pids()
    run.cancel()
    details = run.wait_for_completion(timeout=60, raise_on_error=False)
    assert details["status"] == st.CANCELED
    names = run.get_file_names()
    assert {"outputs/sigterm_0", "outputs/sigterm_1"} <= set(names)
    assert not [name for name in names if ".rank_pid" in name]  # the ranks' records are not the run's files
    assert all(process_gone(pid) for pid in started)


def test_an_mpi_job_without_mpirun_fails_in_preparing(experiment, project, monkeypatch):
    import sys
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # the supervisor inherits it
    src = project({"t.py": "print(1)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py",
                                            distributed_job_config=MpiConfiguration(process_count_per_node=2)))
    details = run.wait_for_completion(timeout=120, raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "mpirun" in details["error"]["message"] and "openmpi-bin" in details["error"]["message"]
    statuses = [e["status"] for e in details["statusHistory"]]
    assert st.PREPARING in statuses and st.RUNNING not in statuses


def test_tf_config_for_workers_and_parameter_servers(experiment, project, workspace):
    src = project({"tf.py": "import os\nprint(os.environ['TF_CONFIG'])\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="tf.py", distributed_job_config=(
        TensorflowConfiguration(worker_count=2, parameter_server_count=1))))
    assert run.wait_for_completion(timeout=120)["status"] == st.COMPLETED
    logs = workspace._artifacts.run_dir(run.id) / "logs"
    chief = json.loads((logs / "driver.log").read_text().strip().splitlines()[-1])
    ps = json.loads((logs / "rank_2.log").read_text().strip().splitlines()[-1])
    assert len(chief["cluster"]["worker"]) == 2 and len(chief["cluster"]["ps"]) == 1
    assert chief["task"] == {"type": "worker", "index": 0} and ps["task"] == {"type": "ps", "index": 0}


def test_one_failing_rank_stops_the_others_and_fails_the_run(experiment, project, process_gone):
    # rank 1 fails once rank 0 has said its pid (the ranks share the job's folder)
    src = project({"r.py": "import os, time\n"
                           "if os.environ['RANK'] == '0':\n"
                           "    print('pid', os.getpid(), flush=True)\n"
                           "    open('rank0.started', 'w').close()\n"
                           "    time.sleep(300)\n"
                           "for _ in range(1200):\n"
                           "    if os.path.exists('rank0.started'):\n        break\n"
                           "    time.sleep(0.1)\n"
                           "raise SystemExit(3)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="r.py",
                                            distributed_job_config=PyTorchConfiguration(process_count=2)))
    details = run.wait_for_completion(timeout=120, raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "code 3" in details["error"]["message"]
    driver = (experiment.workspace._artifacts.run_dir(run.id) / "logs" / "driver.log").read_text()
    rank0_pid = int(driver.split("pid ", 1)[1].split()[0])
    assert process_gone(rank0_pid)


def test_pytorch_ddp_example_job_file(workspace, tmp_path):
    """examples/pytorch-ddp as a user runs it: `runyard job submit -f job.yml`."""
    import shutil
    import subprocess
    import sys
    example = Path(__file__).resolve().parents[2] / "examples" / "pytorch-ddp"
    shutil.copytree(example, tmp_path / "ddp")
    done = subprocess.run([sys.executable, "-m", "runyard.cli", "--workspace", str(workspace.path), "job", "submit",
                           "-f", str(tmp_path / "ddp" / "job.yml"), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    run = workspace.get_run(json.loads(done.stdout)["runId"])
    assert run.get_status() == st.COMPLETED
    metrics = run.get_metrics()
    assert metrics["world_size"] == 2 and len(metrics["loss"]) == 20
    assert metrics["loss"][-1] < metrics["loss"][0] / 10
    assert "outputs/model.pt" in run.get_file_names() and "logs/rank_1.log" in run.get_file_names()


@pytest.mark.parametrize("config", [MpiConfiguration(process_count_per_node=2), PyTorchConfiguration(process_count=2)],
                         ids=["mpi", "pytorch"])
def test_every_rank_of_a_lost_job_ends(workspace, experiment, project, wait_for, process_gone, config):
    """Its supervisor killed: the processes runyard started die with it (mpirun stops its
    ranks), and the run is Failed when the workspace is next opened."""
    import signal
    from runyard import Workspace
    src = project({"t.py": "import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(60)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", distributed_job_config=config))
    logs = workspace._artifacts.run_dir(run.id) / "logs"

    def pids() -> list[int]:
        texts = [(logs / name).read_text() if (logs / name).is_file() else "" for name in ("driver.log", "rank_1.log")]
        return [int(text.split("pid ", 1)[1].split()[0]) for text in texts if "pid " in text]
    wait_for(lambda: len(pids()) == 2, timeout=60, what="both ranks to start")
    os.kill(workspace._store.get_run(run.id)["supervisor_pid"], signal.SIGKILL)
    wait_for(lambda: all(process_gone(pid) for pid in pids()), timeout=30, what="every rank to end")
    Workspace.get(workspace.path)
    assert run.get_status() == st.FAILED
