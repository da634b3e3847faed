"""The detached driver of an AutoML run: iterations as child runs, chosen by the search.

It is a ``SweepDriver`` (``runyard.hyperdrive._sweep``): the same loop starts at most
``max_concurrent_iterations`` children, follows them, and stops them at the budget's end.
What AutoML adds:

- at the start, the data guardrails (``outputs/verifier_results.json``);
- the next iteration from ``Search`` (FLAML's cost-frugal search), told every result;
- Azure's exit criteria: ``iterations``, ``experiment_exit_score`` (the best score reaches
  it), early stopping (never in the first 20 iterations; then after 10 iterations in a row
  without a better score), and the timeout, counted from the submission: the search stops
  when 10% of the budget (5 to 60 s) is left for the ensembles and the explanation, and its
  running iterations are stopped, except while no iteration has completed yet: then they get
  until 10% of the budget plus 5 s past its end, so that the run still returns a model;
- at the end, the best child in the parent's tags (``automl_best_child_run_id``,
  ``best_score``).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

from .. import status as st
from ..hyperdrive._sweep import SweepDriver, Trial
from . import metrics as am
from .config import DRIVER_LOG
from .models import estimator_spec, get
from .search import Search

#: Azure's early stopping: never during the first 20 iterations, then after 10 without improvement
EARLY_STOPPING_LANDMARKS = 20
EARLY_STOPPING_ITERATIONS = 10
ITERATION = "iteration"
ENSEMBLES = ("VotingEnsemble", "StackEnsemble")


def early_stop(finished: int, best_index: int) -> bool:
    """Azure's early stopping after ``finished`` iterations whose best was iteration
    ``best_index`` (-1: none scored): never within the first 20; then once the last 10 brought
    nothing better, so iteration 31 is the earliest stop.

    >>> early_stop(29, 0), early_stop(30, 0), early_stop(30, 20), early_stop(31, 20)
    (False, True, False, True)
    """
    return finished >= EARLY_STOPPING_LANDMARKS + EARLY_STOPPING_ITERATIONS \
        and best_index < finished - EARLY_STOPPING_ITERATIONS


class AutoMLDriver(SweepDriver):
    driver_log = DRIVER_LOG
    trial_word, run_word = "iteration", "AutoML run"
    timeout_reason = "the AutoML run's time was up (experiment_timeout_minutes)"

    def setup(self) -> None:
        settings = self.definition["settings"]
        self.task = settings["task"]
        self.earlier = self.earlier_iterations()
        self.search = Search(self.task, self.definition["algorithms"], rows=self.definition["rows"],
                             columns=self.definition["features"], maximize=self.maximize,
                             earlier=[(t.values["algorithm"], t.values["config"], t.trace[-1] if t.trace else None,
                                       t.values["seconds"]) for t in self.earlier
                                      if t.values["algorithm"] not in ENSEMBLES])
        self.trial = self.definition["trial"]
        self.best_score: float | None = None
        self.best_index = -1
        self.grace_until: float | None = None
        self.frames: dict[str, Any] = {}  # the run's datasets, read once
        self.set_deadlines()
        if self.definition.get("warning"):
            self.log(f"note: {self.definition['warning']}")
        self.log(f"{self.task}, primary metric {self.metric} ({'higher' if self.maximize else 'lower'} is better); "
                 f"algorithms: {', '.join(self.definition['algorithms'])}")
        try:
            self.write_guardrails()
        except Exception as e:  # the search goes on without them; the log says why
            traceback.print_exc()
            self.log(f"the data guardrails could not be computed: {type(e).__name__}: {e}")

    def earlier_iterations(self) -> list[Trial]:
        """The ended iterations of the runs this one continues (``earlier_runs``), as trials:
        their algorithm, configuration, seconds and score."""
        found = []
        runs = self.definition.get("earlier_runs") or []
        if not runs:
            return found
        rows = [r for run_id in runs for r in self.store.list_runs(parent_id=run_id)
                if r["status"] in (st.COMPLETED, st.FAILED)]
        scores = {m["run_id"]: float(m["value_num"]) for m in self.store.get_metric_rows(
            [r["run_id"] for r in rows], name=self.metric) if m["value_num"] is not None}
        for row in rows:
            properties = self.store.get_properties(row["run_id"])
            if not properties.get("run_algorithm"):
                continue
            seconds = float(row["end_time"]) - float(row["start_time"]) if row.get("start_time") and \
                row.get("end_time") else 0.0
            score = scores.get(row["run_id"]) if row["status"] == st.COMPLETED else None
            found.append(Trial(int(properties.get(ITERATION, -1)), {
                "algorithm": properties["run_algorithm"], "config": json.loads(properties.get("run_properties") or "{}"),
                "seconds": seconds}, row["run_id"], [score] if score is not None else [], row["status"]))
        scored = [t for t in found if t.trace]
        self.log(f"continuing {', '.join(runs)}: {len(found)} earlier iteration(s), {len(scored)} with a score")
        return found

    def set_deadlines(self) -> None:
        """The budget counts from the run's submission, not from this driver's start. The search
        stops early enough to leave the ensembles and the explanation their share (10% of the
        budget, 5 to 60 s) before the budget's end (``final_deadline``)."""
        self.budget_s = 60 * float(self.definition["max_duration_minutes"])
        created = float(self.store.get_run(self.run_id)["created_at"])
        left = created + self.budget_s - time.time()
        after = bool(self.definition.get("ensembles") or self.definition.get("model_explainability"))
        reserve = min(max(5.0, 0.1 * self.budget_s), 60.0) if after else 0.0
        now = time.monotonic()
        self.final_deadline = now + left
        self.deadline = now + max(left - reserve, 0.0)

    def write_guardrails(self) -> None:
        import io
        from .featurization import FeaturizationConfig, Featurizer
        from .guardrails import check, format_console, verifier_results
        from .validation import ValidationPlan
        settings = self.definition["settings"]
        frame = self.frame()
        plan = ValidationPlan.from_json(settings["plan"])
        label, weight = settings["label_column_name"], settings.get("weight_column_name")
        forecasting = settings.get("forecasting")
        dropped = (label, weight, *plan.columns, *([forecasting["time"]] if forecasting else []))
        features = frame.drop(columns=[c for c in dropped if c and c in frame.columns])
        featurization = settings["featurization"]
        mode, config = (featurization, None) if isinstance(featurization, str) else \
            ("auto", FeaturizationConfig.from_json(featurization))
        featurizer = Featurizer(mode, config).fit(features) if len(features.columns) else None
        found = check(self.task, frame[label], featurizer, plan)
        if forecasting:
            from .guardrails import forecasting as forecasting_guardrails
            found += forecasting_guardrails(forecasting)
        results = verifier_results(found)
        self.workspace._artifacts.put_file(self.run_id, "outputs/verifier_results.json",
                                           io.BytesIO(json.dumps(results, indent=1).encode()))
        self.log(format_console(results))

    # -- the search ----------------------------------------------------------------------
    def next_trial(self) -> tuple[dict[str, Any], Any] | None:
        stop = self.exit_reason()
        if stop:
            self.log(stop)
            self.store.add_properties(self.run_id, {"exit_reason": stop})
            return None
        proposed = self.search.propose(len(self.trials))
        if proposed is None:
            self.log("the search has nothing more to propose")
            return None
        algorithm, config = proposed
        return {"algorithm": algorithm, "config": config}, None

    def exit_reason(self) -> str | None:
        exit_score = self.definition.get("experiment_exit_score")
        if exit_score is not None and self.best_score is not None and (
                self.best_score >= exit_score if self.maximize else self.best_score <= exit_score):
            return (f"experiment_exit_score reached: {self.metric} {self.best_score:.6g} "
                    f"{'>=' if self.maximize else '<='} {exit_score:g}")
        finished = sum(t.status in st.TERMINAL for t in self.trials)
        if self.definition.get("enable_early_stopping") and early_stop(finished, self.best_index):
            return (f"early stopping: no better {self.metric} in the last {EARLY_STOPPING_ITERATIONS} "
                    f"iterations (the best, {self.best_score}, was iteration {self.best_index})")
        return None

    def start_trial(self, index: int, values: dict[str, Any], extra: Any) -> str:
        algorithm, config = values["algorithm"], values["config"]
        entry = get(self.task, algorithm)
        job = self.trial["job"]
        spec = estimator_spec(self.task, algorithm, config, classes=self.definition.get("classes") or 2,
                              cores=self.definition["settings"].get("max_cores_per_iteration", 1))
        arguments = [*job["arguments"], "--iteration", str(index), "--algorithm", algorithm,
                     "--config", json.dumps(config), "--estimator", json.dumps(spec)]
        properties = {ITERATION: str(index), "run_algorithm": algorithm, "run_preprocessor": entry.preprocessor,
                      "run_properties": json.dumps(config), "run_template": "automl_child",
                      "primary_metric": self.metric, "goal": f"{self.metric}_{'max' if self.maximize else 'min'}"}
        return self.submit_job_trial(job, job["command"], arguments, tags={}, display_name=f"{self.run_id}_{index}",
                                     properties=properties)

    def trial_ended(self, trial: Trial) -> None:
        score = trial.trace[-1] if trial.trace and trial.status == st.COMPLETED else None
        row = self.store.get_run(trial.run_id)
        seconds = 0.0
        if row and row.get("start_time") and row.get("end_time"):
            seconds = float(row["end_time"]) - float(row["start_time"])
        self.search.tell(trial.index, score, seconds)
        if score is not None and am.better(self.metric, score, self.best_score):
            self.best_score, self.best_index = score, trial.index
            self.log(f"iteration {trial.index}: {trial.values['algorithm']} {self.metric} {score:.6g} (the best so far)")

    def past_deadline_wait(self) -> bool:
        if any(t.status == st.COMPLETED and t.trace for t in (*self.earlier, *self.trials)) or not self.running:
            return False
        if self.grace_until is None:
            self.grace_until = self.final_deadline + 0.1 * self.budget_s + 5
            self.log("the search's time is spent and no iteration has completed yet: the running ones get "
                     f"{self.grace_until - time.monotonic():.0f} s more, so that there is a model")
        return time.monotonic() < self.grace_until

    def finish(self, timed_out: bool = False) -> None:
        self.wait_for_running()
        self.best_run_id = self.trials[self.best_index].run_id if self.best_index >= 0 else None
        for trial in self.earlier:  # a continued run's best may be an earlier run's iteration
            if trial.trace and trial.status == st.COMPLETED and am.better(self.metric, trial.trace[-1], self.best_score):
                self.best_score, self.best_run_id = trial.trace[-1], trial.run_id
        if self.definition.get("ensembles") and not self.canceled():
            try:
                self.build_ensembles()
            except Exception as e:  # the iterations' best model still stands
                traceback.print_exc()
                self.log(f"the ensembles could not be built: {type(e).__name__}: {e}")
        if self.definition.get("model_explainability") and self.best_run_id is not None and not self.canceled():
            try:
                self.explain()
            except Exception as e:  # the run's outcome stands without them
                traceback.print_exc()
                self.log(f"the feature importances could not be computed: {type(e).__name__}: {e}")
        if self.best_run_id is None and any(t.status != st.FAILED for t in self.trials):
            error = (f"no iteration completed with a {self.metric} score ({len(self.trials)} started"
                     f"{', stopped at the timeout' if timed_out else ''}); see logs/{DRIVER_LOG}")
            self.log(f"AutoML run Failed: {error}")
            self.store.set_status(self.run_id, st.FAILED, error=error)
            return
        if self.definition.get("step_outputs") and not self.canceled():
            try:
                self.write_step_outputs()
            except Exception as e:  # an AutoMLStep's outputs are what the steps after it read
                traceback.print_exc()
                error = f"the step's outputs could not be written: {type(e).__name__}: {e}"
                self.log(f"AutoML run Failed: {error}")
                self.store.set_status(self.run_id, st.FAILED, error=error)
                return
        if self.best_run_id is not None:  # before the run ends: get_output() right after reads it
            self.store.set_tags(self.run_id, {"automl_best_child_run_id": self.best_run_id,
                                              "best_score": repr(self.best_score)})
            algorithm = self.store.get_properties(self.best_run_id).get("run_algorithm")
            self.log(f"best: {self.best_run_id}, {algorithm}, {self.metric} {self.best_score:.6g}")
        super().finish(timed_out)

    def write_step_outputs(self) -> None:
        """An AutoMLStep's outputs, in this run's ``outputs/<name>/``: ``model.pkl`` (the best
        model, or the one its ``TrainingOutput`` chooses) or ``metrics.json`` (each completed
        iteration's run id, algorithm and metrics)."""
        import io
        from ..pipeline.automl_step import METRICS_FILE, MODEL_FILE
        from ..pipeline.data import OUTPUTS_FOLDER
        from .run import AutoMLRun
        run = AutoMLRun._from_id(self.workspace, self.run_id)
        for name, spec in self.definition["step_outputs"].items():
            if spec["type"] == "Model":
                if spec.get("metric"):
                    chosen = run.get_best_child(metric=spec["metric"])
                elif spec.get("iteration") is not None:
                    chosen = run.get_output(iteration=spec["iteration"])[0]
                else:
                    chosen = self.child(self.best_run_id)
                data = io_bytes(chosen, "outputs/model.pkl")
                self.workspace._artifacts.put_file(self.run_id, f"{OUTPUTS_FOLDER}/{name}/{MODEL_FILE}", data)
                self.log(f"step output {name!r}: the model of {chosen.id} "
                         f"({chosen.get_properties().get('run_algorithm')})")
            else:
                metrics = {}
                for child in self.store.list_runs(parent_id=self.run_id):
                    if child["status"] == st.COMPLETED:
                        metrics[child["run_id"]] = {
                            "iteration": self.store.get_properties(child["run_id"]).get(ITERATION),
                            "algorithm": self.store.get_properties(child["run_id"]).get("run_algorithm"),
                            "metrics": self.child(child["run_id"]).get_metrics()}
                self.workspace._artifacts.put_file(self.run_id, f"{OUTPUTS_FOLDER}/{name}/{METRICS_FILE}",
                                                   io.BytesIO(json.dumps(metrics, indent=1, default=str).encode()))
                self.log(f"step output {name!r}: the metrics of {len(metrics)} iteration(s)")

    # -- the ensembles ----------------------------------------------------------------------
    def build_ensembles(self) -> None:
        """The voting and stack ensembles of the best iterations, each a child run of its own."""
        import numpy as np
        from . import ensemble as en
        from .run import load_model
        from .validation import ValidationPlan
        done = [t for t in (*self.earlier, *self.trials) if t.status == st.COMPLETED and t.trace
                and t.values["algorithm"] not in ENSEMBLES]
        if len(done) < 2:
            self.log(f"no ensembles: {len(done)} iteration(s) completed with a score, they need 2")
            return
        settings = self.definition["settings"]
        label = settings["label_column_name"]
        frame = self.frame("scoring")
        plan = ValidationPlan.from_json(settings["plan"])
        y = frame[label].to_numpy()
        classification = self.task == "classification"
        classes = np.unique(self.training_labels()) if classification else None
        if plan.kind == "validation_data":
            folds = [np.arange(len(y))]
        elif plan.kind == "rolling_origin":
            from .forecasters import prepare, validation_rows
            forecasting = settings["forecasting"]
            folds = [rows for rows in validation_rows(prepare(frame, label, forecasting), forecasting) if len(rows)]
        else:
            folds = [valid for _, valid in plan.splits(y, classification=classification, frame=frame)]
        y_range = None if classification else self.training_label_range()  # what the iterations normalised by
        members = []
        for trial in done:
            run = self.child(trial.run_id)
            predictions = np.load(io_bytes(run, "outputs/predictions.npy"))
            members.append(en.Member(trial.run_id, trial.values["algorithm"], trial.trace[-1],
                                     predictions if classification else predictions.reshape(-1)))
        members = en.pool(members, self.metric)
        index = len(self.trials)
        # an ensemble's time goes mostly to loading its members' models and saving them again:
        # the voting one's pace per model says whether the stack of every member fits the budget
        per_model_s = None
        if "VotingEnsemble" in self.definition["ensembles"] and self.budget_left("VotingEnsemble"):
            started = time.monotonic()
            weights, scores = en.select_voting(self.task, self.metric, members, y, folds, classes, y_range)
            chosen = [(m, w) for m, w in zip(members, weights) if w > 0]
            model = en.VotingEnsemble(self.task, [load_model(self.child(m.run_id)) for m, _ in chosen],
                                      [w for _, w in chosen], classes)
            self.record_ensemble(index, "VotingEnsemble", model, scores, [m for m, _ in chosen],
                                 [w for _, w in chosen])
            per_model_s = (time.monotonic() - started) / len(chosen)
            index += 1
        if "StackEnsemble" in self.definition["ensembles"] and self.budget_left(
                "StackEnsemble", None if per_model_s is None else per_model_s * len(members), len(members)):
            meta, scores = en.fit_stack(self.task, members, y, folds, classes, y_range)
            model = en.StackEnsemble(self.task, [load_model(self.child(m.run_id)) for m in members], meta, classes)
            self.record_ensemble(index, "StackEnsemble", model, scores, members, None)

    def budget_left(self, what: str, needs_s: float | None = None, models: int = 0) -> bool:
        """Whether ``what`` (about ``needs_s`` seconds, when known) fits in what is left of the
        budget; when it does not, the log says so."""
        left = self.final_deadline - time.monotonic()
        if left <= 0:
            self.log(f"{what} not built: the budget is spent")
            return False
        if needs_s is not None and needs_s > left:
            self.log(f"{what} not built: its {models} models would take about {needs_s:.0f} s, over the "
                     f"{left:.0f} s left in the budget")
            return False
        return True

    def explain(self) -> None:
        """The best model's importances per raw column, logged on this run as the table and the
        chart ``feature_importance`` (its property ``model_explained`` names the model's run)."""
        import numpy as np
        from ..run import Run
        from .explain import chart, forecast_importances, importances
        from .run import load_model
        settings = self.definition["settings"]
        frame = self.frame("scoring")
        label, weight = settings["label_column_name"], settings.get("weight_column_name")
        model = load_model(self.child(self.best_run_id))
        allowance = max(3.0, self.final_deadline - time.monotonic())
        if settings.get("forecasting"):
            from .forecasters import prepare
            pairs, how = forecast_importances(model, prepare(frame, label, settings["forecasting"]), self.metric,
                                              seconds=allowance, y_range=self.training_label_range())
        else:
            plan_columns = settings["plan"].get("columns") or []
            X = frame.drop(columns=[c for c in (label, weight, *plan_columns) if c and c in frame.columns])
            classification = self.task == "classification"
            pairs, how = importances(model, X, frame[label].to_numpy(), self.task, self.metric, seconds=allowance,
                                     classes=np.unique(self.training_labels()) if classification else None,
                                     y_range=None if classification else self.training_label_range())
        parent = Run._from_id(self.workspace, self.run_id)
        parent.add_properties({"model_explained": self.best_run_id, "explanation": how})
        self.log(f"feature importance: {how}")
        if pairs:
            parent.log_table("feature_importance", {"feature": [p[0] for p in pairs],
                                                    "importance": [p[1] for p in pairs]})
            parent.log_image("feature_importance_chart", plot=chart(pairs, self.metric))
            parent.flush()

    def frame(self, which: str = "training_data") -> Any:
        """The run's training data, or the validation data where there is some (``which``
        ``"scoring"``: what iterations were scored on), read from its dataset once."""
        if which == "scoring":
            which = "validation_data" if self.definition["validation_data"] else "training_data"
        if which not in self.frames:
            from ..data.dataset import Dataset
            data = self.definition[which]
            dataset = Dataset.get_by_name(self.workspace, data["name"], data["version"])
            self.frames[which] = dataset.to_pandas_dataframe()
        return self.frames[which]

    def training_labels(self) -> Any:
        return self.frame()[self.definition["settings"]["label_column_name"]].to_numpy()

    def training_label_range(self) -> tuple[float, float]:
        y = self.training_labels().astype(float)
        return float(y.min()), float(y.max())

    def child(self, run_id: str) -> Any:
        from ..run import Run
        return Run._from_id(self.workspace, run_id)

    def record_ensemble(self, index: int, algorithm: str, model: Any, scores: dict[str, float], members: list[Any],
                        weights: list[float] | None) -> None:
        import io
        import math
        import pickle
        from ..run import Run, new_run_id
        row = self.store.create_run({
            "run_id": new_run_id(self.experiment.name), "experiment": self.experiment.name, "parent_id": self.run_id,
            "display_name": f"{self.run_id}_{index}", "run_type": "child", "status": st.RUNNING,
            "target": None, "start_time": time.time()})
        run = Run._from_row(self.workspace, row)
        score = scores.get(self.metric)
        run.add_properties({
            ITERATION: str(index), "run_algorithm": algorithm, "run_preprocessor": "", "run_template": "automl_child",
            "primary_metric": self.metric, "score": repr(score),
            "ensembled_iterations": json.dumps([self.child(m.run_id).get_properties().get(ITERATION) for m in members]),
            "ensembled_algorithms": json.dumps([m.algorithm for m in members]),
            **({"ensemble_weights": json.dumps([round(w, 6) for w in weights])} if weights is not None else {}),
            "training_type": "train_valid" if len(scores) and self.definition["settings"]["plan"]["kind"] in (
                "holdout", "validation_data") else "MeanCrossValidation"})
        for name, value in scores.items():
            if math.isfinite(value):
                run.log(name, value)
        run.upload_file("outputs/model.pkl", io.BytesIO(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)))
        run.complete()
        self.log(f"iteration {index}: {algorithm} of {len(members)} iteration(s), {self.metric} {score:.6g}")
        if am.better(self.metric, score, self.best_score):
            self.best_score, self.best_run_id = score, run.id

def io_bytes(run: Any, name: str) -> Any:
    """A run's file as a file object in memory."""
    import io
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory(prefix="runyard-automl-") as tmp:
        return io.BytesIO(Path(run.download_file(name, Path(tmp) / Path(name).name)).read_bytes())


if __name__ == "__main__":
    from ..compute import local
    local.FORKSERVER = local.Forkserver(["runyard.compute._supervisor", "runyard.workspace", "runyard.store.sql",
                                         "runyard.environment"])
    AutoMLDriver(sys.argv[1], sys.argv[2]).main()
