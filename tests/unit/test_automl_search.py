"""AutoML's search: the first round (every algorithm's cheapest point, then the libraries'
defaults), and a continued search that starts from an earlier run's iterations."""

from __future__ import annotations

from runyard.automl import models
from runyard.automl.search import Search


def test_every_algorithm_first_then_the_library_defaults_then_by_cost():
    search = Search("regression", ["ElasticNet", "LightGBM", "RandomForest"], rows=1500, columns=10, maximize=True)
    proposed = [search.propose(i) for i in range(5)]
    assert [name for name, _ in proposed[:3]] == ["LightGBM", "RandomForest", "ElasticNet"]  # cheapest first
    assert proposed[0][1]["n_estimators"] == 4  # FLAML's low-cost start
    assert proposed[3][0] == "LightGBM" and proposed[3][1]["n_estimators"] == 100  # LightGBM's own defaults
    assert proposed[3][1]["num_leaves"] == 31
    for index, (name, _) in enumerate(proposed):
        search.tell(index, {"LightGBM": 0.5, "RandomForest": 0.4, "ElasticNet": 0.3}[name], 1.0)


def test_the_defaults_stay_inside_a_small_tables_space():
    space = models.space("classification", "LightGBM", 40, 4)
    point = models.library_defaults("LightGBM", space)
    assert point["n_estimators"] <= space["n_estimators"]["domain"].upper
    assert models.library_defaults("RandomForest", models.space("classification", "RandomForest", 40, 4)) is None


def test_a_continued_search_tries_no_earlier_starting_point_again():
    first = Search("regression", ["LightGBM", "ElasticNet"], rows=1500, columns=10, maximize=True)
    earlier = []
    for index in range(4):
        name, config = first.propose(index)
        earlier.append((name, config, 0.5 + index / 10, 1.0))
    second = Search("regression", ["LightGBM", "ElasticNet"], rows=1500, columns=10, maximize=True, earlier=earlier)
    again = [second.propose(i) for i in range(6)]
    assert not [p for p in again if p is not None and (p[0], p[1]) in [(n, c) for n, c, _, _ in earlier]]
    assert second.learners["LightGBM"].tried >= 2  # the earlier tries count
