"""Distributed configurations: Azure's names and arguments, and the variables each process gets."""

from __future__ import annotations

import json

import pytest

from runyard import ConfigError, MpiConfiguration, PyTorchConfiguration, ScriptRunConfig, TensorflowConfiguration
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
