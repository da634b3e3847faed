"""Register the evaluated model in the workspace, tagged with its test score."""

import argparse

from runyard import Model, Run

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--name", required=True)
args = parser.parse_args()

run = Run.get_context()
evaluation = run.parent.find_step_run("evaluate")[0] if run.parent is not None else None
score = evaluation.get_metrics().get("test_r2") if evaluation is not None else None
model = Model.register(run.experiment.workspace, model_path=args.model, model_name=args.name,
                       tags={"test_r2": round(score, 4) if score is not None else "unknown", "language": "R"},
                       description="lm() of the diabetes data, fitted in R, scored in Python")
print(f"registered {model.name} version {model.version}")
