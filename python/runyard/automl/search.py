"""Which algorithm and hyperparameters AutoML tries next: FLAML's cost-frugal search.

Each algorithm has its own FLAML ``CFO`` searcher (cost-frugal optimisation: it starts
from the algorithm's cheapest configuration, few and small trees, and moves towards
costlier ones only while they pay off). Which algorithm gets the next iteration follows
FLAML's AutoML: every algorithm is tried once first, cheapest first (then, for LightGBM and
XGBoost, once more at the library's defaults: ``models.LIBRARY_DEFAULTS``); then each is drawn
with a probability proportional to 1 / its *estimated cost for improvement* (ECI): the
time it has gone without improving, or the time it took for its last improvement, and,
for an algorithm behind the best one, the time its recent speed of improvement would need
to close the gap twice over.

The search is told each finished iteration's loss (the primary metric, negated where
higher is better) and its seconds; a failed iteration counts as an infinite loss.

>>> search = Search("classification", ["LightGBM", "LogisticRegression"], rows=500, columns=8, maximize=True)
>>> first = search.propose(0); first[0]
'LightGBM'
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from . import models

#: the order in which algorithms are first tried (cheaper and usually strong first), as FLAML's
#: estimated cost relative to LightGBM orders them; names not listed come after, in catalogue order
FIRST_ORDER = ("SeasonalNaive", "Naive", "ExponentialSmoothing", "LightGBM", "RandomForest", "XGBoostClassifier", "XGBoostRegressor", "ExtremeRandomTrees",
               "LogisticRegression", "ElasticNet", "GradientBoosting", "SGD", "LassoLars", "DecisionTree",
               "LinearSVM", "BernoulliNaiveBayes", "MultinomialNaiveBayes", "KNN", "SVM", "Average",
               "SeasonalAverage", "AutoArima")


#: a searcher that answers None this many times in a row has nothing more to propose
MAX_NONES = 3


@dataclass
class _Learner:
    name: str
    searcher: Any
    tried: int = 0
    best_loss: float = math.inf
    best_loss_old: float = math.inf
    time_used: float = 0.0
    time_best_found: float = 0.0
    time_best_found_old: float = 0.0
    done: bool = False  # its searcher has nothing more to propose
    nones: int = 0  # its searcher's answers of None in a row
    initial: int = 1  # the points it tries first (its searcher's start, the library's defaults)
    extra: list[dict[str, Any]] = field(default_factory=list)  # points of its own, not its searcher's
    outside: set[str] = field(default_factory=set)  # its trials of those points
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, loss: float) -> None:
        """A result of ``loss`` after ``time_used`` seconds in all."""
        if loss < self.best_loss:
            # before a first result FLAML takes "twice the loss" as the old best; losses here may be
            # negative (a score negated), so: worse by the loss's size
            self.best_loss_old = self.best_loss if math.isfinite(self.best_loss) else loss + max(abs(loss), 1e-9)
            self.best_loss = loss
            self.time_best_found_old = self.time_best_found
            self.time_best_found = self.time_used

    def eci(self, global_best: float) -> float:
        """FLAML's estimated cost for improvement of this algorithm."""
        cost = max(self.time_used - self.time_best_found, self.time_best_found - self.time_best_found_old, 1e-9)
        gap = self.best_loss - global_best
        if gap > 0 and math.isfinite(gap):
            delta_loss = self.best_loss_old - self.best_loss
            delta_time = (self.time_best_found - self.time_best_found_old) or 1e-9
            speed = delta_loss / delta_time
            if speed > 0:
                cost = max(2 * gap / speed, cost)
        return cost


class Search:
    """Proposes (algorithm, configuration) for each iteration and learns from their results."""

    def __init__(self, task: str, algorithms: list[str], *, rows: int, columns: int, maximize: bool, seed: int = 0,
                 earlier: list[tuple[str, dict[str, Any], float | None, float]] | None = None):
        """``earlier``: (algorithm, configuration, score, seconds) of iterations an earlier run
        tried (a continued run): each searcher starts from what they found, and none is tried
        again as a starting point."""
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from flaml import CFO
        self.task = task
        self.maximize = maximize
        self.rng = random.Random(seed)
        order = sorted(algorithms, key=lambda n: FIRST_ORDER.index(n) if n in FIRST_ORDER else len(FIRST_ORDER))
        self.learners: dict[str, _Learner] = {}
        for name in order:
            past = [(config, self.loss(score), seconds) for algorithm, config, score, seconds in earlier or []
                    if algorithm == name]
            space = models.space(task, name, rows, columns)
            if not space:  # nothing to tune (statsforecast's models): tried once
                self.learners[name] = _Learner(name, _Once(given=bool(past)), initial=0 if past else 1)
            else:
                domains = {k: v["domain"] for k, v in space.items()}
                low_cost = {k: v["low_cost_init_value"] for k, v in space.items() if "low_cost_init_value" in v}
                known = [(config, loss) for config, loss, _ in past if math.isfinite(loss)
                         and set(config) == set(domains)]
                points = [config for config, _ in known] or [{**models.starting_point(space), **low_cost}]
                # the library's defaults are proposed here, not through CFO: CFO fails when one of
                # its given points completes while another is still running
                defaults = models.library_defaults(name, space)
                extra = [defaults] if defaults is not None and defaults not in points and not past else []
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    searcher = CFO(space=domains, metric="loss", mode="min", low_cost_partial_config=low_cost or None,
                                   points_to_evaluate=points, evaluated_rewards=[loss for _, loss in known] or None,
                                   seed=seed)
                self.learners[name] = _Learner(name, searcher, initial=0 if past else 1 + len(extra), extra=extra)
            learner = self.learners[name]
            for _, loss, seconds in past:  # what the earlier run learnt of this algorithm's cost and progress
                learner.tried += 1
                learner.time_used += max(seconds, 1e-3)
                learner.record(loss)
        self.owner: dict[str, str] = {}  # trial id -> algorithm

    @property
    def best_loss(self) -> float:
        return min((l.best_loss for l in self.learners.values()), default=math.inf)

    def loss(self, score: float | None) -> float:
        if score is None or (isinstance(score, float) and math.isnan(score)):
            return math.inf
        return -score if self.maximize else score

    def propose(self, index: int) -> tuple[str, dict[str, Any]] | None:
        """The next iteration's (algorithm, configuration), or None once no searcher has more."""
        trial_id = str(index)
        for _ in range(len(self.learners) * 2):
            learner = self._choose()
            if learner is None:
                return None
            if learner.extra and learner.tried >= 1:
                config = learner.extra.pop(0)
                learner.outside.add(trial_id)
            else:
                config = learner.searcher.suggest(trial_id)
            if config is None:
                # CFO answers None now and then (between its local searches): done only if it keeps on
                learner.nones += 1
                learner.done = learner.nones >= MAX_NONES or isinstance(learner.searcher, _Once)
                continue
            learner.nones = 0
            config = {k: _plain(v) for k, v in config.items()}
            learner.pending[trial_id] = config
            learner.tried += 1
            self.owner[trial_id] = learner.name
            return learner.name, config
        return None

    def tell(self, index: int, score: float | None, seconds: float) -> None:
        """Iteration ``index`` ended with ``score`` (None: it failed or logged none) after ``seconds``."""
        trial_id = str(index)
        name = self.owner.pop(trial_id, None)
        if name is None:
            return
        learner = self.learners[name]
        config = learner.pending.pop(trial_id, None)
        loss = self.loss(score)
        learner.time_used += max(seconds, 1e-3)
        if trial_id in learner.outside:  # a point the searcher did not propose: it is not told
            learner.outside.discard(trial_id)
        elif math.isfinite(loss):
            learner.searcher.on_trial_complete(trial_id, {"loss": loss, "time_total_s": seconds, "config": config})
        else:
            learner.searcher.on_trial_complete(trial_id, None, error=True)
        learner.record(loss)

    def _choose(self) -> _Learner | None:
        open_ = [l for l in self.learners.values() if not l.done]
        if not open_:
            return None
        # first every algorithm's first point, cheapest algorithm first; then their other given
        # points (the libraries' defaults); then by estimated cost for improvement
        for round_ in range(max(l.initial for l in open_)):
            untried = [l for l in open_ if l.tried == round_ < l.initial]
            if untried:
                return untried[0]
        best = self.best_loss
        weights = [1 / l.eci(best) for l in open_]
        return self.rng.choices(open_, weights=weights)[0]


class _Once:
    """The searcher of an algorithm with no hyperparameters: one configuration, once."""

    def __init__(self, given: bool = False) -> None:
        self.given = given

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self.given:
            return None
        self.given = True
        return {}

    def on_trial_complete(self, trial_id: str, result: Any = None, error: bool = False) -> None:
        pass


def _plain(value: Any) -> Any:
    """A configuration value as JSON takes it (numpy numbers become Python's)."""
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value
