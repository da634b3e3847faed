"""``AutoMLRun``: an AutoML run; its iterations are its child runs.

>>> run = experiment.submit(automl_config)  # doctest: +SKIP
>>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
>>> best_run, fitted_model = run.get_output()  # doctest: +SKIP
>>> fitted_model.predict(new_rows)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

from ..errors import ConfigError, NotFoundError, RunyardError, refuse_unknown_arguments
from ..run import Run
from . import metrics as am

MODEL_FILE = "outputs/model.pkl"


class AutoMLRun(Run):
    """A run of type ``automl``: status, wait and cancel as for any run (``cancel()`` stops the
    running iterations too), plus the best iteration and its model."""

    def _definition(self) -> dict[str, Any]:
        return json.loads(self._row["definition"])

    @property
    def primary_metric(self) -> str:
        return self._definition()["primary_metric_name"]

    def _iterations(self, metric: str) -> list[tuple[Run, float | None, int]]:
        """(child run, its score of ``metric``, its iteration) of the completed iterations."""
        from .. import status as st
        store = self._store()
        rows = [r for r in store.list_runs(parent_id=self.id) if r["status"] == st.COMPLETED]
        scores: dict[str, float] = {}
        for found in store.get_metric_rows([r["run_id"] for r in rows], name=metric):
            if found["value_num"] is not None and math.isfinite(found["value_num"]):
                scores[found["run_id"]] = float(found["value_num"])
        out = []
        for row in rows:
            iteration = store.get_properties(row["run_id"]).get("iteration")
            out.append((Run._from_row(self.workspace, row), scores.get(row["run_id"]),
                        int(iteration) if iteration is not None else -1))
        return out

    def get_best_child(self, metric: str | None = None, **kwargs: Any) -> Run:
        """The completed iteration with the best ``metric`` (default: the primary metric)."""
        if kwargs.pop("onnx_compatible", False):
            raise ConfigError("get_best_child(onnx_compatible=True): runyard keeps no ONNX models")
        if kwargs:
            raise ConfigError(f"get_best_child: unknown argument {next(iter(kwargs))!r}; it takes metric")
        metric = self._check_metric(metric)
        best_id = self.get_tags().get("automl_best_child_run_id")
        if metric == self.primary_metric and best_id:  # what the driver chose (Azure keeps the same tag)
            return Run._from_id(self.workspace, best_id)
        scored = [(run, score, i) for run, score, i in self._iterations(metric) if score is not None]
        if not scored:
            raise NotFoundError(f"AutoML run {self.id} has no completed iteration with a {metric!r} score "
                                f"(status {self.get_status()})")
        sign = -1 if am.maximize(metric) else 1
        return min(scored, key=lambda item: (sign * item[1], item[2]))[0]  # ties: the earlier iteration

    def get_output(self, iteration: int | None = None, metric: str | None = None,
                   return_onnx_model: bool = False, **kwargs: Any) -> tuple[Run, Any]:
        """``(run, fitted model)`` of the best iteration (by ``metric``, default the primary
        metric), or of ``iteration``. The model predicts from raw frames of the training
        columns: ``model.predict(df)``."""
        if return_onnx_model:
            raise ConfigError("get_output(return_onnx_model=True): runyard keeps no ONNX models")
        if kwargs:
            raise ConfigError(f"get_output: unknown argument {next(iter(kwargs))!r}; it takes iteration and metric")
        if iteration is not None and metric is not None:
            raise ConfigError("get_output: give iteration or metric, not both")
        if iteration is not None:
            if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
                raise ConfigError(f"get_output: iteration must be a whole number from 0, got {iteration!r}")
            found = [run for run, _, i in self._iterations(self.primary_metric) if i == iteration]
            if not found:
                raise NotFoundError(f"AutoML run {self.id} has no completed iteration {iteration}")
            run = found[0]
        else:
            run = self.get_best_child(metric)
        return run, load_model(run)

    def register_model(self, model_name: str | None = None, description: str | None = None,
                       tags: dict[str, Any] | None = None, iteration: int | None = None,
                       metric: str | None = None) -> Any:
        """Register the best (or ``iteration``'s, or best by ``metric``) iteration's model."""
        run, _ = self.get_output(iteration=iteration, metric=metric)
        name = model_name or (self.id.replace("_", "").replace("-", "")[:15]
                              + ("best" if iteration is None else str(iteration)))[:29]
        return run.register_model(name, model_path=MODEL_FILE, description=description, tags=tags)

    def continue_experiment(self, iterations: int | None = None, experiment_timeout_hours: float | None = None,
                            experiment_timeout_minutes: float | None = None, **kwargs: Any) -> "AutoMLRun":
        """Go on with this ended AutoML run (Completed, Canceled, or Failed: its driver killed,
        say) as a new AutoML run of the same data and settings: ``iterations`` more iterations
        (default: as many as this run had) within the new timeout (default: this run's). Its
        search starts from what this run's iterations found (none is tried again as a
        starting point), its ensembles and its best model may take this run's iterations, and
        its ``continued_from`` property names this run.

        >>> more = automl_run.continue_experiment(iterations=20)  # doctest: +SKIP
        """
        from .. import status as st
        from ..experiment import Experiment
        from .config import MAX_ITERATIONS, MAX_TIMEOUT_MINUTES, _positive, _whole, start_automl
        refuse_unknown_arguments("AutoMLRun.continue_experiment", kwargs, "it takes iterations, "
                                 "experiment_timeout_hours and experiment_timeout_minutes; the data and the other "
                                 "settings are the run's own")
        status = self.get_status()
        if status not in st.TERMINAL:
            raise ConfigError(f"AutoML run {self.id} is {status}: it can be continued once it has ended (wait for it, "
                              f"or cancel it)")
        definition = self._definition()
        ensembles = definition.get("ensembles") or []
        if iterations is None:
            iterations = int(definition["max_total_runs"]) + len(ensembles)
        iterations = _whole("iterations", iterations, 1, MAX_ITERATIONS)
        if experiment_timeout_hours is not None and experiment_timeout_minutes is not None:
            raise ConfigError("continue_experiment: give experiment_timeout_hours or experiment_timeout_minutes, "
                              "not both")
        minutes = float(definition["max_duration_minutes"])
        if experiment_timeout_hours is not None:
            minutes = _positive("experiment_timeout_hours", experiment_timeout_hours, MAX_TIMEOUT_MINUTES / 60) * 60
        elif experiment_timeout_minutes is not None:
            minutes = _positive("experiment_timeout_minutes", experiment_timeout_minutes, MAX_TIMEOUT_MINUTES)
        ensembles = ensembles if iterations >= 2 + len(ensembles) else []
        continued = {key: value for key, value in definition.items() if key not in ("step_outputs", "warning")}
        continued.update({"max_total_runs": iterations - len(ensembles), "ensembles": ensembles,
                          "max_duration_minutes": minutes,
                          "earlier_runs": [*definition.get("earlier_runs", []), self.id]})
        return start_automl(Experiment(self.workspace, self.experiment.name), continued,
                            tags={"continued_from": self.id}, display_name=self.display_name,
                            properties={"continued_from": self.id})

    def get_guardrails(self, to_console: bool = True) -> dict[str, Any]:
        """The data guardrails (Azure's ``verifier_results``), printed when ``to_console``."""
        from .guardrails import format_console
        try:
            results = json.loads(_read_file(self, "outputs/verifier_results.json"))
        except (RunyardError, ValueError):
            if to_console:
                print("Current Run does not have Guardrail data.")
            return {}
        if to_console:
            print(format_console(results))
        return results

    def get_leaderboard(self) -> list[dict[str, Any]]:
        """Every iteration, best primary metric first (those without a score last): ``iteration``,
        ``run_id``, ``status``, ``algorithm``, ``preprocessor``, ``score``, ``duration_seconds``."""
        from .. import status as st
        store = self._store()
        metric = self.primary_metric
        rows = store.list_runs(parent_id=self.id)
        scores = {}
        for found in store.get_metric_rows([r["run_id"] for r in rows], name=metric):
            if found["value_num"] is not None and math.isfinite(found["value_num"]):
                scores[found["run_id"]] = float(found["value_num"])
        board = []
        for row in rows:
            properties = store.get_properties(row["run_id"])
            start, end = row.get("start_time"), row.get("end_time")
            board.append({"iteration": int(properties.get("iteration", -1)), "run_id": row["run_id"],
                          "status": row["status"], "algorithm": properties.get("run_algorithm"),
                          "preprocessor": properties.get("run_preprocessor") or "",
                          "score": scores.get(row["run_id"]) if row["status"] == st.COMPLETED else None,
                          "duration_seconds": round(end - start, 3) if start and end else None})
        sign = -1 if am.maximize(metric) else 1
        return sorted(board, key=lambda r: (r["score"] is None, sign * (r["score"] or 0), r["iteration"]))

    def summary(self) -> list[list[Any]]:
        """Per algorithm: ``[algorithm, iterations, best score]`` (Azure's summary)."""
        metric = self.primary_metric
        pick = max if am.maximize(metric) else min
        table: dict[str, list[float]] = {}
        for run, score, _ in self._iterations(metric):
            algorithm = run.get_properties().get("run_algorithm") or "Failed"
            table.setdefault(algorithm, []).append(score if score is not None else math.nan)
        return [[name, len(scores), pick([s for s in scores if not math.isnan(s)], default=math.nan)]
                for name, scores in table.items()]

    def _check_metric(self, metric: str | None) -> str:
        if metric is None:
            return self.primary_metric
        task = self._definition()["settings"]["task"]
        if metric not in am.task_metrics(task):
            raise ConfigError(f"metric {metric!r} is not a {task} metric; valid: {', '.join(am.task_metrics(task))}")
        return metric


def load_model(run: Run) -> Any:
    """The fitted pipeline an iteration kept (``outputs/model.pkl``)."""
    try:
        return pickle.loads(_read_file(run, MODEL_FILE))
    except RunyardError as e:
        raise NotFoundError(f"iteration run {run.id} kept no {MODEL_FILE}: {e}") from e


def _read_file(run: Run, name: str) -> bytes:
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory(prefix="runyard-automl-") as tmp:
        return Path(run.download_file(name, Path(tmp) / Path(name).name)).read_bytes()
