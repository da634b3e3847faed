"""Distributed configurations: Azure's names and arguments, the variables each process gets, and
how each rank of an MPI job runs under mpirun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from runyard import ConfigError, MpiConfiguration, PyTorchConfiguration, ScriptRunConfig, TensorflowConfiguration
from runyard.compute._ranks import abort_on_error, failed_rank_message, mpirun_argv, signal_group, take_failed_rank
from runyard.distributed import node_of, process_env


def test_azure_positional_order_and_defaults():
    config = PyTorchConfiguration("Nccl", 4, 2)
    assert (config.communication_backend, config.process_count, config.node_count) == ("Nccl", 4, 2)
    assert PyTorchConfiguration().total_processes == 1
    assert PyTorchConfiguration(node_count=3).total_processes == 3
    assert MpiConfiguration(process_count_per_node=2, node_count=3).total_processes == 6
    assert TensorflowConfiguration(worker_count=2, parameter_server_count=1).total_processes == 3


@pytest.mark.parametrize("make, field", [
    (lambda: PyTorchConfiguration(process_count=0), "process_count"),
    (lambda: PyTorchConfiguration(process_count=1, node_count=2), "node_count"),
    (lambda: MpiConfiguration(node_count=0), "node_count"),
    (lambda: TensorflowConfiguration(worker_count=0), "worker_count"),
    (lambda: PyTorchConfiguration(processes=2), "processes"),
])
def test_bad_values_name_the_field(make, field):
    with pytest.raises(ConfigError, match=field):
        make()


def test_script_run_config_takes_a_config_or_a_mapping(tmp_path):
    config = ScriptRunConfig(str(tmp_path), command="true",
                             distributed_job_config={"framework": "pytorch", "process_count": 2})
    assert isinstance(config.distributed_job_config, PyTorchConfiguration)
    with pytest.raises(ConfigError, match="distributed_job_config"):
        ScriptRunConfig(str(tmp_path), command="true", distributed_job_config="two")
    with pytest.raises(ConfigError, match="framework"):
        ScriptRunConfig(str(tmp_path), command="true", distributed_job_config={"framework": "horovod"})


def test_ranks_fill_nodes_in_order():
    assert node_of(PyTorchConfiguration(process_count=5, node_count=2).to_job()) == [0, 0, 0, 1, 1]
    assert node_of(MpiConfiguration(process_count_per_node=2, node_count=2).to_job()) == [0, 0, 1, 1]


def test_pytorch_variables_of_each_rank():
    job = PyTorchConfiguration(process_count=4, node_count=2).to_job()
    hosts, ports = ["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2"], [29500, 29501, 29502, 29503]
    third = process_env(job, 2, hosts, ports)
    assert third["MASTER_ADDR"] == "10.0.0.1" and third["MASTER_PORT"] == "29500"
    assert (third["RANK"], third["WORLD_SIZE"], third["LOCAL_RANK"], third["NODE_RANK"]) == ("2", "4", "0", "1")
    assert third["LOCAL_WORLD_SIZE"] == "2"
    assert process_env(job, 1, hosts, ports)["LOCAL_RANK"] == "1"


def test_mpi_variables():
    env = process_env(MpiConfiguration(process_count_per_node=2).to_job(), 1, ["h"] * 2, [1, 2])
    assert (env["OMPI_COMM_WORLD_RANK"], env["OMPI_COMM_WORLD_SIZE"], env["OMPI_COMM_WORLD_LOCAL_RANK"]) == \
        ("1", "2", "1")


def test_tf_config_names_the_cluster_and_the_task():
    job = TensorflowConfiguration(worker_count=2, parameter_server_count=1).to_job()
    hosts, ports = ["a", "b", "c"], [1, 2, 3]
    worker = json.loads(process_env(job, 1, hosts, ports)["TF_CONFIG"])
    ps = json.loads(process_env(job, 2, hosts, ports)["TF_CONFIG"])
    assert worker == {"cluster": {"worker": ["a:1", "b:2"], "ps": ["c:3"]}, "task": {"type": "worker", "index": 1}}
    assert ps["task"] == {"type": "ps", "index": 0}


# -- MPI ranks under mpirun: how a Python command runs, and the wrapper each rank runs in ------

def test_a_python_command_runs_under_mpi4py_when_its_python_has_it(tmp_path):
    (tmp_path / "site" / "mpi4py").mkdir(parents=True)
    (tmp_path / "site" / "mpi4py" / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    python = sys.executable
    assert abort_on_error([python, "t.py", "a"], env, tmp_path) == [python, "-m", "mpi4py", "t.py", "a"]
    assert abort_on_error([python, "-m", "pkg"], env, tmp_path) == [python, "-m", "mpi4py", "-m", "pkg"]
    for argv in ([python, "-u", "t.py"], ["Rscript", "t.R"], ["/bin/sh", "-c", "python t.py"],
                 [str(tmp_path / "no" / "python"), "t.py"]):
        assert abort_on_error(argv, env, tmp_path) == argv


def _rank_wrapper(tmp_path, rank: int, command: str) -> tuple[list[str], dict[str, str]]:
    """The command line and variables of the shell mpirun would start as rank ``rank``."""
    argv = mpirun_argv("mpirun", 2, ["/bin/sh", "-c", command], 10)
    env = {**os.environ, "OMPI_COMM_WORLD_RANK": str(rank), "OMPI_COMM_WORLD_SIZE": "2",
           "OMPI_COMM_WORLD_LOCAL_RANK": str(rank), "OMPI_COMM_WORLD_LOCAL_SIZE": "2",
           "RUNYARD_LOGS_DIR": str(tmp_path)}
    return argv[argv.index("/bin/sh"):], env


def _run_rank(tmp_path, rank: int, command: str) -> subprocess.CompletedProcess:
    argv, env = _rank_wrapper(tmp_path, rank, command)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10)


def test_a_failing_mpi_rank_records_itself_and_the_first_one_counts(tmp_path):
    assert _run_rank(tmp_path, 1, "echo to its log; exit 3").returncode == 3
    rank0 = _run_rank(tmp_path, 0, "echo to mpirun; exit 4")
    assert (rank0.returncode, rank0.stdout) == (4, "to mpirun\n")
    assert take_failed_rank(tmp_path) == (1, 3)
    assert take_failed_rank(tmp_path) is None  # taken
    assert (tmp_path / "rank_1.log").read_text() == "to its log\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rank_1.log"]
    assert _run_rank(tmp_path, 1, "exit 0").returncode == 0
    assert take_failed_rank(tmp_path) is None
    assert failed_rank_message(1, 2, 3) == "rank 1 of 2 exited with code 3; its output is in logs/rank_1.log"
    assert "(killed by SIGKILL); its output is in logs/driver.log" in failed_rank_message(0, 2, 137)


def test_a_signaled_mpi_rank_waits_for_its_command_and_records_nothing(tmp_path):
    """mpirun signals a rank's process group: the command gets the signal, and the wrapper
    outlives it (SIGUSR1 is passed on to ranks, not the end of one)."""
    argv, env = _rank_wrapper(tmp_path, 0, "trap 'echo got USR1' USR1; trap 'echo got TERM; exit 5' TERM; "
                                           "echo up; while :; do sleep 0.05; done")
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True) as wrapper:
        try:
            assert wrapper.stdout.readline() == "up\n"
            os.killpg(wrapper.pid, signal.SIGUSR1)
            assert wrapper.stdout.readline() == "got USR1\n"
            assert wrapper.poll() is None
            os.killpg(wrapper.pid, signal.SIGTERM)
            assert wrapper.wait(10) == 5
            assert wrapper.stdout.read() == "got TERM\n"
        finally:
            signal_group(wrapper.pid, signal.SIGKILL)  # whatever the test left
    assert take_failed_rank(tmp_path) is None
