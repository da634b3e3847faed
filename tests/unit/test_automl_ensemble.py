"""The ensembles of AutoML's last iterations, on validation predictions made up here."""

from __future__ import annotations

import numpy as np
import pytest

from runyard.automl import ensemble as en


def _members(y, rng):
    # two noisy regressors whose errors cancel, and a poor one
    a = y + rng.normal(0, 1.0, len(y))
    b = y + rng.normal(0, 1.0, len(y))
    poor = rng.normal(0, 5.0, len(y))
    from runyard.automl.metrics import regression_scores
    score = lambda p: regression_scores(y, p, float(y.min()), float(y.max()))["normalized_root_mean_squared_error"]
    return [en.Member("a", "LightGBM", score(a), a), en.Member("b", "ElasticNet", score(b), b),
            en.Member("poor", "KNN", score(poor), poor)]


def test_greedy_selection_averages_complementary_members_and_leaves_out_a_poor_one():
    rng = np.random.default_rng(0)
    y = rng.normal(0, 3, 600)
    members = en.pool(_members(y, rng), "normalized_root_mean_squared_error")
    assert members[-1].run_id == "poor"  # best first
    folds = [np.arange(i, 600, 3) for i in range(3)]
    weights, scores = en.select_voting("regression", "normalized_root_mean_squared_error", members, y, folds, None,
                                       (float(y.min()), float(y.max())))
    assert weights[-1] == 0 and weights[0] > 0 and weights[1] > 0 and sum(weights) == pytest.approx(1)
    assert scores["normalized_root_mean_squared_error"] < min(m.score for m in members)


def test_the_stack_is_scored_on_rows_its_meta_learner_did_not_see():
    rng = np.random.default_rng(1)
    y = rng.normal(0, 3, 600)
    folds = [np.arange(i, 600, 3) for i in range(3)]
    meta, scores = en.fit_stack("regression", _members(y, rng), y, folds, None, (float(y.min()), float(y.max())))
    assert scores["r2_score"] > 0.8 and meta.predict(np.zeros((1, 3))).shape == (1,)
    # members that are noise: a meta-learner scored on the rows it was fitted on would look
    # better than chance (80 features, 120 rows); cross-validated over the folds it does not
    labels = rng.integers(0, 2, 120)
    noise = [en.Member(str(i), "KNN", 0.5, rng.dirichlet([1, 1], 120)) for i in range(40)]
    _, noisy = en.fit_stack("classification", noise, labels, [np.arange(i, 120, 4) for i in range(4)],
                            np.array([0, 1]), None)
    assert noisy["accuracy"] < 0.65


def test_classification_ensembles_average_probabilities():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 400)
    classes = np.array([0, 1])
    def proba(noise):
        p1 = np.clip(0.5 + (y - 0.5) * 0.6 + rng.normal(0, noise, len(y)), 0.01, 0.99)
        return np.stack([1 - p1, p1], axis=1)
    from runyard.automl.metrics import classification_scores
    members = []
    for name, noise in (("a", 0.35), ("b", 0.35), ("c", 0.35)):
        p = proba(noise)
        members.append(en.Member(name, "LightGBM", classification_scores(y, p.argmax(1), p, classes)["accuracy"], p))
    folds = [np.arange(i, 400, 4) for i in range(4)]
    weights, scores = en.select_voting("classification", "accuracy", en.pool(members, "accuracy"), y, folds,
                                       classes, None)
    assert scores["accuracy"] >= max(m.score for m in members) - 0.02
    meta, stacked = en.fit_stack("classification", members, y, folds, classes, None)
    assert 0.5 < stacked["accuracy"] <= 1 and meta.predict_proba(np.zeros((2, 6))).shape == (2, 2)


def test_an_ensemble_is_built_only_in_what_is_left_of_the_budget():
    import time
    from types import SimpleNamespace
    from runyard.automl._driver import AutoMLDriver
    said: list[str] = []
    driver = SimpleNamespace(final_deadline=time.monotonic() + 10, log=said.append)
    assert AutoMLDriver.budget_left(driver, "VotingEnsemble")
    assert AutoMLDriver.budget_left(driver, "StackEnsemble", 4.0, 12)
    assert not AutoMLDriver.budget_left(driver, "StackEnsemble", 30.0, 12)
    assert said == ["StackEnsemble not built: its 12 models would take about 30 s, over the 10 s left in the budget"]
    driver.final_deadline = time.monotonic() - 1
    assert not AutoMLDriver.budget_left(driver, "VotingEnsemble")
    assert said[-1] == "VotingEnsemble not built: the budget is spent"
