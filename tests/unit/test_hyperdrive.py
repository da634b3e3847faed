"""HyperDrive without runs: expressions, sampling, the policies' formulas on traces written
here, and the config's validation (Azure ML's rules, errors naming the argument)."""

from __future__ import annotations

import math
import random

import pytest

from runyard import ScriptRunConfig
from runyard.errors import ConfigError
from runyard.hyperdrive import (BanditPolicy, BayesianParameterSampling, GridParameterSampling, HyperDriveConfig,
                                MedianStoppingPolicy, NoTerminationPolicy, PrimaryMetricGoal,
                                RandomParameterSampling, TruncationSelectionPolicy, choice, lognormal, loguniform,
                                normal, qlognormal, qloguniform, qnormal, quniform, randint, uniform)
from runyard.hyperdrive.parameters import from_json
from runyard.hyperdrive.sampling import HyperParameterSampling, key


# -- expressions -------------------------------------------------------------------------
def test_expressions_draw_within_their_definitions():
    rng = random.Random(3)
    for _ in range(200):
        assert 0 <= randint(5).sample(rng) < 5
        assert 0.5 <= uniform(0.5, 2).sample(rng) <= 2
        assert math.log(1e-3) - 1e-9 <= math.log(loguniform(math.log(1e-3), math.log(1e-1)).sample(rng)) \
            <= math.log(1e-1) + 1e-9
        value = quniform(16, 128, 16).sample(rng)
        assert isinstance(value, int) and value % 16 == 0 and 16 <= value <= 128
        assert qloguniform(0, 3, 0.5).sample(rng) % 0.5 == 0
        assert qnormal(10, 3, 2).sample(rng) % 2 == 0
        assert lognormal(0, 1).sample(rng) > 0
        assert qlognormal(0, 1, 1).sample(rng) >= 0
        assert choice("adam", "sgd").sample(rng) in ("adam", "sgd")
    draws = [normal(10, 2).sample(rng) for _ in range(2000)]
    assert abs(sum(draws) / len(draws) - 10) < 0.3


@pytest.mark.parametrize("make, message", [
    (lambda: choice(), "at least one option"),
    (lambda: choice(1, 1), "given twice"),
    (lambda: choice([1, [2]]), "not a number"),
    (lambda: choice("a b"), "white space"),
    (lambda: randint(0), "upper must be a whole number >= 1"),
    (lambda: uniform(1, 1), "must be below max_value"),
    (lambda: uniform(0, float("inf")), "max_value must be a finite number"),
    (lambda: quniform(0, 1, 0), "q must be above 0"),
    (lambda: normal(0, -1), "sigma must be above 0"),
    (lambda: qlognormal(0, 1, "1"), "q must be a finite number"),
])
def test_bad_expressions_say_what_is_wrong(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_expressions_read_azures_json_form():
    assert from_json(["choice", [[1, 2, 3]]], "x") == choice(1, 2, 3)
    assert from_json(["uniform", [0, 1]], "x") == uniform(0, 1)
    assert choice(range(3)).to_json() == ["choice", [[0, 1, 2]]]
    with pytest.raises(ConfigError, match="unknown expression 'beta'"):
        from_json(["beta", [1, 2]], "x")
    with pytest.raises(ConfigError, match="x: .*not a parameter expression"):
        from_json(0.5, "x")


# -- sampling ----------------------------------------------------------------------------
def test_grid_enumerates_every_point_once_then_ends():
    proposer = GridParameterSampling({"--a": choice(1, 2, 3), "b": choice("x", "y")}).proposer()
    points = [proposer.propose(i) for i in range(7)]
    assert points[6] is None
    assert len({key(p) for p in points[:6]}) == 6
    assert points[0] == {"--a": 1, "b": "x"} and points[5] == {"--a": 3, "b": "y"}


def test_random_sampling_is_seeded_by_its_space_or_its_seed():
    space = {"--lr": loguniform(-6, -1), "--depth": randint(10), "--opt": choice("adam", "sgd")}
    first = [RandomParameterSampling(space).proposer().propose(i) for i in range(20)]
    again = [RandomParameterSampling(dict(space)).proposer().propose(i) for i in range(20)]
    other = [RandomParameterSampling(space, properties={"seed": 5}).proposer().propose(i) for i in range(20)]
    assert first == again
    assert first != other
    assert len({key(p) for p in first}) == 20
    with pytest.raises(ConfigError, match="unknown properties 'rule'"):
        RandomParameterSampling(space, properties={"rule": "sobol"})


def test_samplings_refuse_what_they_cannot_take():
    with pytest.raises(ConfigError, match="GridParameterSampling takes only choice"):
        GridParameterSampling({"--lr": uniform(0, 1)})
    with pytest.raises(ConfigError, match="BayesianParameterSampling takes only choice, quniform, uniform"):
        BayesianParameterSampling({"--lr": loguniform(-5, 0)})
    with pytest.raises(ConfigError, match="cannot reach a script"):
        RandomParameterSampling({"learning rate": uniform(0, 1)})
    with pytest.raises(ConfigError, match="both passed as '--lr'"):
        RandomParameterSampling({"lr": uniform(0, 1), "--lr": uniform(0, 1)})
    with pytest.raises(ConfigError, match="non-empty dict"):
        RandomParameterSampling({})


def _branin(x: float, y: float) -> float:
    """Branin's function on [-5, 10] x [0, 15]; its minimum is 0.397887."""
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x ** 2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def _best_found(sampling: HyperParameterSampling, trials: int) -> float:
    proposer = sampling.proposer(maximize=False)
    best = math.inf
    for i in range(trials):
        values = proposer.propose(i)
        value = _branin(values["--x"], values["--y"])
        proposer.tell(values, value)
        best = min(best, value)
    return best


def test_bayesian_sampling_beats_random_on_a_known_function_in_most_seeds():
    space = {"--x": uniform(-5, 10), "--y": uniform(0, 15)}
    trials = 20 * len(space)
    wins = sum(_best_found(BayesianParameterSampling(space, properties={"seed": seed}), trials)
               < _best_found(RandomParameterSampling(space, properties={"seed": seed}), trials)
               for seed in range(10))
    assert wins >= 7, f"TPE beat random on {wins} of 10 seeds"


def test_bayesian_sampling_is_reproducible_and_takes_warm_start_trials():
    space = {"--x": uniform(-5, 10), "--y": quniform(0, 15, 1), "--k": choice(1, 2)}
    runs = []
    for _ in range(2):
        proposer = BayesianParameterSampling(space, properties={"seed": 3}).proposer(maximize=False)
        proposer.tell({"--x": 3.1, "--y": 20, "--k": 2}, 1.5)  # clipped back into its range
        proposer.tell({"--x": 3.1, "--y": 2, "--k": 7}, 1.5)  # not a choice: left out
        values = []
        for i in range(12):
            v = proposer.propose(i)
            proposer.tell(v, _branin(v["--x"], v["--y"]) * v["--k"])
            values.append(v)
        runs.append(values)
        assert len(proposer.study.trials) == 13
        assert all(isinstance(v["--y"], int) for v in values)
    assert runs[0] == runs[1]


# -- policies: each formula on traces written here ------------------------------------------
def _stops(policy, traces: dict[str, list[float]], maximize: bool = True) -> dict[str, int]:
    """Run the trials in order (each complete before the next, as with max_concurrent_runs=1):
    trial -> the interval the policy stops it at."""
    seen: dict[str, list[float]] = {}
    stopped = {}
    for trial, trace in traces.items():
        seen[trial] = []
        for value in trace:
            seen[trial].append(value)
            n = len(seen[trial])
            if trial not in stopped and policy.applies_at(n) and policy.stop_reason(trial, seen, n, maximize=maximize):
                stopped[trial] = n
    return stopped


BANDIT_TRACES = {"A": [0.5, 0.6, 0.8, 0.9], "B": [0.5, 0.55, 0.7, 0.85], "C": [0.6, 0.7, 0.8, 0.9],
                 "D": [0.3, 0.9, 0.9, 0.9]}
MEDIAN_TRACES = {"A": [1, 2, 3, 4], "B": [1, 1, 1, 1], "C": [2, 2, 2, 2], "D": [0, 0, 5, 5]}
TRUNCATION_TRACES = {"A": [1, 2, 3, 4], "B": [2, 1, 5, 6], "C": [0, 3, 0, 0], "D": [5, 5, 5, 5]}


def test_bandit_policy_stops_trials_outside_the_slack_of_the_best():
    # B at 3: 0.7 < 0.8 / 1.1 = 0.727; D at 1: 0.3 < 0.6 / 1.1
    assert _stops(BanditPolicy(slack_factor=0.1), BANDIT_TRACES) == {"B": 3, "D": 1}
    assert _stops(BanditPolicy(slack_factor=0.1, delay_evaluation=2), BANDIT_TRACES) == {"B": 3}
    assert _stops(BanditPolicy(slack_factor=0.1, evaluation_interval=2), BANDIT_TRACES) == {}
    # slack_amount 0.05: B at 2 (0.55 < 0.6 - 0.05 is False; at 3: 0.7 < 0.75)
    assert _stops(BanditPolicy(slack_amount=0.05), BANDIT_TRACES) == {"B": 3, "D": 1}
    minimize = {"A": [1.0, 0.8], "B": [1.2, 0.85], "C": [1.05, 0.9]}
    # minimising, best*(1+0.1): B at 1 (1.2 > 1.1); C at 2 (0.9 > 0.88)
    assert _stops(BanditPolicy(slack_factor=0.1), minimize, maximize=False) == {"B": 1, "C": 2}
    reason = BanditPolicy(slack_factor=0.1).stop_reason("B", {"A": [0.8], "B": [0.7]}, 1, maximize=True)
    assert reason.startswith("BanditPolicy: at interval 1 its value 0.7 is below 0.7273")


def test_median_stopping_policy_stops_trials_below_the_median_of_running_averages():
    # B at 2: best 1 < median(1.5, 1.0) = 1.25; D at 2: best 0 < median(1.5, 1, 2, 0) = 1.25
    assert _stops(MedianStoppingPolicy(delay_evaluation=2), MEDIAN_TRACES) == {"B": 2, "D": 2}
    # from interval 3 on D's best is 5: only B
    assert _stops(MedianStoppingPolicy(delay_evaluation=3), MEDIAN_TRACES) == {"B": 3}
    # Azure's default delay is 0: from the first interval (D at 1: 0 < median(1, 1, 2, 0) = 1)
    assert _stops(MedianStoppingPolicy(), MEDIAN_TRACES) == {"B": 2, "D": 1}
    assert _stops(MedianStoppingPolicy(delay_evaluation=5), MEDIAN_TRACES) == {}


def test_truncation_selection_policy_stops_the_worst_percent():
    # at 2: B worst of 2 (cut 1); at 4: C worst of 3 (cut 1); D is never among the worst 2 of 4
    assert _stops(TruncationSelectionPolicy(50, evaluation_interval=2), TRUNCATION_TRACES) == {"B": 2, "C": 4}
    # 34%: nothing of 2 (floor 0.68), one of 3 or 4
    assert _stops(TruncationSelectionPolicy(34, evaluation_interval=2), TRUNCATION_TRACES) == {"C": 4}
    ties = {"A": [1.0], "B": [1.0]}
    assert _stops(TruncationSelectionPolicy(50), ties) == {"B": 1}  # of equal values the later one


def test_no_termination_policy_never_stops():
    assert _stops(NoTerminationPolicy(), BANDIT_TRACES) == {}


@pytest.mark.parametrize("make, message", [
    (lambda: BanditPolicy(), "exactly one of slack_factor and slack_amount"),
    (lambda: BanditPolicy(slack_factor=0.1, slack_amount=1), "exactly one"),
    (lambda: BanditPolicy(slack_factor=-1), "slack_factor must be a number above 0"),
    (lambda: BanditPolicy(slack_amount=0.1, evaluation_interval=0), "evaluation_interval must be a whole number"),
    (lambda: MedianStoppingPolicy(delay_evaluation=-1), "delay_evaluation must be a whole number >= 0"),
    (lambda: TruncationSelectionPolicy(100), "truncation_percentage must be a whole number from 1 to 99"),
])
def test_bad_policies_say_what_is_wrong(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


# -- the config ----------------------------------------------------------------------------
def _config(**overrides):
    arguments = dict(run_config=ScriptRunConfig(".", script="train.py"),
                     hyperparameter_sampling=RandomParameterSampling({"--lr": uniform(0, 1)}),
                     primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                     max_total_runs=4)
    arguments.update(overrides)
    return HyperDriveConfig(**arguments)


@pytest.mark.parametrize("overrides, message", [
    ({"max_total_runs": 0}, "max_total_runs must be a whole number from 1 to 1000"),
    ({"max_total_runs": 1001}, "max_total_runs must be a whole number from 1 to 1000"),
    ({"max_concurrent_runs": 101}, "max_concurrent_runs must be a whole number from 1 to 100"),
    ({"max_duration_minutes": 0}, "max_duration_minutes must be a number of minutes above 0"),
    ({"primary_metric_goal": "biggest"}, "primary_metric_goal must be PrimaryMetricGoal.MAXIMIZE or MINIMIZE"),
    ({"primary_metric_name": ""}, "primary_metric_name must be the name of a metric"),
    ({"estimator": object()}, "exactly one of run_config"),
    ({"run_config": None}, "exactly one of run_config"),
    ({"run_config": "train.py"}, "run_config must be a ScriptRunConfig"),
    ({"hyperparameter_sampling": {"--lr": uniform(0, 1)}}, "hyperparameter_sampling must be"),
    ({"policy": "bandit"}, "policy must be BanditPolicy"),
    ({"hyperparameter_sampling": BayesianParameterSampling({"--lr": uniform(0, 1)}),
      "policy": BanditPolicy(slack_factor=0.1)}, "BayesianParameterSampling takes no early-termination policy"),
    ({"resume_from": ["a"] * 6}, "resume_from takes at most 5 sweeps"),
    ({"resume_from": [3]}, "resume_from takes runs or run ids"),
    ({"debug_flag": True}, "unexpected argument: debug_flag"),
])
def test_bad_configs_name_the_argument(overrides, message):
    with pytest.raises(ConfigError, match=message):
        _config(**overrides)


def test_a_config_with_defaults():
    config = _config(primary_metric_goal="minimize", max_total_runs=3, policy=None)
    assert config.primary_metric_goal is PrimaryMetricGoal.MINIMIZE
    assert isinstance(config.policy, NoTerminationPolicy)
    assert config.max_duration_minutes == 10080
    assert 1 <= config.concurrency <= 3
