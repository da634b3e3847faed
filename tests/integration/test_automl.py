"""AutoML end to end on the local target: iterations as child runs chosen by the search, the
best model predicting from raw frames, Azure's exit criteria, and bad input refused before
anything is recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from runyard import AutoMLConfig, FeaturizationConfig
from runyard import status as st
from runyard.automl import metrics as am
from runyard.errors import ConfigError


def _customers(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    tenure = rng.integers(1, 72, rows).astype(float)
    charges = rng.normal(70, 20, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    signup = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D")
    risk = -0.05 * tenure + 0.03 * charges + (plan == "basic") * 1.0 + rng.normal(0, 0.5, rows)
    frame = pd.DataFrame({"tenure": tenure, "charges": charges, "plan": plan, "signup": signup.astype(str),
                          "customer": [f"K{i:05d}" for i in range(rows)],
                          "churned": np.where(risk > np.median(risk), "yes", "no")})
    frame.loc[rng.random(rows) < 0.08, "charges"] = np.nan
    return frame


def _houses(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    size = rng.uniform(40, 200, rows)
    rooms = rng.integers(1, 6, rows)
    town = rng.choice(["north", "south", "east", "west"], rows)
    price = 2.0 * size + 15 * rooms + (town == "north") * 60 + rng.normal(0, 10, rows)
    return pd.DataFrame({"size": size, "rooms": rooms, "town": town, "weight": rng.uniform(0.5, 2, rows),
                         "price": price})


def test_classification_end_to_end(experiment):
    frame = _customers()
    config = AutoMLConfig(task="classification", primary_metric="AUC_weighted", training_data=frame,
                          label_column_name="churned", iterations=6, max_concurrent_iterations=2,
                          allowed_models=["LightGBM", "LogisticRegression"], n_cross_validations=3)
    run = experiment.submit(config)
    assert run.type == "automl" and type(run).__name__ == "AutoMLRun"
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED, details["error"]
    everything = run.get_children()
    assert len(everything) == 6 and all(c.get_status() == st.COMPLETED for c in everything)
    by_iteration = {int(c.get_properties()["iteration"]): c for c in everything}
    assert sorted(by_iteration) == list(range(6))
    # the last two iterations are the ensembles (Azure's order), of the four before them
    assert [by_iteration[i].get_properties()["run_algorithm"] for i in (4, 5)] == ["VotingEnsemble", "StackEnsemble"]
    children = [by_iteration[i] for i in range(4)]
    algorithms = {c.get_properties()["run_algorithm"] for c in children}
    assert algorithms == {"LightGBM", "LogisticRegression"}  # each tried once first, then the search's choice
    voting = by_iteration[4].get_properties()
    weights = json.loads(voting["ensemble_weights"])
    assert abs(sum(weights) - 1) < 1e-6 and len(weights) == len(json.loads(voting["ensembled_iterations"]))
    scores = {c.id: c.get_metrics()["AUC_weighted"] for c in children}
    assert by_iteration[4].get_metrics()["AUC_weighted"] >= max(scores.values()) - 1e-9  # greedy: never worse
    for ensemble in (4, 5):
        _, ensemble_model = run.get_output(iteration=ensemble)
        assert set(ensemble_model.predict(frame.drop(columns=["churned"]).head(9))) <= {"yes", "no"}
    child = children[0]
    properties = child.get_properties()
    assert properties["training_type"] == "MeanCrossValidation" and properties["folds"] == "3"
    assert set(am.CLASSIFICATION_METRICS) - {"matthews_correlation"} <= set(child.get_metrics())
    assert {"outputs/model.pkl", "outputs/predictions.npy"} <= set(child.get_file_names())

    best, model = run.get_output()
    scores = {c.id: c.get_metrics()["AUC_weighted"] for c in everything}
    assert scores[best.id] == max(scores.values()) and best.id == run.get_tags()["automl_best_child_run_id"]
    raw = frame.drop(columns=["churned"]).sample(25, random_state=0)
    raw.loc[raw.index[0], "plan"] = "enterprise"  # a category never seen
    assert set(model.predict(raw)) <= {"yes", "no"}
    assert model.predict_proba(raw).shape == (25, 2)
    accuracy = (model.predict(frame.drop(columns=["churned"])) == frame["churned"]).mean()
    assert accuracy > 0.75
    summary = {row[0]: row for row in run.get_guardrails(to_console=False)["faults"] and
               [[f["friendly_type"], f["result"]] for f in run.get_guardrails(to_console=False)["faults"]]}
    assert summary["Missing feature values imputation"][1] == "Done"
    assert summary["High cardinality feature detection"][1] == "Done"  # the customer id, dropped
    by_metric, _ = run.get_output(metric="log_loss")
    losses = {c.id: c.get_metrics()["log_loss"] for c in everything}
    assert losses[by_metric.id] == min(losses.values())
    third, _ = run.get_output(iteration=2)
    assert third.get_properties()["iteration"] == "2"
    model_version = run.register_model(model_name="churn")
    assert model_version.name == "churn"
    assert {row[0] for row in run.summary()} == algorithms | {"VotingEnsemble", "StackEnsemble"}
    # model_explainability (on by default): the best model's importances per raw column
    assert run.get_properties()["model_explained"] == best.id
    importance = run.get_metrics()["feature_importance"]
    assert set(importance["feature"]) == {"tenure", "charges", "plan", "signup", "customer"}
    ranked = dict(zip(importance["feature"], importance["importance"]))
    assert ranked["tenure"] > ranked["customer"] and ranked["charges"] > ranked["customer"]
    assert "images/feature_importance_chart.png" in run.get_file_names()


def test_regression_with_a_holdout_weights_and_a_featurization_config(experiment, workspace):
    frame = _houses()
    featurization = FeaturizationConfig()
    featurization.add_column_purpose("rooms", "Numeric")
    config = AutoMLConfig(task="regression", training_data=frame, label_column_name="price",
                          weight_column_name="weight", validation_size=0.25, iterations=3,
                          allowed_models=["LightGBM", "ElasticNet"], featurization=featurization)
    assert config.primary_metric == "normalized_root_mean_squared_error"
    run = experiment.submit(config)  # 3 iterations: no room for ensembles (Azure: iterations >= 2 + ensembles)
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED, details["error"]
    best, model = run.get_output()
    errors = {c.id: c.get_metrics()["normalized_root_mean_squared_error"] for c in run.get_children()}
    assert errors[best.id] == min(errors.values())
    assert best.get_properties()["training_type"] == "train_valid"
    predicted = model.predict(frame.drop(columns=["price", "weight"]).head(10))
    assert predicted.shape == (10,) and np.isfinite(predicted).all()
    summary = {r["RawFeatureName"]: r for r in model.named_steps["datatransformer"].get_featurization_summary()}
    assert summary["rooms"]["TypeDetected"] == "Numeric" and "weight" not in summary
    # the leaderboard, best first, in Python and on the command line
    board = run.get_leaderboard()
    assert [r["run_id"] for r in board][0] == best.id and len(board) == 3
    assert [r["score"] for r in board] == sorted(r["score"] for r in board)
    cli = [sys.executable, "-m", "runyard.cli", "-w", str(workspace.path), "run", "show", run.id]
    shown = json.loads(subprocess.run([*cli, "--json"], capture_output=True, text=True, check=True).stdout)
    assert [r["run_id"] for r in shown["leaderboard"]] == [r["run_id"] for r in board]
    wide = {**os.environ, "COLUMNS": "220"}  # one line per row
    text = subprocess.run(cli, capture_output=True, text=True, check=True, env=wide).stdout
    assert f"Leaderboard of {run.id}, by normalized_root_mean_squared_error" in text
    assert "MaxAbsScaler ElasticNet" in text and "LightGBM" in text
    assert text.index(board[0]["run_id"]) < text.index(board[-1]["run_id"])


def test_the_exit_score_ends_the_search(experiment):
    config = AutoMLConfig(task="regression", primary_metric="r2_score", training_data=_houses(),
                          label_column_name="price", iterations=30, allowed_models=["ElasticNet"],
                          experiment_exit_score=0.5, n_cross_validations=2)
    run = experiment.submit(config)
    assert run.wait_for_completion()["status"] == st.COMPLETED
    assert len(run.get_children()) < 30
    assert run.get_properties()["exit_reason"].startswith("experiment_exit_score reached: r2_score")


def test_the_budget_is_kept_and_a_model_returned(experiment):
    budget_s = 20
    config = AutoMLConfig(task="classification", training_data=_customers(), label_column_name="churned",
                          experiment_timeout_minutes=budget_s / 60, enable_early_stopping=False,
                          max_concurrent_iterations=2, n_cross_validations=2)
    started = time.monotonic()
    run = experiment.submit(config)
    details = run.wait_for_completion()
    elapsed = time.monotonic() - started
    assert details["status"] == st.COMPLETED, details["error"]
    assert elapsed <= 1.1 * budget_s + 10  # the budget as Azure's users read it: stopped, then ended
    assert run.get_output()[1] is not None
    statuses = {c.get_status() for c in run.get_children()}
    assert statuses <= {st.COMPLETED, st.CANCELED}
    for child in run.get_children(status=st.CANCELED):  # stopped at the deadline, and saying so
        assert child.get_properties()["stopped_by"] == "the AutoML run's time was up (experiment_timeout_minutes)"


def test_bad_input_is_refused_before_anything_is_recorded(experiment, workspace):
    frame = _customers(60)
    bad = [
        (dict(task="classification", training_data=frame, label_column_name="nope"),
         "label_column_name 'nope' is not a column of training_data"),
        (dict(task="classification", training_data=frame.assign(churned="yes"), label_column_name="churned"),
         "has one class only"),
        (dict(task="regression", training_data=frame, label_column_name="churned"),
         "task 'regression' needs a numeric label"),
        (dict(task="classification", training_data=frame.iloc[:0], label_column_name="churned"),
         "training_data has no rows"),
        (dict(task="classification", training_data=frame, label_column_name="churned", validation_size=0.2,
              validation_data=frame), "validation_data and validation_size cannot be given together"),
    ]
    for settings, message in bad:
        config = AutoMLConfig(**settings)
        with pytest.raises(ConfigError, match=message):
            experiment.submit(config)
    refused_at_once = [
        (dict(task="classification", primary_metric="r2_score"), "primary_metric 'r2_score' does not fit task"),
        (dict(task="classification", allowed_models=["DeepForest"]), "allowed_models: no classification model"),
        (dict(task="classification", blocked_models=["TensorFlowDNN"]), "'TensorFlowDNN' is not offered"),
        (dict(task="forecasting"), "task='forecasting' needs forecasting_parameters=ForecastingParameters"),
        (dict(task="classification", model_explainability=1), "model_explainability must be True or False"),
        (dict(task="classification", enable_stack_ensemble="yes"), "enable_stack_ensemble must be True or False"),
        (dict(task="classification", iterations=0), "iterations must be a whole number from 1 to 1000"),
        (dict(task="classification", experiment_timeout_hours=1, experiment_timeout_minutes=5),
         "give experiment_timeout_hours or experiment_timeout_minutes, not both"),
        (dict(task="classification", featurization="custom"), "featurization must be 'auto', 'off'"),
        (dict(task="classification", bogus=1), "got an unexpected argument: bogus"),
    ]
    for settings, message in refused_at_once:
        with pytest.raises(ConfigError, match=message):
            AutoMLConfig(**{"training_data": frame, "label_column_name": "churned", **settings})
    assert workspace._store.list_runs() == []


def test_a_short_budget_with_cross_validation_on_a_large_table_says_what_will_happen(experiment):
    big = pd.concat([_customers()] * 30, ignore_index=True)
    config = AutoMLConfig(task="classification", training_data=big, label_column_name="churned",
                          experiment_timeout_minutes=0.5, n_cross_validations=5, allowed_models=["LightGBM"],
                          iterations=1)
    with pytest.warns(UserWarning, match="only the cheapest configurations will finish"):
        run = experiment.submit(config)
    assert run.wait_for_completion()["status"] == st.COMPLETED


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "automl-classification"


def test_the_example_job_file_runs_from_the_command_line(tmp_path):
    example = tmp_path / "automl-classification"
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns(".runyard", "data"))
    subprocess.run([sys.executable, "make_data.py"], cwd=example, check=True, capture_output=True)
    text = (example / "automl.yml").read_text()
    (example / "automl.yml").write_text(text.replace("max_trials: 40", "max_trials: 5"))  # a short run
    subprocess.run([sys.executable, "-m", "runyard.cli", "init", "."], cwd=example, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "runyard.cli", "job", "submit", "-f", "automl.yml", "--json"],
                          cwd=example, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    details = json.loads(done.stdout)
    assert details["status"] == st.COMPLETED and details["runType"] == "automl"
    board = details["leaderboard"]
    assert len(board) == 5 and board[0]["score"] >= board[-1]["score"]
    assert {r["algorithm"] for r in board} >= {"VotingEnsemble", "StackEnsemble"}
    assert not {r["algorithm"] for r in board} & {"SVM", "KNN"}  # blocked by CLI v2's names


def test_bad_job_files_name_the_line_and_the_field(tmp_path, workspace):
    from runyard.config import load_job_file
    data = tmp_path / "d.csv"
    _houses(50).to_csv(data, index=False)
    base = "type: automl\ntask: regression\ntarget_column_name: price\ntraining_data: {path: d.csv}\n"
    bad = [
        (base + "training:\n  allowed_training_algorithms: [light_gbm, deep_forest]\n",
         r"line 6, field 'training.allowed_training_algorithms.1': no regression algorithm 'deep_forest'"),
        (base.replace("regression", "forecasting"), "field 'task': task: forecasting needs a forecasting section"),
        (base + "forecasting:\n  time_column_name: day\n", "field 'forecasting': a forecasting section is for task: "
                                                            "forecasting, not regression"),
        (base.replace("regression", "forecasting") + "forecasting:\n  time_column_name: day\n  frequency: often\n",
         "field 'forecasting': freq must be a pandas frequency"),
        (base + "featurization:\n  mode: auto\n  blocked_transformers: [tf_idf]\n",
         "field 'featurization.mode': mode 'auto' takes no blocked_transformers"),
        (base.replace("d.csv", "missing.csv"), "field 'training_data.path': 'missing.csv'"),
        (base + "limits:\n  max_trials: 0\n", "limits.max_trials"),
        (base + "primary_metric: accuracy\n", "primary_metric 'accuracy' does not fit task 'regression'"),
        (base.replace("training_data: {path: d.csv}", "training_data: azureml:nope:3"),
         "field 'training_data': dataset 'nope' is not registered"),
    ]
    for text, message in bad:
        (tmp_path / "job.yml").write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_job_file(tmp_path / "job.yml", workspace=workspace)
    good = base + "training:\n  allowed_training_algorithms: [light_gbm, ElasticNet]\n"
    (tmp_path / "job.yml").write_text(good)
    config = load_job_file(tmp_path / "job.yml", workspace=workspace).config
    assert config.allowed_models == ["LightGBM", "ElasticNet"] and config.task == "regression"


@pytest.mark.ray
@pytest.mark.postgres
def test_iterations_run_two_at_a_time_on_a_ray_cluster(ray_workspace, tmp_path):
    from runyard import Datastore, Experiment
    try:  # the cluster is on this machine: a folder of it is a datastore its jobs reach
        ray_workspace.get_default_datastore()
    except ConfigError:
        (tmp_path / "blobs").mkdir()
        Datastore.register_local(ray_workspace, "workspaceblobstore", str(tmp_path / "blobs"))
    experiment = Experiment(ray_workspace, "ray-automl")
    config = AutoMLConfig(task="classification", training_data=_customers(), label_column_name="churned",
                          compute_target="ray", iterations=6, max_concurrent_iterations=2, n_cross_validations=3,
                          allowed_models=["LightGBM", "LogisticRegression"], model_explainability=False)
    run = experiment.submit(config)
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED, details["error"]
    iterations = [c for c in run.get_children() if c.get_properties()["run_algorithm"] in ("LightGBM",
                                                                                          "LogisticRegression")]
    assert len(iterations) == 4 and {c.get_details()["target"] for c in iterations} == {"ray"}
    spans = sorted((c.get_details()["startTimeUtc"], c.get_details()["endTimeUtc"]) for c in iterations)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))  # two ran at once
    _, model = run.get_output()
    assert set(model.predict(_customers(20).drop(columns=["churned"]))) <= {"yes", "no"}


PREPARE_HOUSES = '''
import argparse, os
import numpy as np, pandas as pd
parser = argparse.ArgumentParser()
parser.add_argument("--out")
args = parser.parse_args()
rng = np.random.default_rng(4)
size = rng.uniform(40, 200, 240)
town = rng.choice(["north", "south"], 240)
price = 2.0 * size + (town == "north") * 60 + rng.normal(0, 10, 240)
os.makedirs(args.out, exist_ok=True)
pd.DataFrame({"size": size, "town": town, "price": price}).to_csv(os.path.join(args.out, "houses.csv"), index=False)
'''
USE_MODEL = '''
import argparse, json, os, pickle
import pandas as pd
from runyard import Run
parser = argparse.ArgumentParser()
parser.add_argument("--model")
parser.add_argument("--metrics")
args = parser.parse_args()
with open(os.path.join(args.model, "model.pkl"), "rb") as fh:
    model = pickle.load(fh)
predicted = model.predict(pd.DataFrame({"size": [100.0, 100.0], "town": ["north", "south"]}))
metrics = json.load(open(os.path.join(args.metrics, "metrics.json")))
run = Run.get_context()
run.log("north_premium", float(predicted[0] - predicted[1]))
run.log("iterations_seen", len(metrics))
'''


def test_an_automl_step_trains_on_an_earlier_steps_table_and_hands_on_its_model_and_metrics(
        workspace, experiment, project):
    from runyard import OutputFileDatasetConfig, Pipeline, PipelineData, PythonScriptStep
    from runyard.pipeline import AutoMLStep, TrainingOutput
    src = project({"prepare.py": PREPARE_HOUSES, "use.py": USE_MODEL})
    prepared = OutputFileDatasetConfig("prepared").read_delimited_files()
    prepare = PythonScriptStep("prepare.py", name="prepare", arguments=["--out", prepared], source_directory=src)
    model = PipelineData("best_model", training_output=TrainingOutput("Model"))
    metrics = PipelineData("all_metrics", training_output=TrainingOutput("Metrics"))
    config = AutoMLConfig(task="regression", primary_metric="r2_score", training_data=prepared,
                          label_column_name="price", iterations=4, n_cross_validations=3,
                          allowed_models=["ElasticNet", "LightGBM"], enable_stack_ensemble=False,
                          model_explainability=False)
    train = AutoMLStep("train", config, outputs=[model, metrics])
    use = PythonScriptStep("use.py", name="use", arguments=["--model", model.as_input(),
                                                            "--metrics", metrics.as_input()], source_directory=src)
    run = experiment.submit(Pipeline(workspace, [prepare, train, use]))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details.get("error")
    steps = {s.display_name: s for s in run.get_steps()}
    automl = steps["train"]
    assert automl.type == "automl" and len(automl.get_children()) == 4
    assert 40 < steps["use"].get_metrics()["north_premium"] < 80  # the model learnt the town's premium of 60
    assert steps["use"].get_metrics()["iterations_seen"] == 4
    # the table the step read is a registered dataset version, the run's input
    assert json.loads(automl._row["definition"])["training_data"]["name"] == f"{experiment.name}-train-training"

    again = experiment.submit(Pipeline(workspace, [prepare, train, use]))
    assert again.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    assert all(v is not None for v in again.get_step_reuse().values())  # the same data: the AutoML run reused


def test_an_automl_step_on_a_frame_checks_its_data_at_submission(workspace, experiment, project):
    from runyard import OutputFileDatasetConfig, Pipeline, PythonScriptStep
    from runyard.pipeline import AutoMLStep
    frame = _houses(120)
    bad = AutoMLConfig(task="regression", training_data=frame.drop(columns=["price"]).assign(price="x"),
                       label_column_name="price", iterations=2)
    with pytest.raises(ConfigError, match="step 'train': AutoMLConfig: task 'regression' needs a numeric label"):
        experiment.submit(Pipeline(workspace, [AutoMLStep("train", bad)]))
    assert list(experiment.get_runs()) == []
    config = AutoMLConfig(task="regression", training_data=frame, label_column_name="price", iterations=2,
                          allowed_models=["ElasticNet"], enable_voting_ensemble=False, enable_stack_ensemble=False,
                          model_explainability=False)
    step = AutoMLStep("train", config)  # the default outputs, Azure's names
    assert [o.name for o in step.outputs] == ["default_model_train", "default_metrics_train"]
    run = experiment.submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    automl = run.find_step_run("train")[0]
    assert {"outputs/default_model_train/model.pkl", "outputs/default_metrics_train/metrics.json"} <= \
        set(automl.get_file_names())

    with pytest.raises(ConfigError, match="outputs\\[0\\] must be a PipelineData with training_output"):
        AutoMLStep("train", config, outputs=[OutputFileDatasetConfig("other")])
    src = project({"prepare.py": PREPARE_HOUSES})
    files = OutputFileDatasetConfig("prepared")
    PythonScriptStep("prepare.py", name="prepare", arguments=["--out", files], source_directory=src)
    unread = AutoMLConfig(task="regression", training_data=files, label_column_name="price")
    with pytest.raises(ConfigError, match="say how to read it as a table: prepared.read_delimited_files"):
        AutoMLStep("train", unread)
    with pytest.raises(ConfigError, match="such a config runs as an AutoMLStep"):
        experiment.submit(AutoMLConfig(task="regression", training_data=files.read_delimited_files(),
                                       label_column_name="price"))


def test_a_killed_automl_run_is_continued_from_what_its_iterations_found(workspace, experiment, wait_for,
                                                                          process_gone):
    import signal
    from runyard import Workspace
    frame = _houses()
    config = AutoMLConfig(task="regression", primary_metric="r2_score", training_data=frame,
                          label_column_name="price", iterations=30, n_cross_validations=3,
                          allowed_models=["ElasticNet", "LightGBM", "DecisionTree"], enable_stack_ensemble=False,
                          model_explainability=False)
    first = experiment.submit(config)
    wait_for(lambda: len([c for c in first.get_children() if c.get_status() == st.COMPLETED]) >= 4, timeout=180,
             what="four iterations to complete")
    driver = workspace._store.get_run(first.id)["supervisor_pid"]
    os.kill(driver, signal.SIGKILL)
    wait_for(lambda: process_gone(driver), what="the driver to die")
    Workspace.get(workspace.path)  # opening the workspace notices the lost run
    assert first.get_status() == st.FAILED
    for child in first.get_children():
        child.wait_for_completion(raise_on_error=False)
    earlier = {c.id: json.loads(c.get_properties()["run_properties"]) for c in first.get_children()
               if c.get_status() == st.COMPLETED}
    best_before = max(c.get_metrics()["r2_score"] for c in first.get_children() if c.get_status() == st.COMPLETED)

    with pytest.raises(ConfigError, match="it takes iterations"):
        first.continue_experiment(training_data=frame)
    second = first.continue_experiment(iterations=5)
    assert second.get_properties()["continued_from"] == first.id
    assert second.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    children = second.get_children()
    assert len(children) == 5
    algorithms = [c.get_properties()["run_algorithm"] for c in children]
    assert algorithms[-1] == "VotingEnsemble" or "VotingEnsemble" in algorithms
    # the search went on from the earlier iterations: no starting point tried twice
    again = [json.loads(c.get_properties()["run_properties"]) for c in children
             if c.get_properties()["run_algorithm"] != "VotingEnsemble"]
    assert not [c for c in again if c in earlier.values()]
    best, _ = second.get_output()
    assert best.get_metrics()["r2_score"] >= best_before - 1e-9  # an earlier iteration counts for the best
    with pytest.raises(ConfigError, match="can be continued once it has ended"):
        busy = experiment.submit(AutoMLConfig(task="regression", training_data=frame, label_column_name="price",
                                              iterations=3, allowed_models=["ElasticNet"]))
        busy.continue_experiment()
    busy.wait_for_completion(raise_on_error=False)


@pytest.mark.docker
def test_iterations_run_two_at_a_time_in_containers(workspace, experiment, docker_target):
    """Each iteration a container of the config's environment, two at a time; none is left (the
    docker_target fixture checks)."""
    from runyard import Environment
    env = Environment("automl-docker")
    for package in ("scikit-learn>=1.3,<2", "pandas>=2", "pyarrow>=14"):
        env.python.conda_dependencies.add_pip_package(package)
    config = AutoMLConfig(task="regression", training_data=_houses(200), label_column_name="price", iterations=5,
                          n_cross_validations=3, allowed_models=["ElasticNet", "DecisionTree"],
                          compute_target=docker_target, environment=env, max_concurrent_iterations=2,
                          enable_stack_ensemble=False, model_explainability=False)
    run = experiment.submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details.get("error")
    children = [c for c in run.get_children() if c.get_properties()["run_algorithm"] != "VotingEnsemble"]
    assert len(children) == 4 and all(c.get_details()["target"] == docker_target for c in children)
    spans = sorted((c._row["start_time"], c._row["end_time"]) for c in children)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))  # two ran at once
    _, model = run.get_output()
    assert model.predict(_houses(5).drop(columns=["price"])).shape == (5,)


def test_the_regression_example_runs_as_its_docstring_says(tmp_path):
    example = tmp_path / "automl-regression"
    shutil.copytree(EXAMPLE.parent / "automl-regression", example, ignore=shutil.ignore_patterns(".runyard", "data"))
    subprocess.run([sys.executable, "make_data.py"], cwd=example, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "automl.py", "--iterations", "4"], cwd=example, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "best:" in done.stdout and "held-back flats: median error" in done.stdout


def _job_pid(run_id: str) -> int | None:
    """The process of this machine running the job of ``run_id`` (its RUNYARD_RUN_ID)."""
    from runyard.run import ENV_RUN_ID
    wanted = f"{ENV_RUN_ID}={run_id}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if wanted in variables and b"automl_iteration.py" in command:
            return int(entry.name)
    return None


def test_an_iteration_killed_as_the_oom_killer_would_fails_alone_and_the_search_goes_on(experiment, wait_for):
    import signal
    frame = _houses(2000)
    config = AutoMLConfig(task="regression", training_data=frame, label_column_name="price", iterations=6,
                          n_cross_validations=10, allowed_models=["ElasticNet", "RandomForest"],
                          enable_stack_ensemble=False, model_explainability=False)
    run = experiment.submit(config)
    found: dict[str, int] = {}

    def running_job() -> bool:
        for child in run.get_children():
            if child.get_status() == st.RUNNING:
                pid = _job_pid(child.id)
                if pid is not None:
                    found[child.id] = pid
                    return True
        return False

    wait_for(running_job, timeout=120, what="an iteration's process")
    victim, pid = next(iter(found.items()))
    os.kill(pid, signal.SIGKILL)  # what the kernel's OOM killer does to the biggest process
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details.get("error")
    children = {c.id: c for c in run.get_children()}
    assert children[victim].get_status() == st.FAILED
    assert "killed by SIGKILL" in children[victim].get_details()["error"]["message"]
    assert len(children) == 6 and sum(c.get_status() == st.COMPLETED for c in children.values()) == 5
    best, _ = run.get_output()
    assert best.id != victim
