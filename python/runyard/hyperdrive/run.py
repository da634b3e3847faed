"""``HyperDriveRun``: a sweep; its trials are its child runs.

>>> run = experiment.submit(hyperdrive_config)  # doctest: +SKIP
>>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
>>> best = run.get_best_run_by_primary_metric()  # doctest: +SKIP
>>> best.get_metrics()["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any

from .. import status as st
from ..errors import ConfigError, refuse_unknown_arguments
from ..run import Run
from ._sweep import HYPERPARAMETERS, STOPPED_BY, logged_values


class HyperDriveRun(Run):
    """A run of type ``hyperdrive``: status, wait and cancel as for any run (``cancel()`` stops
    the running trials too), plus its trials ranked by the primary metric. A trial's score is
    the best value of the primary metric it logged."""

    @property
    def primary_metric_name(self) -> str:
        return self._definition()["primary_metric_name"]

    @property
    def maximize(self) -> bool:
        return self._definition()["goal"] == "MAXIMIZE"

    def _definition(self) -> dict[str, Any]:
        return json.loads(self._row["definition"])

    def _trials(self, include_resume_from_runs: bool = False) -> list[dict[str, Any]]:
        """Every trial as {run, hyperparameters, best_primary_metric, status, stopped_by}."""
        store = self._store()
        sweeps = [self.id, *(self._definition().get("resume_from", []) if include_resume_from_runs else [])]
        rows = [r for sweep in sweeps for r in reversed(store.list_runs(parent_id=sweep))]
        scores = logged_values(store, rows, self.primary_metric_name)
        best = max if self.maximize else min
        trials = []
        for row in rows:
            properties = store.get_properties(row["run_id"])
            trials.append({
                "run": Run._from_row(self.workspace, row), "run_id": row["run_id"], "status": row["status"],
                "hyperparameters": json.loads(properties.get(HYPERPARAMETERS) or "{}"),
                "best_primary_metric": best(scores[row["run_id"]]) if row["run_id"] in scores else None,
                "stopped_by": properties.get(STOPPED_BY),
            })
        return trials

    def _ranked(self, trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
        scored = [t for t in trials if t["best_primary_metric"] is not None]
        scored.sort(key=lambda t: t["best_primary_metric"], reverse=self.maximize)
        return scored + [t for t in trials if t["best_primary_metric"] is None]

    def get_best_run_by_primary_metric(self, include_failed: bool = True, include_canceled: bool = True,
                                       include_resume_from_runs: bool = True) -> Run | None:
        """The trial with the best primary metric (None if no trial logged it); Failed and
        Canceled trials (stopped early) count unless excluded, and so do the trials of the
        sweeps this one resumed.

        >>> best = run.get_best_run_by_primary_metric()  # doctest: +SKIP
        """
        for trial in self._ranked(self._trials(include_resume_from_runs)):
            if trial["best_primary_metric"] is None:
                return None
            if (trial["status"] == st.FAILED and not include_failed) or \
                    (trial["status"] == st.CANCELED and not include_canceled):
                continue
            return trial["run"]
        return None

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False) -> list[dict[str, Any]]:
        """Trials best first (``reverse=True``: worst first) as dicts of ``run_id``,
        ``hyperparameters``, ``best_primary_metric``, ``status`` and ``stopped_by``; ``top``
        keeps the first ``top`` (0: all); trials with no metric come last unless discarded.

        >>> run.get_children_sorted_by_primary_metric(top=3)  # doctest: +SKIP
        [{'run_id': 'sweep_..._4', 'hyperparameters': {'--alpha': 0.3}, 'best_primary_metric': 0.97, ...}, ...]
        """
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise ConfigError(f"top must be a whole number >= 0 (0: all), got {top!r}")
        trials = self._ranked(self._trials())
        if discard_no_metric:
            trials = [t for t in trials if t["best_primary_metric"] is not None]
        if reverse:
            scored = [t for t in trials if t["best_primary_metric"] is not None][::-1]
            trials = scored + [t for t in trials if t["best_primary_metric"] is None]
        trials = trials[:top] if top else trials
        return [{k: v for k, v in t.items() if k != "run"} for t in trials]

    def get_hyperparameters(self) -> dict[str, dict[str, Any]]:
        """Trial run id -> the values it ran with."""
        return {t["run_id"]: t["hyperparameters"] for t in self._trials()}

    def get_metrics(self, name: str | None = None, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """Trial run id -> its metrics (Azure's HyperDriveRun.get_metrics; ``name``: only that
        metric); the sweep run itself logs none."""
        refuse_unknown_arguments("HyperDriveRun.get_metrics()", kwargs, "it takes name")
        return {child.id: child.get_metrics(name) for child in self.get_children()}
