"""Sweep train.py's learning rate and regularisation, stopping trials that fall behind:

    python examples/sklearn-sweep/sweep.py

Each trial is a child run on the local target (in this Python, which has scikit-learn);
pass compute_target= to the ScriptRunConfig to run them in Docker or on Ray.
"""

import math
from pathlib import Path

from runyard import (BanditPolicy, Experiment, HyperDriveConfig, PrimaryMetricGoal, RandomParameterSampling,
                     ScriptRunConfig, Workspace, choice, loguniform)

here = Path(__file__).parent
ws = Workspace.create(here / ".runyard", exist_ok=True)
sampling = RandomParameterSampling({
    "--alpha": loguniform(math.log(1e-6), math.log(1e-1)),
    "--eta0": choice(0.001, 0.01, 0.1),
})
config = HyperDriveConfig(run_config=ScriptRunConfig(str(here), script="train.py"),
                          hyperparameter_sampling=sampling,
                          policy=BanditPolicy(slack_factor=0.05, evaluation_interval=1, delay_evaluation=3),
                          primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                          max_total_runs=6, max_concurrent_runs=2)
run = Experiment(ws, "digits-sweep").submit(config)
run.wait_for_completion(show_output=True)
for trial in run.get_children_sorted_by_primary_metric(top=3):
    print(f"{trial['best_primary_metric']:.4f}  {trial['hyperparameters']}  {trial['status']}")
best = run.get_best_run_by_primary_metric()
print("best run:", best.id, best.get_file_names())
