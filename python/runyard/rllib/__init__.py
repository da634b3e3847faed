"""RLlib inside a run: an iteration's results as run metrics, and when to stop.

The ``RLlib`` estimator's launcher (``python -m runyard.rllib``) uses these; a script of
one's own calls ``log_result`` after each ``algo.train()``:

>>> from runyard import Run
>>> from runyard.rllib import log_result
>>> log_result(Run.get_context(), algo.train())  # doctest: +SKIP

Nothing here imports Ray: RLlib's results are plain nested dicts.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

#: run metric -> where RLlib's result has it (the first one present wins: the new API stack's
#: key, then the old stack's)
METRICS: dict[str, tuple[str, ...]] = {
    "episode_return_mean": ("env_runners/episode_return_mean", "env_runners/episode_reward_mean",
                            "episode_reward_mean"),
    "episode_len_mean": ("env_runners/episode_len_mean", "episode_len_mean"),
    "timesteps_total": ("num_env_steps_sampled_lifetime", "env_runners/num_env_steps_sampled_lifetime",
                        "timesteps_total"),
    "time_this_iter_s": ("time_this_iter_s",),
}
#: older names a ``stop`` key may use for a metric above
ALIASES = {"episode_reward_mean": "episode_return_mean"}


def result_value(result: dict[str, Any], key: str) -> Any:
    """``key`` of an RLlib result: a run metric's name (``episode_return_mean``), a top-level
    key, or a nested one joined by ``/`` (``env_runners/episode_len_max``); None when absent.

    >>> result_value({"env_runners": {"episode_return_mean": 21.5}}, "episode_return_mean")
    21.5
    """
    metric = ALIASES.get(key, key)
    for path in METRICS.get(metric, ()) + (key,):
        value: Any = result
        for part in path.split("/"):
            if not isinstance(value, dict) or part not in value:
                value = None
                break
            value = value[part]
        if value is not None:
            return value
    return None


def log_result(run: Any, result: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, float]:
    """Log one training iteration's results to ``run``: ``episode_return_mean``,
    ``episode_len_mean``, ``timesteps_total``, ``time_this_iter_s``, plus ``names`` (metric ->
    result key, nested keys joined by ``/``). A value RLlib has not got yet (NaN before the
    first episode ends) is left out. Returns what was logged.

    >>> log_result(run, algo.train(), names={"entropy": "learners/default_policy/entropy"})  # doctest: +SKIP
    {'episode_return_mean': 23.1, ..., 'entropy': 0.68}
    """
    logged = {}
    wanted = {**{metric: metric for metric in METRICS}, **(names or {})}
    for metric, key in wanted.items():
        value = result_value(result, key)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            continue
        run.log(metric, float(value))
        logged[metric] = float(value)
    return logged


def reached(result: dict[str, Any], stop: dict[str, float]) -> str | None:
    """The first ``stop`` bound the result has reached (``"training_iteration >= 20"``), else None.
    A key the result does not have is an error that lists the keys it has."""
    for key, bound in stop.items():
        value = result_value(result, key)
        if value is None:
            raise KeyError(f"stop: RLlib's result has no {key!r}; it has {', '.join(result_keys(result))}")
        if isinstance(value, numbers.Real) and not math.isnan(value) and value >= bound:
            return f"{key} = {value:g} >= {bound:g}"
    return None


def result_keys(result: dict[str, Any]) -> list[str]:
    """The names a ``stop`` may use: the run metrics, and the result's numeric keys two deep."""
    keys = list(METRICS)
    for key, value in result.items():
        if isinstance(value, dict):
            keys += [f"{key}/{k}" for k, v in value.items() if isinstance(v, numbers.Real)]
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            keys.append(key)
    return keys


__all__ = ["log_result", "reached", "result_value"]
