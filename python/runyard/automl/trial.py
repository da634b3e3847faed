"""One AutoML iteration as a job: the script every iteration's child run runs.

The driver starts it with the run's settings (a file in its snapshot), the training data
(a downloaded dataset input), and this iteration's algorithm and configuration. It scores
the pipeline under the run's validation plan, logs every metric of the task, and leaves in
``outputs/``: ``model.pkl`` (the fitted pipeline: ``model.predict(raw_df)``),
``predictions.npy`` (each row's validation prediction, for the ensembles) and
``featurization_summary.json``. The run's properties say what it was, under Azure's names:
``run_algorithm``, ``run_preprocessor``, ``run_properties`` (the hyperparameters),
``pipeline_spec``, ``score``, ``iteration``, ``training_type``, ``fit_time``.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import signal
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one AutoML iteration (started by an AutoML run's driver)")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--training-data", required=True)
    parser.add_argument("--validation-data")
    parser.add_argument("--iteration", type=int, required=True)
    parser.add_argument("--algorithm", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--estimator", help="what builds the estimator (models.estimator_spec), as JSON")
    args = parser.parse_args(argv)
    from ..run import Run
    from . import models
    from .featurization import FeaturizationConfig
    from .iteration import fit_and_score
    from .validation import ValidationPlan
    settings = json.loads(Path(args.settings).read_text())
    config = json.loads(args.config)
    task = settings["task"]
    algorithm = models.get(task, args.algorithm)
    run = Run.get_context()
    # a stopped iteration ends at once: nothing it logs before its end is worth a deferred SIGTERM
    # (Python runs its handler only once the fit's C code returns)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    featurization = settings["featurization"]
    if isinstance(featurization, dict):
        featurization = FeaturizationConfig.from_json(featurization)
    train = _read(args.training_data)
    valid = _read(args.validation_data) if args.validation_data else None
    plan = ValidationPlan.from_json(settings["plan"])
    cores = settings.get("max_cores_per_iteration", 1)
    estimator = json.loads(args.estimator) if args.estimator else None
    if task == "forecasting":
        from .forecasters import fit_and_score as fit_and_score_forecast
        result = fit_and_score_forecast(train, settings["label_column_name"], args.algorithm, config,
                                        settings["forecasting"], featurization=featurization, cores=cores,
                                        estimator=estimator)
    else:
        result = fit_and_score(task, train, settings["label_column_name"], args.algorithm, config, plan,
                               featurization=featurization, weight_column=settings.get("weight_column_name"),
                               validation_frame=valid, cores=cores, estimator=estimator)
    primary = settings["primary_metric"]
    for note in result.notes:
        print(f"note: {note}")
    for name, value in result.scores.items():
        if math.isfinite(value):
            run.log(name, value)
    outputs = Path("outputs")
    outputs.mkdir(exist_ok=True)
    with open(outputs / "model.pkl", "wb") as fh:
        pickle.dump(result.model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    import numpy as np
    np.save(outputs / "predictions.npy", result.predictions)
    (outputs / "featurization_summary.json").write_text(json.dumps(result.featurization, indent=1))
    score = result.scores.get(primary)
    run.add_properties({
        "score": "nan" if score is None or not math.isfinite(score) else repr(score),
        "training_type": "train_valid" if plan.kind in ("holdout", "validation_data") else "MeanCrossValidation",
        "fit_time": f"{result.fit_seconds:.3f}", "folds": str(result.folds),
        **({"notes": json.dumps(result.notes)} if result.notes else {}),
        "pipeline_spec": json.dumps({"preprocessor": algorithm.preprocessor, "algorithm": args.algorithm,
                                     "hyperparameters": config, "featurization": "auto" if isinstance(
                                         settings["featurization"], dict) else settings["featurization"]}),
    })
    run.flush()
    print(f"iteration {args.iteration}: {algorithm.preprocessor + ' ' if algorithm.preprocessor else ''}"
          f"{args.algorithm} {primary} {score}")


def _read(folder: str) -> Any:
    """The dataset input's table: its Parquet (or CSV) files, in order."""
    import pandas as pd
    path = Path(folder)
    files = sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.suffix in (".parquet", ".csv"))
    if not files:
        sys.exit(f"runyard AutoML: no Parquet or CSV file in the data input {folder}")
    frames = [pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


if __name__ == "__main__":
    main()
