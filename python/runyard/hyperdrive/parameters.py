"""Parameter expressions: what a sweep may try for one hyperparameter.

Azure ML's ten expressions with its meanings, kept in its JSON form
``[name, [arguments]]`` (``choice(1, 2)`` is ``["choice", [[1, 2]]]``), so a
search space from Azure code, a YAML sweep or R reads the same:

=================================  ==============================================
``choice(*options)``               one of the options (numbers, text, booleans)
``randint(upper)``                 an integer in ``[0, upper)``
``uniform(min_value, max_value)``  a float uniformly in ``[min, max]``
``quniform(min, max, q)``          ``round(uniform(min, max) / q) * q``
``loguniform(min, max)``           ``exp(uniform(min, max))``: the bounds are logs
``qloguniform(min, max, q)``       ``round(exp(uniform(min, max)) / q) * q``
``normal(mu, sigma)``              a float from a normal distribution
``qnormal(mu, sigma, q)``          ``round(normal(mu, sigma) / q) * q``
``lognormal(mu, sigma)``           ``exp(normal(mu, sigma))``
``qlognormal(mu, sigma, q)``       ``round(exp(normal(mu, sigma)) / q) * q``
=================================  ==============================================

A quantised value is an integer when ``q`` is (``quniform(16, 128, 16)`` gives
``32``, not ``32.0``), so ``--batch-size 32`` reaches an ``int`` argument.

>>> choice(0.01, 0.1, 1)
choice(0.01, 0.1, 1)
>>> uniform(0.05, 0.1).sample(random.Random(0))
0.09222079278590024
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Union

from ..errors import ConfigError

Value = Union[int, float, str, bool]


@dataclass(frozen=True)
class Expression:
    """One hyperparameter's distribution: ``kind`` (Azure's name) and its arguments."""

    kind: str
    arguments: tuple[Any, ...]

    def sample(self, rng: random.Random) -> Value:
        """A value drawn with ``rng``."""
        if self.kind == "choice":
            return self.arguments[rng.randrange(len(self.arguments))]
        if self.kind == "randint":
            return rng.randrange(self.arguments[0])
        if self.kind in ("uniform", "quniform", "loguniform", "qloguniform"):
            raw = rng.uniform(self.arguments[0], self.arguments[1])
        else:
            raw = rng.gauss(self.arguments[0], self.arguments[1])
        return self.finish(raw)

    def finish(self, raw: float) -> Value:
        """From the underlying uniform or normal draw to the value: ``exp`` for the log
        kinds, then rounding to ``q`` for the quantised ones."""
        value = math.exp(raw) if "log" in self.kind else raw
        if self.kind.startswith("q"):
            q = self.arguments[2]
            value = round(value / q) * q
            return int(round(value)) if isinstance(q, int) else value
        return value

    @property
    def values(self) -> tuple[Value, ...]:
        """Every value of a ``choice`` (grid sampling enumerates them)."""
        if self.kind != "choice":
            raise ConfigError(f"{self!r} has no list of values; only choice() does")
        return self.arguments

    def to_json(self) -> list[Any]:
        """Azure's form: ``["choice", [[1, 2]]]``, ``["uniform", [0, 1]]``."""
        return [self.kind, [list(self.arguments)] if self.kind == "choice" else list(self.arguments)]

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(map(repr, self.arguments))})"


def choice(*options: Any) -> Expression:
    """One of ``options``: ``choice(16, 32, 64)``, ``choice([16, 32, 64])`` or ``choice(range(1, 5))``.

    >>> choice("adam", "sgd").values
    ('adam', 'sgd')
    """
    if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
        options = tuple(options[0])
    if not options:
        raise ConfigError("choice() needs at least one option")
    values = []
    for option in options:
        if hasattr(option, "item") and callable(option.item):  # a numpy scalar
            option = option.item()
        if not isinstance(option, (int, float, str, bool)) or (isinstance(option, float) and not math.isfinite(option)):
            raise ConfigError(f"choice(): option {option!r} is not a number, text or True/False "
                              f"(a script receives each option as one command-line word)")
        if isinstance(option, str) and (not option or any(c.isspace() for c in option)):
            raise ConfigError(f"choice(): option {option!r} is empty or holds white space; a script receives "
                              f"each option as one command-line word")
        if any(type(option) is type(v) and option == v for v in values):
            raise ConfigError(f"choice(): option {option!r} is given twice")
        values.append(option)
    return Expression("choice", tuple(values))


def randint(upper: int) -> Expression:
    """An integer in ``[0, upper)``.

    >>> randint(10)
    randint(10)
    """
    if not _is_int(upper) or upper < 1:
        raise ConfigError(f"randint(upper): upper must be a whole number >= 1, got {upper!r}")
    return Expression("randint", (int(upper),))


def uniform(min_value: float, max_value: float) -> Expression:
    """A float uniformly between ``min_value`` and ``max_value``."""
    return Expression("uniform", _bounds("uniform", min_value, max_value))


def quniform(min_value: float, max_value: float, q: float) -> Expression:
    """``round(uniform(min_value, max_value) / q) * q``."""
    return Expression("quniform", (*_bounds("quniform", min_value, max_value), _q("quniform", q)))


def loguniform(min_value: float, max_value: float) -> Expression:
    """``exp(uniform(min_value, max_value))``: the bounds are natural logs (Azure's meaning),
    so ``loguniform(math.log(1e-4), math.log(1e-1))`` spans 0.0001 to 0.1."""
    return Expression("loguniform", _bounds("loguniform", min_value, max_value))


def qloguniform(min_value: float, max_value: float, q: float) -> Expression:
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""
    return Expression("qloguniform", (*_bounds("qloguniform", min_value, max_value), _q("qloguniform", q)))


def normal(mu: float, sigma: float) -> Expression:
    """A float from a normal distribution of mean ``mu`` and standard deviation ``sigma``."""
    return Expression("normal", _normal("normal", mu, sigma))


def qnormal(mu: float, sigma: float, q: float) -> Expression:
    """``round(normal(mu, sigma) / q) * q``."""
    return Expression("qnormal", (*_normal("qnormal", mu, sigma), _q("qnormal", q)))


def lognormal(mu: float, sigma: float) -> Expression:
    """``exp(normal(mu, sigma))``."""
    return Expression("lognormal", _normal("lognormal", mu, sigma))


def qlognormal(mu: float, sigma: float, q: float) -> Expression:
    """``round(exp(normal(mu, sigma)) / q) * q``."""
    return Expression("qlognormal", (*_normal("qlognormal", mu, sigma), _q("qlognormal", q)))


#: name -> constructor, for search spaces read from JSON, YAML or R
EXPRESSIONS = {f.__name__: f for f in (choice, randint, uniform, quniform, loguniform, qloguniform, normal, qnormal,
                                       lognormal, qlognormal)}


def from_json(value: Any, where: str) -> Expression:
    """An expression from Azure's JSON form (``["uniform", [0, 1]]``) or an ``Expression``."""
    if isinstance(value, Expression):
        return value
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], (list, tuple))):
        raise ConfigError(f"{where}: {value!r} is not a parameter expression; use choice(...), uniform(...), ... "
                          f"(runyard.hyperdrive)")
    kind, arguments = value
    if kind not in EXPRESSIONS:
        raise ConfigError(f"{where}: unknown expression {kind!r}; valid: {', '.join(EXPRESSIONS)}")
    if kind == "choice":
        if len(arguments) != 1 or not isinstance(arguments[0], (list, tuple)):
            raise ConfigError(f"{where}: choice takes one list of options, as ['choice', [[1, 2, 3]]]")
        arguments = arguments[0]
    try:
        return EXPRESSIONS[kind](*arguments)
    except TypeError as e:
        raise ConfigError(f"{where}: {kind}{tuple(arguments)!r}: {e}") from e
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from e


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(name: str, label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name}(): {label} must be a finite number, got {value!r}")
    return value


def _bounds(name: str, low: Any, high: Any) -> tuple[float, float]:
    low, high = _number(name, "min_value", low), _number(name, "max_value", high)
    if not low < high:
        raise ConfigError(f"{name}(): min_value ({low!r}) must be below max_value ({high!r})")
    return low, high


def _normal(name: str, mu: Any, sigma: Any) -> tuple[float, float]:
    mu, sigma = _number(name, "mu", mu), _number(name, "sigma", sigma)
    if sigma <= 0:
        raise ConfigError(f"{name}(): sigma must be above 0, got {sigma!r}")
    return mu, sigma


def _q(name: str, q: Any) -> float:
    q = _number(name, "q", q)
    if q <= 0:
        raise ConfigError(f"{name}(): q must be above 0, got {q!r}")
    return q
