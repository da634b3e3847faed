"""Train PPO on CartPole with the RLlib estimator on the local target: python submit.py

With --script, runyard runs train.py (your own RLlib code) instead of its launcher.
"""

import sys
from pathlib import Path

from runyard import Experiment, RLlib, Workspace

here = Path(__file__).parent
#: settings that learn CartPole in a few seconds per iteration on two CPU cores
CONFIG = {"lr": 3e-4, "num_epochs": 6, "vf_loss_coeff": 0.01, "train_batch_size_per_learner": 2000, "seed": 0}

ws = Workspace.create(here / ".runyard")
if "--script" in sys.argv:
    estimator = RLlib(str(here), entry_script="train.py", script_params={"--iterations": 10})
else:
    estimator = RLlib(algorithm="PPO", env="CartPole-v1", config=CONFIG, num_workers=1,
                      stop={"training_iteration": 15, "episode_return_mean": 450}, checkpoint_freq=5)
run = Experiment(ws, "rllib-cartpole").submit(estimator)
run.wait_for_completion(show_output=True)
returns = run.get_metrics()["episode_return_mean"]
print(f"episode return mean: {returns[0]:.1f} at the first iteration, {returns[-1]:.1f} at the last")
print([name for name in run.get_file_names() if name.endswith("algorithm_state.pkl")])
