"""The RLlib estimator's options, checked when it is made, and the launcher's result helpers."""

from __future__ import annotations

import json
import math
import sys

import pytest

from runyard import ConfigError, Environment, ReinforcementLearningEstimator, RLlib
from runyard.rllib import log_result, reached, result_value

CARTPOLE = {"env": "CartPole-v1", "stop": {"training_iteration": 5}}


@pytest.fixture
def src(tmp_path):
    (tmp_path / "train.py").write_text("print(1)\n")
    return tmp_path


def test_algorithm_mode_runs_runyards_launcher_with_the_settings_in_a_variable():
    est = RLlib(algorithm="ppo", num_workers=1, config={"lr": 3e-4}, checkpoint_freq=2, **CARTPOLE)
    assert est.environment.name == "runyard-rllib-2.60-cpu" and est.framework_version == "2.60"
    assert "ray[rllib]==2.60.0" in est.environment.python.conda_dependencies.pip_packages
    assert "torch==2.13.0" in est.environment.python.conda_dependencies.pip_packages
    config = est.run_config()
    assert config.command == ["python", "-m", "runyard.rllib"] and config.script is None
    spec = json.loads(config.run_config.environment_variables["RUNYARD_RLLIB"])
    assert spec == {"algorithm": "PPO", "env": "CartPole-v1", "config": {"lr": 3e-4},
                    "stop": {"training_iteration": 5}, "num_workers": 1, "checkpoint_freq": 2, "use_gpu": False}
    config.validate_source()  # no source_directory needed: an empty one stands in


def test_entry_script_mode_runs_the_script_through_the_launcher(src):
    est = RLlib(str(src), entry_script="train.py", script_params={"--iterations": 3})
    config = est.run_config()
    assert config.command == ["python", "-m", "runyard.rllib", "train.py"]
    assert config.resolved_arguments() == ["--iterations", "3"]
    assert "RUNYARD_RLLIB" not in config.run_config.environment_variables


@pytest.mark.parametrize("kwargs, message", [
    ({"algorithm": "PPOO"}, r"algorithm 'PPOO' is not an RLlib algorithm runyard knows; known: APPO, .*PPO, SAC"),
    ({"env": None}, "env is required"),
    ({"env": ""}, "env is required"),
    ({"stop": {}}, "stop must be a non-empty dict"),
    ({"stop": None}, "stop must be a non-empty dict"),
    ({"stop": [("training_iteration", 5)]}, "stop must be a non-empty dict"),
    ({"stop": {"training_iteration": "5"}}, r"stop\['training_iteration'\] must be a number"),
    ({"stop": {"training_iteration": True}}, r"stop\['training_iteration'\] must be a number"),
    ({"num_workers": -1}, "num_workers must be a whole number >= 0"),
    ({"num_workers": 1.5}, "num_workers must be a whole number >= 0"),
    ({"checkpoint_freq": -2}, "checkpoint_freq must be a whole number >= 0"),
    ({"config": ["lr", 1]}, "config must be a dict"),
    ({"config": {"num_env_runners": 2}}, r"config\['num_env_runners'\] - give it as the num_workers= option"),
    ({"config": {"lr": object()}}, "config and stop must hold plain values"),
    ({"config": {"lr": math.nan}}, "config and stop must hold plain values"),
    ({"script_params": {"--a": 1}}, "script_params/arguments are for an entry_script"),
    ({"node_count": 2}, "node_count - Ray spreads RLlib's work over the target's nodes itself"),
    ({"process_count_per_node": 2}, "process_count_per_node - Ray spreads"),
    ({"framework_version": "0.8.3"}, r"framework_version '0.8.3' is not supported for rllib; supported: 2.60"),
])
def test_bad_launcher_options_are_refused_naming_the_option(kwargs, message):
    kwargs = {**CARTPOLE, **kwargs}
    with pytest.raises(ConfigError, match=message):
        RLlib(**kwargs)


def test_entry_script_and_launcher_options_do_not_mix(src):
    with pytest.raises(ConfigError, match="RLlib: algorithm configures runyard's own RLlib launcher"):
        RLlib(str(src), entry_script="train.py", algorithm="PPO")
    with pytest.raises(ConfigError, match="RLlib: stop configures"):
        RLlib(str(src), entry_script="train.py", stop={"training_iteration": 1})
    with pytest.raises(ConfigError, match="source_directory is required with entry_script"):
        RLlib(entry_script="train.py")
    with pytest.raises(ConfigError, match="script 'missing.py' does not exist"):
        RLlib(str(src), entry_script="missing.py")


def test_azure_name_takes_azures_arguments(src):
    est = ReinforcementLearningEstimator(str(src), entry_script="train.py", script_params={"--n": 1},
                                         rl_framework="2.60.0", cluster_coordination_timeout_seconds=60)
    assert isinstance(est, RLlib) and est.framework_version == "2.60"
    assert est.run_config().command[-1] == "train.py"

    class Ray:  # Azure's azureml.contrib.train.rl.Ray(version=...)
        version = "2.60"
    mine = Environment("my-rl")
    mine.python.conda_dependencies.pip_packages = ["ray[rllib]==2.60.0", "gymnasium"]
    assert ReinforcementLearningEstimator(str(src), entry_script="train.py", rl_framework=Ray()).framework_version \
        == "2.60"
    est = ReinforcementLearningEstimator(str(src), entry_script="train.py", environment=mine)
    assert est.environment.name == "my-rl"
    with pytest.raises(ConfigError, match="environment_definition replaces"):
        ReinforcementLearningEstimator(str(src), entry_script="train.py", environment=mine, rl_framework="2.60")
    with pytest.raises(ConfigError, match="worker_configuration - runyard runs RLlib's workers"):
        ReinforcementLearningEstimator(str(src), entry_script="train.py", worker_configuration=object())
    with pytest.raises(ConfigError, match="supported: 2.60"):
        ReinforcementLearningEstimator(str(src), entry_script="train.py", rl_framework="0.8.3")
    launched = ReinforcementLearningEstimator(algorithm="DQN", **CARTPOLE)
    assert launched.spec["algorithm"] == "DQN"


def test_making_the_estimator_does_not_import_ray():
    assert RLlib(**CARTPOLE)
    assert "ray.rllib" not in sys.modules


class _Run:
    def __init__(self):
        self.logged: list[tuple[str, float]] = []

    def log(self, name, value):
        self.logged.append((name, value))


RESULT = {"training_iteration": 3, "time_this_iter_s": 1.25, "num_env_steps_sampled_lifetime": 6000,
          "env_runners": {"episode_return_mean": 38.5, "episode_len_mean": 38.5, "episode_len_max": 120},
          "learners": {"default_policy": {"entropy": 0.66}}}


def test_log_result_logs_the_runs_metrics_and_extra_names():
    run = _Run()
    logged = log_result(run, RESULT, names={"entropy": "learners/default_policy/entropy"})
    assert logged == {"episode_return_mean": 38.5, "episode_len_mean": 38.5, "timesteps_total": 6000.0,
                      "time_this_iter_s": 1.25, "entropy": 0.66}
    assert run.logged == list(logged.items())
    # Before the first episode ends RLlib reports NaN: left out, not logged as a number.
    early = {"training_iteration": 1, "env_runners": {"episode_return_mean": math.nan}}
    assert "episode_return_mean" not in log_result(_Run(), early)
    # The old API stack's keys.
    assert log_result(_Run(), {"episode_reward_mean": 20.0, "timesteps_total": 4000}) == {
        "episode_return_mean": 20.0, "timesteps_total": 4000.0}


def test_stop_bounds_by_metric_name_top_level_or_nested_key():
    assert reached(RESULT, {"training_iteration": 3}) == "training_iteration = 3 >= 3"
    assert reached(RESULT, {"training_iteration": 10, "episode_reward_mean": 30}) == \
        "episode_reward_mean = 38.5 >= 30"
    assert reached(RESULT, {"env_runners/episode_len_max": 200}) is None
    assert result_value(RESULT, "timesteps_total") == 6000
    with pytest.raises(KeyError, match="RLlib's result has no 'episode_mean'; it has .*env_runners/episode_len_max"):
        reached(RESULT, {"episode_mean": 1})


class _SlowRay:
    """Ray's init as it fails on a busy machine: the raylet misses Ray's 30 s to register."""

    def __init__(self, failures: int):
        self.failures, self.inits, self.shutdowns = failures, 0, 0

    def init(self, **_options):
        self.inits += 1
        if self.inits <= self.failures:
            raise Exception("The current node timed out during startup. This could happen because "
                            "some of the raylet failed to startup or the GCS has become overloaded.")

    def shutdown(self):
        self.shutdowns += 1


def test_the_private_ray_instance_is_started_again_when_it_times_out(capsys):
    import psutil
    from runyard.rllib.__main__ import START_TRIES, _start_ray
    ray = _SlowRay(failures=START_TRIES - 1)
    _start_ray(ray, psutil.Process(), 1, "/tmp")
    assert ray.inits == START_TRIES and ray.shutdowns == START_TRIES - 1
    assert "did not start" in capsys.readouterr().out
    with pytest.raises(Exception, match="timed out during startup"):  # not forever
        _start_ray(_SlowRay(failures=START_TRIES), psutil.Process(), 1, "/tmp")
    other = _SlowRay(failures=0)
    other.init = lambda **_: (_ for _ in ()).throw(ValueError("bad num_cpus"))
    with pytest.raises(ValueError):  # other errors are not retried
        _start_ray(other, psutil.Process(), 1, "/tmp")
