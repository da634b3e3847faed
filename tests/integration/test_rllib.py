"""The RLlib estimator trains CartPole: on the local target in a private Ray instance of the
run's own (started and stopped by the run), and on the Ray cluster target.

The curated environment (Ray RLlib, torch, gymnasium) is built once per session: every
test here shares the session's environment cache (conftest's ``runyard_session_env``)."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import psutil
import pytest

from runyard import Experiment, RLlib
from runyard import status as st

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rllib-cartpole"
#: PPO settings that learn CartPole in about a second per iteration on two cores
FAST = {"lr": 3e-4, "num_epochs": 6, "vf_loss_coeff": 0.01, "train_batch_size_per_learner": 2000, "seed": 0}
#: training iterations of the local learning test: enough to show learning, each costs CPU time
ITERATIONS = 6


def _processes_of(run_id: str) -> list[str]:
    """Processes still running in the run's environment (Ray's raylet, GCS, workers...)."""
    left = []
    for proc in psutil.process_iter(["pid", "name"]):
        try:
            if proc.environ().get("RUNYARD_RUN_ID") == run_id and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.info['pid']} {proc.info['name']}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return left


def test_cartpole_mean_return_rises_on_the_local_target(experiment, wait_for, tmp_path):
    estimator = RLlib(algorithm="PPO", env="CartPole-v1", config=FAST, num_workers=1,
                      stop={"training_iteration": ITERATIONS}, checkpoint_freq=3)
    run = experiment.submit(estimator)
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    metrics = run.get_metrics()
    returns = metrics["episode_return_mean"]
    assert len(returns) == ITERATIONS and len(metrics["timesteps_total"]) == ITERATIONS
    assert metrics["timesteps_total"][-1] == ITERATIONS * FAST["train_batch_size_per_learner"]
    # It learned: a random policy keeps the pole up ~20 steps; PPO has doubled that well
    # within six iterations (the bar leaves room for a slow run).
    assert returns[-1] > 2 * returns[0] and returns[-1] > returns[0] + 25, returns
    names = set(run.get_file_names())
    for checkpoint in ("checkpoint_000003", "checkpoint_000006"):
        assert f"outputs/{checkpoint}/algorithm_state.pkl" in names, sorted(names)[:20]
    tags = run.get_tags()
    assert (tags["estimator"], tags["rllib.algorithm"], tags["rllib.checkpoint"]) == (
        "RLlib", "PPO", "outputs/checkpoint_000006")
    assert details["environment"]["name"] == "runyard-rllib-2.60-cpu"
    log = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
    assert "started a private Ray instance at " in log and "private Ray instance is stopped" in log
    wait_for(lambda: not _processes_of(run.id), timeout=30, what="the run's Ray processes to exit")


def test_own_script_joins_the_runs_private_ray_and_logs_with_the_helper(experiment, wait_for, tmp_path):
    source = tmp_path / "rllib-cartpole"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(".runyard"))
    run = experiment.submit(RLlib(str(source), entry_script="train.py", script_params={"--iterations": 2}))
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    metrics = run.get_metrics()
    assert len(metrics["episode_return_mean"]) == 2 and metrics["timesteps_total"] == [2000.0, 4000.0]
    assert "outputs/checkpoint/algorithm_state.pkl" in run.get_file_names()
    log = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
    assert "started a private Ray instance" in log and "Started a local Ray instance" in log
    # The script's ray.init() connected to the run's instance; it started no second one.
    assert log.count("Started a local Ray instance") == 1, log
    wait_for(lambda: not _processes_of(run.id), timeout=30, what="the run's Ray processes to exit")


def test_a_canceled_run_leaves_no_ray_process(experiment, wait_for):
    run = experiment.submit(RLlib(algorithm="PPO", env="CartPole-v1", config=FAST, num_workers=1,
                                  stop={"training_iteration": 1000}))
    wait_for(lambda: run.get_metrics().get("timesteps_total"), timeout=600, interval=0.5,
             what="the first iteration")
    run.cancel()
    assert run.wait_for_completion(timeout=120, raise_on_error=False)["status"] == st.CANCELED
    wait_for(lambda: not _processes_of(run.id), timeout=30, what="the run's Ray processes to exit")


def test_a_failing_launcher_setting_fails_the_run_with_the_reason(experiment, tmp_path):
    run = experiment.submit(RLlib(algorithm="PPO", env="CartPole-v1", config={"no_such_setting": 1},
                                  stop={"training_iteration": 1}, num_workers=0))
    details = run.wait_for_completion(timeout=600, raise_on_error=False)
    assert details["status"] == st.FAILED
    log = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
    assert "config 'no_such_setting' is not a setting of PPOConfig" in log
    assert not _processes_of(run.id)


@pytest.mark.ray
@pytest.mark.postgres
def test_cartpole_trains_on_the_ray_cluster_target(ray_workspace, ray_cluster, tmp_path):
    exp = Experiment(ray_workspace, f"rllib_{uuid.uuid4().hex[:8]}")
    # num_workers=0: the driver samples itself. Env runners on the other node would need the
    # job's pip environment there too, and the loopback cluster's two nodes share one temporary
    # folder, so two nodes would install it into the same place at once (not so on real nodes).
    run = exp.submit(RLlib(algorithm="PPO", env="CartPole-v1", config=FAST, num_workers=0,
                           stop={"training_iteration": 3}, compute_target="ray"))
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    log = Path(run.download_file("logs/driver.log", str(tmp_path / "driver.log"))).read_text()
    assert details["status"] == st.COMPLETED, log[-6000:]
    metrics = run.get_metrics()
    assert len(metrics["episode_return_mean"]) == 3 and metrics["timesteps_total"][-1] == 6000
    assert "outputs/checkpoint_000003/algorithm_state.pkl" in run.get_file_names()
    assert re.search(rf"joined the Ray cluster at \S+:{ray_cluster.gcs_port}\n", log), log[-3000:]
