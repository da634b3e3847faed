"""One AutoML iteration for every algorithm of the catalogue, on raw frames: fitted, scored under
the validation plan, and a model that predicts from raw data (pickled as a run keeps it)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from runyard.automl import models
from runyard.automl.iteration import fit_and_score
from runyard.automl.validation import ValidationPlan
from runyard.errors import ConfigError


def _classification_frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    score = x1 + 0.5 * x2 + (colour == "red") * 1.0
    label = np.where(score > 1.2, "high", np.where(score > -0.2, "mid", "low"))
    return pd.DataFrame({"x1": np.where(rng.random(rows) < 0.05, np.nan, x1), "x2": x2, "colour": colour,
                         "label": label})


def _regression_frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=rows), rng.uniform(0, 5, rows)
    city = rng.choice(["a", "b", "c", "d"], rows)
    target = 3 * x1 + x2 ** 2 + (city == "a") * 4 + rng.normal(scale=0.3, size=rows)
    return pd.DataFrame({"x1": x1, "x2": x2, "city": city, "y": target})


@pytest.mark.parametrize("algorithm", models.names("classification"))
def test_every_classification_algorithm_fits_scores_and_predicts_raw_frames(algorithm):
    frame = _classification_frame()
    config = models.starting_point(models.space("classification", algorithm, len(frame), 3))
    result = fit_and_score("classification", frame, "label", algorithm, config, ValidationPlan("cv", folds=3))
    assert result.folds == 3 and 0 <= result.scores["accuracy"] <= 1
    assert result.scores["accuracy"] > 0.45, result.scores  # three classes: better than always the largest
    assert result.predictions.shape == (len(frame), 3) and not np.isnan(result.predictions).any()
    model = pickle.loads(pickle.dumps(result.model))
    raw = frame.drop(columns=["label"]).head(7)
    assert set(model.predict(raw)) <= {"high", "mid", "low"}
    assert model.predict_proba(raw).shape == (7, 3) and list(model.classes_) == ["high", "low", "mid"]


@pytest.mark.parametrize("algorithm", models.names("regression"))
def test_every_regression_algorithm_fits_scores_and_predicts_raw_frames(algorithm):
    frame = _regression_frame()
    config = models.starting_point(models.space("regression", algorithm, len(frame), 3))
    result = fit_and_score("regression", frame, "y", algorithm, config, ValidationPlan("holdout", size=0.2))
    assert result.folds == 1
    assert 0 <= result.scores["normalized_root_mean_squared_error"] <= 1
    validated = ~np.isnan(result.predictions)
    assert validated.sum() == 60  # the holdout's rows
    predicted = pickle.loads(pickle.dumps(result.model)).predict(frame.drop(columns=["y"]).head(5))
    assert predicted.shape == (5,) and np.isfinite(predicted).all()


def test_a_good_configuration_scores_well_and_validation_data_is_used():
    frame = _regression_frame(600)
    train, valid = frame.iloc[:500], frame.iloc[500:]
    config = {"n_estimators": 200, "num_leaves": 8, "learning_rate": 0.1, "min_child_samples": 10}
    result = fit_and_score("regression", train, "y", "LightGBM", config, ValidationPlan("validation_data"),
                           validation_frame=valid)
    assert result.scores["r2_score"] > 0.9
    from sklearn.metrics import r2_score
    assert result.scores["r2_score"] == pytest.approx(r2_score(valid["y"], result.model.predict(valid)))


def test_model_names_are_checked_against_azures_catalogue():
    assert models.check_names("regression", ["LightGBM"], "allowed_models") == ["LightGBM"]
    with pytest.raises(ConfigError, match="allowed_models: no classification model 'LightGBMX'; valid: Logistic"):
        models.check_names("classification", ["LightGBMX"], "allowed_models")
    with pytest.raises(ConfigError, match="'TensorFlowDNN' is not offered by runyard"):
        models.check_names("classification", ["TensorFlowDNN"], "blocked_models")
    with pytest.raises(ConfigError, match="blocked_models must be a list of model names"):
        models.check_names("regression", "LightGBM", "blocked_models")
    assert "KNN" not in models.chosen("classification", None, None, rows=6000)
    assert models.chosen("classification", ["KNN"], None, rows=6000) == ["KNN"]
    with pytest.raises(ConfigError, match="leaves no regression model to try"):
        models.chosen("regression", ["LightGBM"], ["LightGBM"], rows=10)


def test_an_algorithm_that_takes_no_weights_says_so():
    frame = _regression_frame().assign(w=1.0)
    config = models.starting_point(models.space("regression", "KNN", len(frame), 3))
    result = fit_and_score("regression", frame, "y", "KNN", config, ValidationPlan("holdout", size=0.2),
                           weight_column="w")
    assert result.notes == ["KNN takes no sample weights: it was fitted unweighted (its scores are weighted)"]
    weighted = fit_and_score("regression", frame, "y", "LightGBM",
                             models.starting_point(models.space("regression", "LightGBM", len(frame), 3)),
                             ValidationPlan("holdout", size=0.2), weight_column="w")
    assert weighted.notes == []


def test_an_iteration_builds_its_estimator_from_a_json_spec_without_flaml(tmp_path):
    import json
    import subprocess
    import sys
    spec = models.estimator_spec("classification", "LightGBM", {"n_estimators": 7, "num_leaves": 5}, classes=3,
                                 cores=1)
    assert spec["class"] == "lightgbm.sklearn:LGBMClassifier" and spec["params"]["n_estimators"] == 7
    assert models.from_spec("classification", json.loads(json.dumps(spec))).get_params()["num_leaves"] == 5
    frame = _classification_frame()
    frame.to_csv(tmp_path / "train.csv", index=False)
    code = f"""
import json, sys, pandas as pd
from runyard.automl.iteration import fit_and_score
from runyard.automl.validation import ValidationPlan
result = fit_and_score("classification", pd.read_csv({str(tmp_path / 'train.csv')!r}), "label", "LightGBM", {{}},
                       ValidationPlan("cv", folds=2), estimator=json.loads({json.dumps(json.dumps(spec))}))
print(result.scores["accuracy"] > 0.4, "flaml" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "False"]
    with pytest.raises(ConfigError, match="is not from scikit-learn, LightGBM or XGBoost"):
        models.from_spec("classification", {"class": "os:system", "params": {}})
