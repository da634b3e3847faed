"""Sweep job files (type: sweep, Azure ML CLI v2's shape) read into a HyperDriveConfig, every bad
field named by file, line and field; and how a trial's values reach its command."""

from __future__ import annotations

import math
import shlex
from pathlib import Path

import pytest

from runyard import load_job_file
from runyard.errors import ConfigError
from runyard.hyperdrive import (BanditPolicy, BayesianParameterSampling, GridParameterSampling,
                                MedianStoppingPolicy, RandomParameterSampling, TruncationSelectionPolicy, choice,
                                lognormal, loguniform, normal, qlognormal, qloguniform, qnormal, quniform, randint,
                                uniform)
from runyard.hyperdrive.trial_command import check_references, references, trial_command

ROOT = Path(__file__).resolve().parents[2]

SWEEP = """\
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
experiment_name: yaml-sweeps
display_name: alpha sweep
tags: {team: vision}
compute: azureml:local
inputs:
  data: {type: uri_folder, path: data}
  label: first try
sampling_algorithm: {type: random, seed: 7}
search_space:
  alpha: {type: uniform, min_value: 0.01, max_value: 1.0}
  max_iter: {type: choice, values: [50, 100]}
objective: {goal: maximize, primary_metric: accuracy}
limits: {max_total_trials: 20, max_concurrent_trials: 2, timeout: 3600, trial_timeout: 600}
early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 2, delay_evaluation: 5}
trial:
  code: src
  command: >-
    python train.py --data ${{inputs.data}} --label ${{inputs.label}}
    --alpha ${{search_space.alpha}} --max-iter ${{ search_space.max_iter }}
  environment: requirements.txt
  environment_variables: {MODE: 1}
"""


def line(text: str, needle: str) -> int:
    """1-based number of the line of ``text`` that starts (after indentation) with ``needle``."""
    return next(i for i, row in enumerate(text.splitlines(), 1) if row.lstrip().startswith(needle))


def sweep_project(project, text: str) -> Path:
    return project({"sweep.yml": text, "src/train.py": "print('hi')\n", "data/rows.csv": "a\n1\n",
                    "requirements.txt": "six==1.16.0\n"})


def test_a_sweep_file_is_the_hyperdrive_config_python_would_build(project):
    folder = sweep_project(project, SWEEP)
    job = load_job_file(folder / "sweep.yml")
    assert (job.experiment_name, job.display_name, job.tags) == ("yaml-sweeps", "alpha sweep", {"team": "vision"})
    config = job.config
    sampling = config.hyperparameter_sampling
    assert isinstance(sampling, RandomParameterSampling) and sampling.seed == 7
    assert sampling.parameter_space == {"alpha": uniform(0.01, 1.0), "max_iter": choice(50, 100)}
    assert (config.primary_metric_name, config.primary_metric_goal.value) == ("accuracy", "MAXIMIZE")
    assert (config.max_total_runs, config.max_concurrent_runs, config.max_duration_minutes) == (20, 2, 60)
    assert isinstance(config.policy, BanditPolicy)
    assert (config.policy.slack_factor, config.policy.evaluation_interval, config.policy.delay_evaluation) == (0.1, 2, 5)
    trial = config.run_config
    assert trial.source_directory == str(folder / "src")
    assert trial.resolved_target() == "local"
    assert trial.max_run_duration_seconds == 600
    assert trial.run_config.environment_variables == {"MODE": "1"}
    assert trial.resolved_environment().python.conda_dependencies.pip_packages == ["six==1.16.0"]
    # inputs are written in now; the hyperparameters when each trial starts
    assert references(trial.command) == ["alpha", "max_iter"]
    filled, arguments = trial_command(trial.command, [], {"alpha": 0.5, "max_iter": 100})
    assert arguments == []
    assert shlex.split(filled) == ["python", "train.py", "--data", str(folder / "data"), "--label", "first try",
                                   "--alpha", "0.5", "--max-iter", "100"]


def test_defaults_and_a_sampling_given_by_name(project):
    text = SWEEP.replace("sampling_algorithm: {type: random, seed: 7}", "sampling_algorithm: random") \
        .replace("limits: {max_total_trials: 20, max_concurrent_trials: 2, timeout: 3600, trial_timeout: 600}\n", "") \
        .replace("early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 2, delay_evaluation: 5}\n",
                 "")
    config = load_job_file(sweep_project(project, text) / "sweep.yml").config
    assert isinstance(config.hyperparameter_sampling, RandomParameterSampling)
    assert (config.max_total_runs, config.max_concurrent_runs, config.max_duration_minutes) == (1000, None, 10080)
    assert config.policy.kind == "none"
    assert config.run_config.max_run_duration_seconds == 2592000


def test_grid_and_bayesian_sampling(project):
    grid = SWEEP.replace("sampling_algorithm: {type: random, seed: 7}", "sampling_algorithm: {type: grid}") \
        .replace("{type: uniform, min_value: 0.01, max_value: 1.0}", "{type: choice, values: [0.1, 1.0]}")
    sampling = load_job_file(sweep_project(project, grid) / "sweep.yml").config.hyperparameter_sampling
    assert isinstance(sampling, GridParameterSampling) and sampling.size() == 4
    bayesian = SWEEP.replace("sampling_algorithm: {type: random, seed: 7}", "sampling_algorithm: bayesian") \
        .replace("early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 2, delay_evaluation: 5}\n",
                 "")
    config = load_job_file(sweep_project(project, bayesian) / "sweep.yml").config
    assert isinstance(config.hyperparameter_sampling, BayesianParameterSampling)


@pytest.mark.parametrize("written, expression", [
    ("{type: choice, values: [16, 0.5, adam, true]}", choice(16, 0.5, "adam", True)),
    ("{type: randint, upper: 10}", randint(10)),
    ("{type: uniform, min_value: 0, max_value: 1.0e-1}", uniform(0, 0.1)),
    ("{type: loguniform, min_value: -6, max_value: -1}", loguniform(-6, -1)),
    ("{type: quniform, min_value: 16, max_value: 128, q: 16}", quniform(16, 128, 16)),
    ("{type: qloguniform, min_value: 0, max_value: 3, q: 0.5}", qloguniform(0, 3, 0.5)),
    ("{type: normal, mu: 10, sigma: 2}", normal(10, 2)),
    ("{type: lognormal, mu: 0, sigma: 1}", lognormal(0, 1)),
    ("{type: qnormal, mu: 10, sigma: 3, q: 2}", qnormal(10, 3, 2)),
    ("{type: qlognormal, mu: 0, sigma: 1, q: 1}", qlognormal(0, 1, 1)),
])
def test_every_expression(project, written, expression):
    text = SWEEP.replace("{type: uniform, min_value: 0.01, max_value: 1.0}", written)
    space = load_job_file(sweep_project(project, text) / "sweep.yml").config.hyperparameter_sampling.parameter_space
    assert space["alpha"] == expression
    assert [type(a) for a in space["alpha"].arguments] == [type(a) for a in expression.arguments]


@pytest.mark.parametrize("written, policy, fields", [
    ("{type: bandit, slack_amount: 0.2}", BanditPolicy, {"slack_amount": 0.2, "delay_evaluation": 0}),
    ("{type: median_stopping, evaluation_interval: 2}", MedianStoppingPolicy,
     {"evaluation_interval": 2, "delay_evaluation": 0}),
    ("{type: truncation_selection, truncation_percentage: 20, delay_evaluation: 3}", TruncationSelectionPolicy,
     {"truncation_percentage": 20, "delay_evaluation": 3}),
])
def test_every_early_termination_policy(project, written, policy, fields):
    text = SWEEP.replace("{type: bandit, slack_factor: 0.1, evaluation_interval: 2, delay_evaluation: 5}", written)
    made = load_job_file(sweep_project(project, text) / "sweep.yml").config.policy
    assert isinstance(made, policy)
    assert {k: getattr(made, k) for k in fields} == fields


def test_a_command_without_references_gets_the_values_appended(project):
    text = SWEEP.replace("\n    --alpha ${{search_space.alpha}} --max-iter ${{ search_space.max_iter }}", "")
    command = load_job_file(sweep_project(project, text) / "sweep.yml").config.run_config.command
    assert references(command) == []
    filled, arguments = trial_command(command, [], {"alpha": 0.5, "max_iter": 100})
    assert filled == command and arguments == ["--alpha", "0.5", "--max_iter", "100"]


def test_the_example_sweep_file_is_the_example_sweep_script_s_sweep():
    job = load_job_file(ROOT / "examples" / "sklearn-sweep" / "sweep.yml")
    assert job.experiment_name == "digits-sweep"
    config = job.config
    assert references(config.run_config.command) == ["alpha", "eta0"]
    space = config.hyperparameter_sampling.parameter_space
    low, high = space["alpha"].arguments
    assert math.isclose(math.exp(low), 1e-6, rel_tol=1e-4) and math.isclose(math.exp(high), 0.1, rel_tol=1e-4)
    assert space["eta0"] == choice(0.001, 0.01, 0.1)
    assert isinstance(config.policy, BanditPolicy)
    assert (config.policy.slack_factor, config.policy.delay_evaluation) == (0.05, 3)
    assert (config.max_total_runs, config.max_concurrent_runs) == (6, 2)


# -- bad fields: each names the file, the line and the field --------------------------------
def replaced(old: str, new: str) -> str:
    assert old in SWEEP, old
    return SWEEP.replace(old, new)


BAD = [
    # (the file, the line to point at, the field, what the message says)
    (replaced("seed: 7", "seed: seven"), "sampling_algorithm:", "sampling_algorithm.seed", "valid integer"),
    (replaced("seed: 7}", "seed: 7, rule: sobol}"), "sampling_algorithm:", "sampling_algorithm.rule", "'sobol'"),
    (replaced("{type: random, seed: 7}", "hyperband"), "sampling_algorithm:", "sampling_algorithm", "'hyperband'"),
    (replaced("type: uniform,", "type: beta,"), "alpha:", "search_space.alpha", "'beta'"),
    (replaced("min_value: 0.01, max_value: 1.0", "min_value: 2, max_value: 1.0"), "alpha:", "search_space.alpha",
     "must be below max_value"),
    (replaced(", max_value: 1.0}", "}"), "alpha:", "search_space.alpha.max_value", "Field required"),
    (replaced("min_value: 0.01,", "min_value: true,"), "alpha:", "search_space.alpha.min_value", "not true/false"),
    (replaced("values: [50, 100]", "values: [50, 100], upper: 3"), "max_iter:", "search_space.max_iter.upper",
     "Extra inputs"),
    (replaced("values: [50, 100]", "values: []"), "max_iter:", "search_space.max_iter.values", "at least 1 item"),
    (replaced("values: [50, 100]", "values: [50, 50]"), "max_iter:", "search_space.max_iter", "given twice"),
    (replaced("  max_iter:", "  max iter:").replace("search_space.max_iter", "search_space.max iter"), "max iter:",
     "search_space.max iter", "no hyperparameter name"),
    (replaced("{type: random, seed: 7}", "grid"), "alpha:", "search_space.alpha.type",
     "grid sampling takes only choice"),
    (replaced("goal: maximize", "goal: biggest"), "objective:", "objective.goal", "'maximize' or 'minimize'"),
    (replaced("goal: maximize, primary_metric: accuracy", "goal: maximize"), "objective:",
     "objective.primary_metric", "Field required"),
    (replaced("max_total_trials: 20", "max_total_trials: 0"), "limits:", "limits.max_total_trials",
     "greater than or equal to 1"),
    (replaced("max_concurrent_trials: 2", "max_concurrent_trials: 101"), "limits:",
     "limits.max_concurrent_trials", "less than or equal to 100"),
    (replaced("timeout: 3600", "timeout: soon"), "limits:", "limits.timeout", "'soon'"),
    (replaced("trial_timeout: 600", "trial_timeout: 600, max_nodes: 2"), "limits:", "limits.max_nodes",
     "Extra inputs"),
    (replaced("type: bandit,", "type: hyperband,"), "early_termination:", "early_termination", "'hyperband'"),
    (replaced("slack_factor: 0.1,", "slack_factor: 0.1, slack_amount: 1,"), "early_termination:",
     "early_termination", "exactly one of slack_factor and slack_amount"),
    (replaced("evaluation_interval: 2", "evaluation_interval: 0"), "early_termination:",
     "early_termination.evaluation_interval", "greater than or equal to 1"),
    (replaced("delay_evaluation: 5}", "delay_evaluation: 5, exclude_finished_jobs: true}"), "early_termination:",
     "early_termination.exclude_finished_jobs", "Extra inputs"),
    (replaced("{type: random, seed: 7}", "bayesian"), "early_termination:", "early_termination",
     "bayesian sampling takes no early termination"),
    (replaced("experiment_name: yaml-sweeps", "experiment_name: yaml-sweeps\nqueue_settings: {}"), "queue_settings:",
     "queue_settings", "Extra inputs"),
    (replaced("  code: src\n", "  code: src\n  outputs: {}\n"), "outputs:", "trial.outputs", "Extra inputs"),
    (replaced("  code: src\n", "  code: src\n  inputs: {a: 1}\n"), "inputs: {a: 1}", "trial.inputs",
     "top level"),
    (replaced("  code: src\n", "  code: src\n  compute: local\n"), "compute: local", "trial.compute", "top level"),
    (replaced("code: src", "code: nowhere"), "code:", "trial.code", "'nowhere' does not exist"),
    (replaced("path: data", "path: no-data"), "data:", "inputs.data.path", "'no-data' does not exist"),
    (replaced("${{inputs.label}}", "${{inputs.tag}}"), "command:", "trial.command", "inputs.tag"),
    (replaced("${{search_space.alpha}}", "${{search_space.beta}}"), "command:", "trial.command",
     "the search space has no 'beta'"),
    (replaced("${{search_space.alpha}}", "${{outputs.model}}"), "command:", "trial.command",
     "no reference a sweep job's trial knows"),
    (replaced(" --max-iter ${{ search_space.max_iter }}", ""), "max_iter:", "search_space.max_iter",
     "but not this one"),
    (replaced("environment: requirements.txt", "environment: conda.yml"), "environment:", "trial.environment",
     "open a workspace first"),
    (replaced("environment: requirements.txt",
              "environment: {python: {conda_dependencies: {pip_packages: ['numpy>=>1']}}}"), "environment:",
     "trial.environment.python.conda_dependencies.pip_packages.0", "numpy>=>1"),
    (replaced("type: sweep", "type: sweeps"), "type:", "type", "valid types: command, sweep"),
    ("\n".join(row for row in SWEEP.splitlines() if not row.startswith("objective")), "$schema", "objective",
     "Field required"),
]


@pytest.mark.parametrize("text, at, field, says", BAD, ids=[b[2] + ": " + b[3] for b in BAD])
def test_every_bad_field_names_file_line_and_field(project, text, at, field, says):
    folder = sweep_project(project, text)
    with pytest.raises(ConfigError) as info:
        load_job_file(folder / "sweep.yml")
    message = str(info.value)
    assert message.startswith(f"{folder / 'sweep.yml'}: line {line(text, at)}, field '{field}'"), message
    assert says in message, message


def test_an_unknown_compute_target_is_named_when_a_workspace_is_given(project, workspace):
    folder = sweep_project(project, SWEEP.replace("compute: azureml:local", "compute: gpu-cluster"))
    with pytest.raises(ConfigError) as info:
        load_job_file(folder / "sweep.yml", workspace=workspace)
    message = str(info.value)
    assert message.startswith(f"{folder / 'sweep.yml'}: line {line(SWEEP, 'compute:')}, field 'compute'"), message
    assert "'gpu-cluster'" in message and "local" in message


# -- how values reach a command ---------------------------------------------------------
def test_values_are_shell_quoted_into_the_command():
    filled, _ = trial_command("echo ${{search_space.opt}} ${{search_space.lr}}", [], {"--opt": "a;b", "lr": 1e-05})
    assert filled == "echo 'a;b' 1e-05"
    assert trial_command(["python", "t.py"], ["--x", "1"], {"lr": 2}) == (["python", "t.py"], ["--x", "1", "--lr", "2"])


def test_a_python_sweep_with_references_must_name_its_space():
    check_references("python t.py --lr ${{search_space.lr}}", ["--lr"], "HyperDriveConfig")
    check_references("python t.py", ["lr", "depth"], "HyperDriveConfig")  # appended instead
    with pytest.raises(ConfigError, match=r"names \$\{\{search_space.depth\}\}, which is not in the search space"):
        check_references("t --lr ${{search_space.lr}} --depth ${{search_space.depth}}", ["lr"], "HyperDriveConfig")
    with pytest.raises(ConfigError, match="but not 'depth'"):
        check_references("t --lr ${{search_space.lr}}", ["lr", "depth"], "HyperDriveConfig")
    assert math.isclose(float(trial_command("t ${{search_space.lr}}", [], {"--lr": 0.25})[0].split()[1]), 0.25)
