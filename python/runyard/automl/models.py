"""The algorithms AutoML tries, under Azure ML's names, each with its search space.

Every entry names the kept library that trains it and where its hyperparameter space
comes from: FLAML's estimator spaces (which also turn a point of the space into the
library's parameters, and know a cheap starting point), or a small space written here
for the few algorithms FLAML has none for. A model is a plain scikit-learn, LightGBM or
XGBoost estimator, so a fitted model needs no FLAML to predict.

Names Azure has but runyard does not offer (its deprecated TensorFlow models and its
streaming learners for data too large for memory) are refused with the list of those it
has, as are names Azure never had.

>>> names("regression")[:4]
('ElasticNet', 'GradientBoosting', 'DecisionTree', 'KNN')
>>> check_names("classification", ["LightGBM", "RandomForest"], "allowed_models")
['LightGBM', 'RandomForest']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigError


@dataclass(frozen=True)
class Algorithm:
    name: str  # Azure's name
    flaml: str | None  # FLAML's estimator key, where its space is used
    scaled: bool  # takes its features scaled (linear models, distances); trees do not
    space: Callable[[int, int], dict[str, Any]] | None = None  # a space of its own: (rows, columns) -> space
    build: Callable[[str, dict[str, Any]], Any] | None = None  # its estimator: (task, config) -> model
    dense: bool = False  # needs a dense matrix
    statistical: bool = False  # a forecaster per series (statsforecast), with no space to search

    @property
    def preprocessor(self) -> str:
        """Azure's ``run_preprocessor`` of this algorithm's pipeline."""
        return "MaxAbsScaler" if self.scaled else ""


def _tree_space(rows: int, columns: int) -> dict[str, Any]:
    from flaml import tune
    return {"max_depth": {"domain": tune.randint(2, 31), "init_value": 4, "low_cost_init_value": 2},
            "min_samples_leaf": {"domain": tune.lograndint(1, max(2, rows // 20)), "init_value": 1},
            "criterion": {"domain": tune.choice(["gini", "entropy"])}}


def _build_tree(task: str, config: dict[str, Any]) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    params = dict(config)
    if task != "classification":
        params["criterion"] = "squared_error"
        return DecisionTreeRegressor(random_state=0, **params)
    return DecisionTreeClassifier(random_state=0, **params)


def _svm_space(rows: int, columns: int) -> dict[str, Any]:
    from flaml import tune
    return {"C": {"domain": tune.loguniform(1e-2, 1e3), "init_value": 1.0},
            "gamma": {"domain": tune.loguniform(1e-4, 10), "init_value": 1.0 / max(columns, 1)}}


def _build_svm(task: str, config: dict[str, Any]) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC
    return CalibratedClassifierCV(SVC(random_state=0, **config), ensemble=False)  # probabilities by Platt scaling


def _nb_space(rows: int, columns: int) -> dict[str, Any]:
    from flaml import tune
    return {"alpha": {"domain": tune.loguniform(1e-3, 10), "init_value": 1.0}}


def _build_multinomial_nb(task: str, config: dict[str, Any]) -> Any:
    from sklearn.naive_bayes import MultinomialNB
    return MultinomialNB(**config)


def _build_bernoulli_nb(task: str, config: dict[str, Any]) -> Any:
    from sklearn.naive_bayes import BernoulliNB
    return BernoulliNB(**config)


_CLASSIFICATION = (
    Algorithm("LogisticRegression", "lrl2", True),
    Algorithm("SGD", "sgd", True),
    Algorithm("MultinomialNaiveBayes", None, True, _nb_space, _build_multinomial_nb),
    Algorithm("BernoulliNaiveBayes", None, True, _nb_space, _build_bernoulli_nb),
    Algorithm("SVM", None, True, _svm_space, _build_svm),
    Algorithm("LinearSVM", "svc", True),
    Algorithm("KNN", "kneighbor", True),
    Algorithm("DecisionTree", None, False, _tree_space, _build_tree),
    Algorithm("RandomForest", "rf", False),
    Algorithm("ExtremeRandomTrees", "extra_tree", False),
    Algorithm("LightGBM", "lgbm", False),
    Algorithm("GradientBoosting", "histgb", False, dense=True),
    Algorithm("XGBoostClassifier", "xgboost", False),
)
_REGRESSION = (
    Algorithm("ElasticNet", "enet", True),
    Algorithm("GradientBoosting", "histgb", False, dense=True),
    Algorithm("DecisionTree", None, False, _tree_space, _build_tree),
    Algorithm("KNN", "kneighbor", True),
    Algorithm("LassoLars", "lassolars", True, dense=True),
    Algorithm("SGD", "sgd", True),
    Algorithm("RandomForest", "rf", False),
    Algorithm("ExtremeRandomTrees", "extra_tree", False),
    Algorithm("LightGBM", "lgbm", False),
    Algorithm("XGBoostRegressor", "xgboost", False),
)
#: forecasting: statsforecast's models per series, then the regression models over lag and
#: calendar features of every series (``forecasters``)
_FORECASTING = (
    Algorithm("Naive", None, False, statistical=True),
    Algorithm("SeasonalNaive", None, False, statistical=True),
    Algorithm("Average", None, False, statistical=True),
    Algorithm("SeasonalAverage", None, False, statistical=True),
    Algorithm("ExponentialSmoothing", None, False, statistical=True),
    Algorithm("AutoArima", None, False, statistical=True),
    *_REGRESSION,
)
CATALOGUE: dict[str, tuple[Algorithm, ...]] = {"classification": _CLASSIFICATION, "regression": _REGRESSION,
                                               "forecasting": _FORECASTING}
#: Azure's names runyard does not offer, and why
NOT_OFFERED = {
    "TensorFlowDNN": "Azure's TensorFlow models are deprecated there",
    "TensorFlowLinearClassifier": "Azure's TensorFlow models are deprecated there",
    "TensorFlowLinearRegressor": "Azure's TensorFlow models are deprecated there",
    "AveragedPerceptronClassifier": "Azure's streaming learners are for data larger than memory",
    "FastLinearRegressor": "Azure's streaming learners are for data larger than memory",
    "OnlineGradientDescentRegressor": "Azure's streaming learners are for data larger than memory",
    "Prophet": "Prophet is not among runyard's dependencies; ExponentialSmoothing and AutoArima are",
    "Arimax": "runyard's AutoArima takes no features; the regression models forecast from them",
    "TCNForecaster": "Azure's deep-learning forecaster needs a GPU cluster",
}
#: Azure leaves these out on more rows than this unless they are allowed by name (slow there)
SLOW_FROM_ROWS = 5000
SLOW = frozenset({"KNN", "SVM"})


def _catalogue(task: str) -> tuple[Algorithm, ...]:
    return CATALOGUE[task]


def names(task: str) -> tuple[str, ...]:
    return tuple(a.name for a in _catalogue(task))


def get(task: str, name: str) -> Algorithm:
    for algorithm in _catalogue(task):
        if algorithm.name == name:
            return algorithm
    raise ConfigError(f"no {task} model {name!r}; valid: {', '.join(names(task))}")


def check_names(task: str, given: Any, field: str) -> list[str] | None:
    """``given`` (a list of Azure model names) checked for ``task``; None stays None."""
    if given is None:
        return None
    if isinstance(given, str) or not isinstance(given, (list, tuple)):
        raise ConfigError(f"{field} must be a list of model names, got {given!r}")
    valid = names(task)
    for name in given:
        if name in NOT_OFFERED:
            raise ConfigError(f"{field}: {name!r} is not offered by runyard ({NOT_OFFERED[name]}); "
                              f"{task} models: {', '.join(valid)}")
        if name not in valid:
            raise ConfigError(f"{field}: no {task} model {name!r}; valid: {', '.join(valid)}")
    return list(given)


def chosen(task: str, allowed: list[str] | None, blocked: list[str] | None, rows: int) -> list[str]:
    """The algorithms a run tries: the allowed ones (all by default) less the blocked ones; KNN
    and SVM only up to 5,000 rows unless allowed by name (as Azure does). An error when
    nothing is left."""
    pool = list(allowed) if allowed is not None else list(names(task))
    if allowed is not None and not allowed:
        raise ConfigError("allowed_models is empty: name at least one model, or leave it out for all")
    left = [n for n in pool if n not in set(blocked or ())]
    if allowed is None and rows > SLOW_FROM_ROWS:
        left = [n for n in left if n not in SLOW]
    if not left:
        raise ConfigError(f"blocked_models {blocked} leaves no {task} model to try"
                          + (f" of allowed_models {allowed}" if allowed is not None else ""))
    return left


def space(task: str, name: str, rows: int, columns: int) -> dict[str, Any]:
    """The algorithm's search space in FLAML's form: ``{param: {"domain": ..., "init_value": ...,
    "low_cost_init_value": ...}}`` (a constant domain is a fixed value)."""
    algorithm = get(task, name)
    if algorithm.statistical:
        return {}  # statsforecast chooses its own parameters per series
    if algorithm.space is not None:
        return algorithm.space(rows, columns)
    flaml_task = _flaml_task(task)
    return flaml_task.estimators[algorithm.flaml].search_space(data_size=(rows, columns), task=flaml_task)


def build(task: str, name: str, config: dict[str, Any], *, classes: int = 2, cores: int = 1) -> Any:
    """The unfitted estimator for one point ``config`` of ``name``'s space, using ``cores``
    threads where it can (-1: all)."""
    return from_spec(task, estimator_spec(task, name, config, classes=classes, cores=cores))


def estimator_spec(task: str, name: str, config: dict[str, Any], *, classes: int = 2, cores: int = 1) -> dict[str, Any]:
    """What builds the estimator, as JSON: ``{"class": "module:Name", "params": {...}}`` (FLAML
    turns the point into the library's parameters here, so an iteration need not import FLAML:
    0.8 s of each iteration's start), or ``{"algorithm": name, "config": config}`` for an
    algorithm with a space of runyard's own."""
    algorithm = get(task, name)
    if algorithm.build is not None or algorithm.statistical:
        return {"algorithm": name, "config": config}
    flaml_task = _flaml_task(task, classes)
    wrapper = flaml_task.estimators[algorithm.flaml](task=flaml_task, **config)
    # FLAML's spaces spell "no penalty" as the string "None"
    params = {k: None if v == "None" else _plain(v) for k, v in wrapper.params.items()}
    params.pop("n_jobs", None)
    if algorithm.flaml in ("lgbm", "xgboost", "rf", "extra_tree", "kneighbor"):
        params["n_jobs"] = cores
    if algorithm.flaml == "lgbm":
        params.setdefault("random_state", 0)
    cls = wrapper.estimator_class
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "params": params}


def from_spec(task: str, spec: dict[str, Any]) -> Any:
    """The unfitted estimator an ``estimator_spec`` describes (only its own library imported)."""
    import importlib
    if "class" not in spec:
        algorithm = get(task, spec["algorithm"])
        return algorithm.build(task, spec["config"])
    module, _, name = str(spec["class"]).partition(":")
    if not module.startswith(_LIBRARIES):
        raise ConfigError(f"estimator class {spec['class']!r} is not from scikit-learn, LightGBM or XGBoost")
    return getattr(importlib.import_module(module), name)(**spec["params"])


#: the libraries an estimator spec may name
_LIBRARIES = ("sklearn.", "lightgbm.", "xgboost.")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and callable(value.item) else value


def _flaml_task(task: str, classes: int = 2) -> Any:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from flaml.automl.task.factory import task_factory
    name = "regression" if task != "classification" else ("binary" if classes <= 2 else "multiclass")
    return task_factory(name)


#: the library's own defaults where they differ from FLAML's cheapest start (a hundred trees of
#: 31 leaves), tried second: an iteration's cost is mostly its process's start and its imports,
#: so a search that only grows from four trees spends its first iterations on models far from
#: any good one
LIBRARY_DEFAULTS = {"LightGBM": {"n_estimators": 100, "num_leaves": 31},
                    "XGBoostClassifier": {"n_estimators": 100, "max_leaves": 31},
                    "XGBoostRegressor": {"n_estimators": 100, "max_leaves": 31}}


def library_defaults(name: str, space: dict[str, Any]) -> dict[str, Any] | None:
    """``starting_point(space)`` with the library's defaults of ``LIBRARY_DEFAULTS`` (kept
    within the space's bounds), or None for the other algorithms."""
    changes = LIBRARY_DEFAULTS.get(name)
    if not changes or any(k not in space for k in changes):
        return None
    point = starting_point(space)
    for key, value in changes.items():
        domain = space[key]["domain"]
        upper = getattr(domain, "upper", value + 1) - 1  # an integer domain's upper bound is left out
        point[key] = max(getattr(domain, "lower", value), min(value, upper))
    return point


def starting_point(space: dict[str, Any]) -> dict[str, Any]:
    """The point of ``space`` a search starts from: each parameter's ``init_value``, else the
    first of its categories, else a fixed value."""
    point = {}
    for name, entry in space.items():
        domain = entry["domain"]
        if "init_value" in entry:
            point[name] = entry["init_value"]
        elif hasattr(domain, "categories"):
            point[name] = domain.categories[0]
        elif not hasattr(domain, "sample"):
            point[name] = domain
    return point
