"""Early termination: which running trials a sweep stops, and why.

Each value of the primary metric a trial logs is one *interval*; a policy is
applied at interval ``n`` when ``n`` is a multiple of ``evaluation_interval``
and ``n >= delay_evaluation`` (Azure ML's rule). Trials are compared at the
same interval: a trial's ``n``-th value against the ``n``-th values of every
trial of the sweep that has logged that many (itself included).

- ``BanditPolicy``: stop a trial whose value is not within the slack of the best
  value at that interval. Maximising, with ``slack_factor`` ``f``: stop when
  ``value < best / (1 + f)``; with ``slack_amount`` ``a``: when ``value < best - a``.
  Minimising: ``value > best * (1 + f)`` or ``value > best + a``.
- ``MedianStoppingPolicy``: stop a trial whose best value so far is worse than
  the median of the running averages (the mean of the first ``n`` values) of
  the trials at that interval.
- ``TruncationSelectionPolicy``: stop a trial whose value is among the worst
  ``floor(count * truncation_percentage / 100)`` of the ``count`` values at
  that interval (ties: the later trial is the worse).
- ``NoTerminationPolicy``: every trial runs to its end.

Each function is a pure function of the traces, so a decision can be checked
against a trace written by hand:

>>> policy = BanditPolicy(slack_factor=0.1)
>>> policy.stop_reason("b", {"a": [0.8], "b": [0.7]}, 1, maximize=True)
'BanditPolicy: at interval 1 its value 0.7 is below 0.7273 (the best value there, 0.8, / (1 + slack_factor 0.1))'
"""

from __future__ import annotations

import abc
import math
import statistics
from typing import Any, ClassVar

from ..errors import ConfigError


class EarlyTerminationPolicy(abc.ABC):
    """When (``evaluation_interval``, ``delay_evaluation``) and how a policy stops trials."""

    kind: ClassVar[str]

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0):
        name = type(self).__name__
        if not _whole(evaluation_interval) or evaluation_interval < 1:
            raise ConfigError(f"{name}: evaluation_interval must be a whole number >= 1, got {evaluation_interval!r}")
        if not _whole(delay_evaluation) or delay_evaluation < 0:
            raise ConfigError(f"{name}: delay_evaluation must be a whole number >= 0, got {delay_evaluation!r}")
        self.evaluation_interval = int(evaluation_interval)
        self.delay_evaluation = int(delay_evaluation)

    def applies_at(self, interval: int) -> bool:
        """Whether the policy is applied when a trial logs its ``interval``-th value."""
        return interval >= max(1, self.delay_evaluation) and interval % self.evaluation_interval == 0

    @abc.abstractmethod
    def stop_reason(self, trial: str, traces: dict[str, list[float]], interval: int, *,
                    maximize: bool) -> str | None:
        """Why ``trial`` stops at ``interval`` given every trial's values so far, or None."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **{k: v for k, v in vars(self).items()}}

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> "EarlyTerminationPolicy":
        if data is None:
            return NoTerminationPolicy()
        fields = dict(data)
        return POLICIES[fields.pop("kind")](**fields)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class BanditPolicy(EarlyTerminationPolicy):
    """Stop trials not within ``slack_factor`` (a ratio) or ``slack_amount`` (a difference) of
    the best trial at the same interval.

    >>> BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)
    BanditPolicy(evaluation_interval=1, delay_evaluation=5, slack_factor=0.1, slack_amount=None)
    """

    kind = "bandit"

    def __init__(self, evaluation_interval: int = 1, slack_factor: float | None = None,
                 slack_amount: float | None = None, delay_evaluation: int = 0):
        super().__init__(evaluation_interval, delay_evaluation)
        if (slack_factor is None) == (slack_amount is None):
            raise ConfigError("BanditPolicy: give exactly one of slack_factor and slack_amount")
        for label, value in (("slack_factor", slack_factor), ("slack_amount", slack_amount)):
            if value is not None and (not _number(value) or value <= 0):
                raise ConfigError(f"BanditPolicy: {label} must be a number above 0, got {value!r}")
        self.slack_factor = slack_factor
        self.slack_amount = slack_amount

    def stop_reason(self, trial: str, traces: dict[str, list[float]], interval: int, *,
                    maximize: bool) -> str | None:
        best = (max if maximize else min)(_at(traces, interval))
        value = traces[trial][interval - 1]
        if self.slack_factor is not None:
            threshold = best / (1 + self.slack_factor) if maximize else best * (1 + self.slack_factor)
            rule = f"{'/' if maximize else '*'} (1 + slack_factor {self.slack_factor})"
        else:
            threshold = best - self.slack_amount if maximize else best + self.slack_amount
            rule = f"{'-' if maximize else '+'} slack_amount {self.slack_amount}"
        if (value < threshold) if maximize else (value > threshold):
            return (f"BanditPolicy: at interval {interval} its value {_show(value)} is "
                    f"{'below' if maximize else 'above'} {_show(threshold)} (the best value there, {_show(best)}, "
                    f"{rule})")
        return None


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Stop trials whose best value so far is worse than the median of the trials' running
    averages at the same interval.

    >>> MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5).delay_evaluation
    5
    """

    kind = "median"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0):
        super().__init__(evaluation_interval, delay_evaluation)

    def stop_reason(self, trial: str, traces: dict[str, list[float]], interval: int, *,
                    maximize: bool) -> str | None:
        averages = [statistics.fmean(t[:interval]) for t in traces.values() if len(t) >= interval]
        median = statistics.median(averages)
        best = (max if maximize else min)(traces[trial][:interval])
        if (best < median) if maximize else (best > median):
            return (f"MedianStoppingPolicy: at interval {interval} its best value {_show(best)} is "
                    f"{'below' if maximize else 'above'} {_show(median)}, the median of the running averages "
                    f"of {len(averages)} trial(s)")
        return None


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Stop the worst ``truncation_percentage`` percent of the trials at each evaluation.

    >>> TruncationSelectionPolicy(truncation_percentage=20, delay_evaluation=5).truncation_percentage
    20
    """

    kind = "truncation"

    def __init__(self, truncation_percentage: int, evaluation_interval: int = 1, delay_evaluation: int = 0):
        super().__init__(evaluation_interval, delay_evaluation)
        if not _whole(truncation_percentage) or not 1 <= truncation_percentage <= 99:
            raise ConfigError(f"TruncationSelectionPolicy: truncation_percentage must be a whole number from 1 to 99, "
                              f"got {truncation_percentage!r}")
        self.truncation_percentage = int(truncation_percentage)

    def stop_reason(self, trial: str, traces: dict[str, list[float]], interval: int, *,
                    maximize: bool) -> str | None:
        order = list(traces)  # trials in the order they started
        at = [(t, traces[t][interval - 1]) for t in order if len(traces[t]) >= interval]
        cut = math.floor(len(at) * self.truncation_percentage / 100)
        # worst first; of equal values the later trial first
        ranked = sorted(at, key=lambda item: ((item[1] if maximize else -item[1]), -order.index(item[0])))
        worst = [t for t, _ in ranked[:cut]]
        if trial in worst:
            value = traces[trial][interval - 1]
            return (f"TruncationSelectionPolicy: at interval {interval} its value {_show(value)} is among the worst "
                    f"{cut} of {len(at)} ({self.truncation_percentage}%)")
        return None


class NoTerminationPolicy(EarlyTerminationPolicy):
    """No early termination: every trial runs to its end (the default)."""

    kind = "none"

    def __init__(self) -> None:
        super().__init__(1, 0)

    def applies_at(self, interval: int) -> bool:
        return False

    def stop_reason(self, trial: str, traces: dict[str, list[float]], interval: int, *,
                    maximize: bool) -> str | None:
        return None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def __repr__(self) -> str:
        return "NoTerminationPolicy()"


POLICIES: dict[str, type[EarlyTerminationPolicy]] = {
    c.kind: c for c in (BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy, NoTerminationPolicy)}


def _at(traces: dict[str, list[float]], interval: int) -> list[float]:
    return [t[interval - 1] for t in traces.values() if len(t) >= interval]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _show(value: float) -> str:
    return f"{value:.4g}"
