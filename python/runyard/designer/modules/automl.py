"""AutoML: the table's best model by runyard's AutoML (an AutoML run of the step's experiment,
its iterations child runs as always), written to the model port for Score Model."""

import argparse

from _frames import columns, read_frame, write_model

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--task", required=True, choices=("classification", "regression"))
parser.add_argument("--label", required=True)
parser.add_argument("--primary_metric", default=None)
parser.add_argument("--timeout_minutes", type=float, default=5.0)
parser.add_argument("--max_concurrent_iterations", type=int, default=1)
parser.add_argument("--allowed_models", default="", help="comma-separated (none: all)")
parser.add_argument("--model", required=True)
args = parser.parse_args()
frame = read_frame(args.input)
label = columns(args.label, frame, "label")[0]

from runyard import AutoMLConfig, Run  # noqa: E402

step = Run.get_context(allow_offline=False)
settings = {"primary_metric": args.primary_metric} if args.primary_metric else {}
allowed = [m.strip() for m in args.allowed_models.split(",") if m.strip()]
config = AutoMLConfig(task=args.task, training_data=frame, label_column_name=label,
                      experiment_timeout_minutes=args.timeout_minutes,
                      max_concurrent_iterations=args.max_concurrent_iterations,
                      **({"allowed_models": allowed} if allowed else {}), **settings)
automl = step.experiment.submit(config, tags={"designer_step": step.id})
step.tag("automl_run_id", automl.id)
print(f"AutoML run {automl.id}: {args.timeout_minutes} minutes at most", flush=True)
automl.wait_for_completion(show_output=False)
best, model = automl.get_output()
features = [c for c in frame.columns if c != label]
write_model(model, {"learner": f"AutoML: {best.get_properties().get('run_algorithm')}", "task": args.task,
                    "label": label, "features": features, "rows": len(frame), "automl_run_id": automl.id,
                    "best_run_id": best.id}, args.model)
