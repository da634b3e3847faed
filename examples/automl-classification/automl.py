"""AutoML on an imbalanced label: which customers churn (12% of them).

    python make_data.py && python automl.py

AUC_weighted is the primary metric: with 88% "no", accuracy would reward always saying "no"
(the class-balancing guardrail says so too). Two iterations run at once for at most 3 minutes.
"""

import pandas as pd

from runyard import AutoMLConfig, Experiment, Workspace

ws = Workspace.create(".runyard")
frame = pd.read_csv("data/customers.csv")
config = AutoMLConfig(task="classification", primary_metric="AUC_weighted", training_data=frame,
                      label_column_name="churned", experiment_timeout_minutes=3, max_concurrent_iterations=2)
run = Experiment(ws, "churn-automl").submit(config)
print(f"AutoML run {run.id}: follow it with `runyard run logs -f {run.id}`")
run.wait_for_completion()

run.get_guardrails()
for row in run.get_leaderboard()[:5]:
    print(f"iteration {row['iteration']:>3}  {row['algorithm']:<22} AUC_weighted {row['score']}")
best_run, model = run.get_output()
print("best:", best_run.get_properties()["run_algorithm"], best_run.get_metrics()["AUC_weighted"])
print("predicted for five customers:", list(model.predict(frame.drop(columns=["churned"]).head())))
importance = run.get_metrics().get("feature_importance")
if importance:
    print("most important columns:", importance["feature"][:3])
