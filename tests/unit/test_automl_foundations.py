"""AutoML's foundations against Azure ML's documented rules: metric names and goals, the
validation-default table, automatic featurisation on raw frames, and the guardrails."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest

from runyard.automl import FeaturizationConfig
from runyard.automl import metrics as am
from runyard.automl import validation as av
from runyard.automl.featurization import Featurizer, detect_purpose
from runyard.automl.guardrails import ALERTED, DONE, PASSED, check, class_balance, format_console, verifier_results
from runyard.errors import ConfigError


# -- metrics --------------------------------------------------------------------------------------
def test_primary_metrics_per_task_and_their_defaults():
    assert set(am.primary_metrics("classification")) == {
        "accuracy", "AUC_weighted", "average_precision_score_weighted", "norm_macro_recall", "precision_score_weighted"}
    assert am.check_primary_metric("classification", None) == "accuracy"
    assert am.check_primary_metric("regression", None) == "normalized_root_mean_squared_error"
    assert am.check_primary_metric("forecasting", None) == "normalized_root_mean_squared_error"
    with pytest.raises(ConfigError, match=r"primary_metric 'r2_score' does not fit task 'classification' "
                                          r"\('r2_score' is a regression metric\); valid: accuracy"):
        am.check_primary_metric("classification", "r2_score")
    with pytest.raises(ConfigError, match="task must be one of 'classification', 'regression', 'forecasting'"):
        am.check_task("clustering")
    assert not am.maximize("normalized_mean_absolute_error") and am.maximize("AUC_weighted")
    assert am.better("normalized_root_mean_squared_error", 0.1, 0.2) and not am.better("accuracy", 0.1, 0.2)
    assert am.better("accuracy", 0.1, None) and not am.better("accuracy", math.nan, 0.1)


def test_classification_scores_follow_azures_definitions():
    y = np.array(["a", "a", "a", "b", "b", "c"])
    pred = np.array(["a", "a", "b", "b", "b", "a"])
    classes = np.array(["a", "b", "c"])
    proba = np.array([[.8, .1, .1], [.7, .2, .1], [.3, .6, .1], [.1, .8, .1], [.2, .7, .1], [.5, .2, .3]])
    scores = am.classification_scores(y, pred, proba, classes)
    assert set(scores) == set(am.CLASSIFICATION_METRICS)
    assert scores["accuracy"] == pytest.approx(4 / 6)
    recalls = [2 / 3, 1.0, 0.0]
    assert scores["recall_score_macro"] == pytest.approx(np.mean(recalls))
    # (macro recall - 1/C) / (1 - 1/C): random guessing scores 0
    assert scores["norm_macro_recall"] == pytest.approx((np.mean(recalls) - 1 / 3) / (2 / 3))
    # each sample weighted by its class's share: (3/6*2 + 2/6*2 + 1/6*0) / (3/6*3 + 2/6*2 + 1/6*1)
    assert scores["weighted_accuracy"] == pytest.approx((1 + 2 / 3) / (1.5 + 2 / 3 + 1 / 6))
    # AUC per class, weighted by its rows
    from sklearn.metrics import roc_auc_score
    per_class = [roc_auc_score(y == c, proba[:, i]) for i, c in enumerate(classes)]
    assert scores["AUC_weighted"] == pytest.approx(np.average(per_class, weights=[3, 2, 1]))
    assert scores["AUC_macro"] == pytest.approx(np.mean(per_class))
    for name in am.CLASSIFICATION_METRICS:  # one metric alone (what ensemble selection asks) is the same
        alone = am.classification_scores(y, pred, proba, classes, only={name})
        assert name in alone and len(alone) <= 4 and alone[name] == scores[name], name


def test_regression_scores_normalise_by_the_training_range_and_clip():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.5, 2.0, 2.5, 5.0])
    scores = am.regression_scores(y, pred, y_min=0.0, y_max=10.0)
    assert set(scores) == set(am.REGRESSION_METRICS)
    rmse = math.sqrt(np.mean((y - pred) ** 2))
    assert scores["root_mean_squared_error"] == pytest.approx(rmse)
    assert scores["normalized_root_mean_squared_error"] == pytest.approx(rmse / 10)
    assert scores["normalized_mean_absolute_error"] == pytest.approx(np.mean(np.abs(y - pred)) / 10)
    hopeless = am.regression_scores(y, -100 * y, y_min=1.0, y_max=4.0)
    assert hopeless["r2_score"] == -1.0 and hopeless["normalized_root_mean_squared_error"] == 1.0
    assert math.isnan(hopeless["root_mean_squared_log_error"])  # negative predictions


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("rows, kind, folds, size", [
    (999, "cv", 10, None), (1000, "cv", 3, None), (19_999, "cv", 3, None), (20_000, "holdout", None, 0.1)])
def test_the_validation_default_table(rows, kind, folds, size):
    plan = av.plan(rows)
    assert (plan.kind, plan.folds, plan.size) == (kind, folds, size)


def test_validation_settings_and_their_errors():
    assert av.plan(100, validation_size=0.2).kind == "holdout"
    assert av.plan(100, n_cross_validations=5).folds == 5
    monte_carlo = av.plan(100, validation_size=0.2, n_cross_validations=4)
    assert (monte_carlo.kind, monte_carlo.folds, monte_carlo.size) == ("monte_carlo", 4, 0.2)
    assert av.plan(100, validation_data="frame").kind == "validation_data"
    assert av.plan(100, cv_split_column_names=["f1", "f2"], columns=["x", "f1", "f2"]).columns == ("f1", "f2")
    bad = [({"validation_data": "v", "n_cross_validations": 3}, "validation_data and n_cross_validations cannot be"),
           ({"cv_split_column_names": ["f"], "validation_size": 0.1}, "validation_size and cv_split_column_names"),
           ({"validation_size": 1.0}, "validation_size must be a share of the rows between 0 and 1"),
           ({"validation_size": True}, "validation_size must be a share"),
           ({"n_cross_validations": 1}, "n_cross_validations must be a whole number of folds from 2 to 1000"),
           ({"n_cross_validations": 2.0}, "n_cross_validations must be a whole number"),
           ({"n_cross_validations": 101}, "n_cross_validations=101 is more folds than the 100 rows"),
           ({"cv_split_column_names": ["nope"], "columns": ["x"]}, "no column 'nope' in the training data")]
    for settings, message in bad:
        with pytest.raises(ConfigError, match=message):
            av.plan(100, **settings)
    with pytest.raises(ConfigError, match="needs at least 2"):
        av.plan(1)


def test_splits_are_seeded_stratified_and_cover_every_row():
    y = np.array([0] * 90 + [1] * 10)
    folds = list(av.plan(100, n_cross_validations=5).splits(y, classification=True))
    assert sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(100))
    assert all(y[v].sum() == 2 for _, v in folds)  # 10 of class 1 over 5 folds: stratified
    again = list(av.plan(100, n_cross_validations=5).splits(y, classification=True))
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))
    (train, valid), = av.plan(100, validation_size=0.2).splits(y, classification=True)
    assert len(valid) == 20 and not set(train) & set(valid)
    frame = pd.DataFrame({"f": [1] * 70 + [0] * 30})
    (train, valid), = av.ValidationPlan("cv_columns", columns=("f",)).splits(y, classification=True, frame=frame)
    assert train.tolist() == list(range(70)) and valid.tolist() == list(range(70, 100))


# -- featurisation ----------------------------------------------------------------------------------
def _raw_frame(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": np.where(rng.random(rows) < 0.1, np.nan, rng.normal(40, 10, rows)),
        "income": rng.lognormal(10, 1, rows),
        "children": rng.integers(0, 4, rows),
        "city": rng.choice(["Paris", "Lyon", "Nice", None], rows),
        "zip": [f"Z{v}" for v in rng.integers(0, 150, rows)],
        "customer_id": [f"C{i:06d}" for i in range(rows)],
        "signup": pd.date_range("2024-01-01", periods=rows, freq="D").astype(str),
        "review": [" ".join(rng.choice(["good", "bad", "fast", "slow", "kind", "rude", "late"], 5)) + f" n{i}"
                   for i in range(rows)],
        "constant": ["same"] * rows,
        "empty": [np.nan] * rows,
    })


def test_auto_featurisation_decides_each_columns_purpose_as_azure_does():
    frame = _raw_frame()
    purposes = {c: detect_purpose(frame[c])[0] for c in frame.columns}
    assert purposes == {"age": "Numeric", "income": "Numeric", "children": "Categorical", "city": "Categorical",
                        "zip": "CategoricalHash", "customer_id": "Hashes", "signup": "DateTime", "review": "Text",
                        "constant": "Ignore", "empty": "AllNan"}


def test_the_fitted_featuriser_transforms_raw_frames_and_says_what_it_did():
    frame = _raw_frame()
    featurizer = Featurizer().fit(frame)
    matrix = featurizer.transform(frame)
    assert matrix.shape[0] == len(frame) and matrix.shape[1] == len(featurizer.raw_columns_)
    assert not np.isnan(matrix.toarray() if hasattr(matrix, "toarray") else matrix).any()
    names = featurizer.get_engineered_feature_names()
    assert len(names) == matrix.shape[1] and "age_WASNULL" in names and "signup_year" in names
    summary = {row["RawFeatureName"]: row for row in featurizer.get_featurization_summary()}
    assert summary["age"]["Tranformations"] == ["MeanImputer", "ImputationMarker"]
    assert summary["customer_id"]["Dropped"] == "Yes" and summary["empty"]["Dropped"] == "Yes"
    assert summary["zip"]["EngineeredFeatureCount"] == 2 ** (int(math.log2(150)) + 1)
    # a new frame: unseen categories, missing values, columns in another order; pickled as a model is
    fresh = frame.sample(20, random_state=1)[list(reversed(frame.columns))]
    fresh.loc[fresh.index[0], "city"] = "Berlin"
    fresh.loc[fresh.index[1], "income"] = np.nan
    again = pickle.loads(pickle.dumps(featurizer))
    out = again.transform(fresh)
    assert out.shape == (20, matrix.shape[1])
    with pytest.raises(ConfigError, match="the frame lacks column 'income'"):
        again.transform(fresh.drop(columns=["income"]))


def test_featurization_config_overrides_and_checks():
    frame = _raw_frame()
    config = FeaturizationConfig()
    config.add_column_purpose("children", "Numeric")
    config.add_transformer_params("Imputer", ["age"], {"strategy": "median"})
    config.add_transformer_params("HashOneHotEncoder", [], {"number_of_bits": 3})
    config.add_blocked_transformers(["CountVectorizer"])
    config.add_drop_columns(["income"])
    featurizer = Featurizer(config=config).fit(frame)
    summary = {row["RawFeatureName"]: row for row in featurizer.get_featurization_summary()}
    assert summary["children"]["TypeDetected"] == "Numeric"
    assert summary["age"]["Tranformations"][0] == "MedianImputer"
    assert summary["zip"]["EngineeredFeatureCount"] == 8
    assert summary["review"]["Dropped"] == "Yes" and summary["income"]["Dropped"] == "Yes"
    assert FeaturizationConfig.from_json(config.to_json()).to_json() == config.to_json()
    bad = [(lambda c: c.add_column_purpose("x", "Number"), "feature_type must be one of Numeric, DateTime"),
           (lambda c: c.add_transformer_params("Scaler", ["x"], {}), "transformer must be one of Imputer"),
           (lambda c: c.add_transformer_params("Imputer", ["x"], {"strategy": "mode"}), "strategy must be one of"),
           (lambda c: c.add_transformer_params("Imputer", ["x"], {"strategy": "constant"}), "needs fill_value"),
           (lambda c: c.add_transformer_params("Imputer", ["x"], {"fill": 0}), "unknown parameter 'fill'"),
           (lambda c: c.add_blocked_transformers("Magic"), "blocked transformer 'Magic': valid names are")]
    for change, message in bad:
        with pytest.raises(ConfigError, match=message):
            change(FeaturizationConfig())
    named = FeaturizationConfig(column_purposes={"nope": "Numeric"})
    with pytest.raises(ConfigError, match="names column 'nope', which the training data does not have"):
        Featurizer(config=named).fit(frame)


def test_featurization_off_takes_numeric_columns_only():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    with pytest.raises(ConfigError, match="featurization='off' needs numeric columns; column 'b' is"):
        Featurizer("off").fit(frame)
    assert Featurizer("off").fit_transform(frame[["a"]]).shape == (3, 1)
    with pytest.raises(ConfigError, match="featurization must be 'auto', 'off' or a FeaturizationConfig"):
        Featurizer("on")


# -- guardrails ------------------------------------------------------------------------------------
def test_class_balancing_is_alerted_at_a_fifth_or_less():
    assert class_balance([0] * 100 + [1] * 20).status == ALERTED
    assert class_balance([0] * 100 + [1] * 21).status == PASSED


def test_guardrails_of_a_run_and_their_azure_shape():
    frame = _raw_frame()
    y = np.array([0] * 300 + [1] * 100)
    featurizer = Featurizer().fit(frame)
    found = {g.type: g for g in check("classification", y, featurizer, av.plan(len(frame)))}
    assert found["Validation split handling"].status == DONE
    assert "10-fold cross-validation" in found["Validation split handling"].description
    assert found["Class balancing detection"].status == PASSED
    imputed = found["Missing feature values imputation"]
    assert imputed.status == DONE and {p["Column name"] for p in imputed.parameters} == {"age", "city"}
    cardinality = found["High cardinality feature detection"]
    assert {(p["Column name"], p["Action"]) for p in cardinality.parameters} == {("zip", "hashed"),
                                                                                ("customer_id", "dropped")}
    results = verifier_results(list(found.values()))
    assert results["faults"][0]["friendly_type"] == "Validation split handling"
    text = format_console(results)
    assert "TYPE:         Class balancing detection" in text and "STATUS:       DONE" in text
    assert format_console({"faults": []}) == "Guardrail verification completed without any detected problems."
