"""How a sweep picks each trial's values: random, grid or Bayesian sampling.

A search space maps each hyperparameter name to an expression
(``runyard.hyperdrive.parameters``). The names are what the script receives:
``{"--lr": uniform(0, 1)}`` and ``{"lr": uniform(0, 1)}`` both append
``--lr 0.42`` to the trial's arguments.

Random and grid sampling are deterministic: trial ``i`` of a space always gets
the same values (random draws from a generator seeded with the seed and ``i``),
so a resubmitted sweep proposes the same trials and can skip those already run.
The seed defaults to one derived from the space; ``properties={"seed": 7}``
picks another. Bayesian sampling asks Optuna's TPE sampler, told every
finished trial (warm-start trials included).

>>> space = {"--lr": uniform(0.01, 0.1), "--batch": choice(16, 32)}
>>> a, b = RandomParameterSampling(space).proposer(), RandomParameterSampling(space).proposer()
>>> a.propose(0) == b.propose(0)
True
>>> list(GridParameterSampling({"--a": choice(1, 2), "--b": choice("x", "y")}).proposer().propose(i) for i in range(4))
[{'--a': 1, '--b': 'x'}, {'--a': 1, '--b': 'y'}, {'--a': 2, '--b': 'x'}, {'--a': 2, '--b': 'y'}]
"""

from __future__ import annotations

import abc
import hashlib
import itertools
import json
import math
import random
import re
import warnings
from typing import Any, ClassVar

from ..errors import ConfigError
from .parameters import Expression, Value, choice, from_json, quniform, uniform  # noqa: F401 (doctest names)

#: a name a script can take as ``--name value`` (argparse, R's optparse/argparse, click)
_NAME_RE = re.compile(r"^(--)?[A-Za-z][A-Za-z0-9_.-]{0,99}$")


def option(name: str) -> str:
    """The command-line option of hyperparameter ``name``: ``lr`` and ``--lr`` are ``--lr``."""
    return name if name.startswith("--") else f"--{name}"


def key(values: dict[str, Value]) -> str:
    """One text per set of values, to tell trials apart (a value's type counts: 1 is not "1")."""
    return json.dumps(sorted((option(k), type(v).__name__, v) for k, v in values.items()))


class HyperParameterSampling(abc.ABC):
    """A search space and how to sample it; the subclasses are Azure ML's three."""

    #: the name in a sweep's record and in YAML's ``sampling_algorithm``
    kind: ClassVar[str]
    #: the expressions this sampling can take
    allowed: ClassVar[frozenset[str]]

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None):
        name = type(self).__name__
        if not isinstance(parameter_space, dict) or not parameter_space:
            raise ConfigError(f"{name}: parameter_space must be a non-empty dict of name -> expression, "
                              f"e.g. {{'--lr': uniform(0.01, 0.1)}}")
        space: dict[str, Expression] = {}
        options: dict[str, str] = {}
        for label, expression in parameter_space.items():
            if not isinstance(label, str) or not _NAME_RE.match(label):
                raise ConfigError(f"{name}: parameter name {label!r} cannot reach a script as '--name value'; use "
                                  f"letters, digits, '_', '.' or '-', starting with a letter (or '--' and a letter)")
            if option(label) in options:
                raise ConfigError(f"{name}: parameters {options[option(label)]!r} and {label!r} are both passed as "
                                  f"{option(label)!r}; keep one")
            options[option(label)] = label
            expression = from_json(expression, f"{name}: parameter {label!r}")
            if expression.kind not in self.allowed:
                raise ConfigError(f"{name}: parameter {label!r} is {expression!r}; {name} takes only "
                                  f"{', '.join(sorted(self.allowed))}")
            space[label] = expression
        self.parameter_space = space
        self.properties = dict(properties or {})
        unknown = sorted(set(self.properties) - {"seed"})
        if unknown:
            raise ConfigError(f"{name}: unknown properties {', '.join(map(repr, unknown))}; the only one is 'seed'")
        seed = self.properties.get("seed", _default_seed(space))
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ConfigError(f"{name}: properties['seed'] must be a whole number in [0, 2**32), got {seed!r}")
        self.seed = seed

    def size(self) -> float:
        """How many distinct sets of values the space holds (``math.inf`` if any is continuous)."""
        total = 1.0
        for expression in self.parameter_space.values():
            if expression.kind == "choice":
                total *= len(expression.arguments)
            elif expression.kind == "randint":
                total *= expression.arguments[0]
            else:
                return math.inf
        return total

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "seed": self.seed,
                "space": {k: e.to_json() for k, e in self.parameter_space.items()}}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "HyperParameterSampling":
        cls = SAMPLINGS[data["kind"]]
        return cls(data["space"], properties={"seed": data["seed"]})

    @abc.abstractmethod
    def proposer(self, maximize: bool = True, budget: int | None = None) -> "Proposer":
        """What proposes the values of each trial, in one sweep's driver (``maximize``: the goal;
        ``budget``: the sweep's ``max_total_runs``, for a sampler that plans by it)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.parameter_space!r})"


class Proposer(abc.ABC):
    """Proposes trial ``index``'s values; told how finished trials did."""

    def __init__(self, sampling: HyperParameterSampling, maximize: bool):
        self.sampling = sampling
        self.maximize = maximize

    @abc.abstractmethod
    def propose(self, index: int) -> dict[str, Value] | None:
        """Values for trial ``index``, or None once the space has nothing more to give."""

    def tell(self, values: dict[str, Value], metric: float | None) -> None:
        """A trial (of this sweep or of one it resumes) ended with ``metric`` (None: none logged)."""


class RandomParameterSampling(HyperParameterSampling):
    """Values drawn at random from every expression.

    >>> RandomParameterSampling({"--lr": loguniform(-6, -1), "--layers": choice(2, 3, 4)}, properties={"seed": 1})  # doctest: +SKIP
    """

    kind = "random"
    allowed = frozenset({"choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal",
                         "qnormal", "lognormal", "qlognormal"})

    def proposer(self, maximize: bool = True, budget: int | None = None) -> "Proposer":
        return _RandomProposer(self, maximize)  # the same values whatever the budget



class GridParameterSampling(HyperParameterSampling):
    """Every combination of ``choice`` values, once each, in order (the last name varies fastest).

    >>> GridParameterSampling({"--alpha": choice(0.1, 1.0), "--fit_intercept": choice(True, False)}).size()
    4.0
    """

    kind = "grid"
    allowed = frozenset({"choice"})

    def proposer(self, maximize: bool = True, budget: int | None = None) -> "Proposer":
        return _GridProposer(self, maximize)  # the same values whatever the budget



class BayesianParameterSampling(HyperParameterSampling):
    """Values proposed by a model of the trials so far (Optuna's TPE sampler); takes
    ``choice``, ``uniform`` and ``quniform``, and no early-termination policy (Azure's rules).
    Needs ``pip install "runyard[hyperdrive]"`` (Optuna) in the submitting Python.

    >>> BayesianParameterSampling({"--lr": uniform(0.001, 0.1), "--depth": choice(3, 5, 8)})  # doctest: +SKIP
    """

    kind = "bayesian"
    allowed = frozenset({"choice", "uniform", "quniform"})

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None):
        super().__init__(parameter_space, properties)
        _import_optuna()  # before anything is recorded: a sweep that cannot sample does not start

    def proposer(self, maximize: bool = True, budget: int | None = None) -> "Proposer":
        return _TpeProposer(self, maximize, budget)



SAMPLINGS: dict[str, type[HyperParameterSampling]] = {
    c.kind: c for c in (RandomParameterSampling, GridParameterSampling, BayesianParameterSampling)}


class _RandomProposer(Proposer):
    def propose(self, index: int) -> dict[str, Value] | None:
        rng = random.Random(f"{self.sampling.seed}/{index}")
        return {name: e.sample(rng) for name, e in self.sampling.parameter_space.items()}


class _GridProposer(Proposer):
    def __init__(self, sampling: HyperParameterSampling, maximize: bool):
        super().__init__(sampling, maximize)
        self.points = itertools.product(*(e.values for e in sampling.parameter_space.values()))
        self.made: list[dict[str, Value]] = []

    def propose(self, index: int) -> dict[str, Value] | None:
        while len(self.made) <= index:
            point = next(self.points, None)
            if point is None:
                return None
            self.made.append(dict(zip(self.sampling.parameter_space, point)))
        return self.made[index]


def startup_trials(budget: int | None) -> int:
    """How many of TPE's first trials are drawn at random: an eighth of the sweep's budget, from 5
    to Optuna's default of 10 (10 is a quarter of the 40 trials Azure suggests for 2 parameters).

    Measured over seeds 0-109 with 20 x (parameters) trials against random sampling, TPE won on
    Branin 91 (83 with 10), Hartmann-3 106 (99), six-hump camel 89 (84), Rosenbrock 72 (65).

    >>> startup_trials(40), startup_trials(60), startup_trials(1000), startup_trials(None)
    (5, 7, 10, 10)
    """
    return 10 if budget is None else min(10, max(5, budget // 8))


class _TpeProposer(Proposer):
    """Optuna's TPE through its ask/tell interface, in memory: the sweep's record (its trials
    and those of the sweeps it resumes) is the history it is rebuilt from."""

    def __init__(self, sampling: HyperParameterSampling, maximize: bool, budget: int | None = None):
        super().__init__(sampling, maximize)
        self.optuna = _import_optuna()
        self.optuna.logging.set_verbosity(self.optuna.logging.WARNING)
        self.distributions = {name: self._distribution(e) for name, e in sampling.parameter_space.items()}
        with warnings.catch_warnings():  # Optuna before 5 calls both options experimental
            warnings.simplefilter("ignore", self.optuna.exceptions.ExperimentalWarning)
            sampler = self.optuna.samplers.TPESampler(seed=sampling.seed, constant_liar=True, multivariate=True,
                                                      n_startup_trials=startup_trials(budget))
        self.study = self.optuna.create_study(direction="maximize" if maximize else "minimize", sampler=sampler)
        self.asked: dict[str, Any] = {}  # key of values -> the optuna trial that proposed them

    def _distribution(self, expression: Expression) -> Any:
        d = self.optuna.distributions
        if expression.kind == "choice":
            return d.CategoricalDistribution(list(expression.arguments))
        return d.FloatDistribution(expression.arguments[0], expression.arguments[1])

    def propose(self, index: int) -> dict[str, Value] | None:
        trial = self.study.ask(self.distributions)
        values = {name: e.finish(trial.params[name]) if e.kind != "choice" else trial.params[name]
                  for name, e in self.sampling.parameter_space.items()}
        self.asked[key(values)] = trial
        return values

    def tell(self, values: dict[str, Value], metric: float | None) -> None:
        state = self.optuna.trial.TrialState
        trial = self.asked.pop(key(values), None)
        ok = metric is not None and math.isfinite(metric)
        if trial is not None:
            self.study.tell(trial, metric if ok else None, state=state.COMPLETE if ok else state.FAIL)
            return
        if not ok:
            return
        params = {}  # a trial of an earlier sweep: its values, back inside the distributions
        for name, e in self.sampling.parameter_space.items():
            if name not in values:
                return
            value = values[name]
            if e.kind != "choice":
                value = min(max(float(value), e.arguments[0]), e.arguments[1])
            elif value not in e.arguments:
                return
            params[name] = value
        self.study.add_trial(self.optuna.trial.create_trial(params=params, distributions=self.distributions,
                                                            value=metric))


def _default_seed(space: dict[str, Expression]) -> int:
    text = json.dumps({k: e.to_json() for k, e in space.items()}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError as e:
        raise ConfigError('BayesianParameterSampling needs Optuna: pip install "runyard[hyperdrive]"') from e
    return optuna
