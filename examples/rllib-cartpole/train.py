"""PPO on CartPole written with RLlib's own API; the RLlib estimator's entry_script example.

runyard gives it a Ray instance (``ray.init()`` joins it) and ``log_result`` turns each
iteration's results into run metrics. The last checkpoint goes to outputs/.
"""

import argparse
import os

import ray
from ray.rllib.algorithms.ppo import PPOConfig

from runyard import Run
from runyard.rllib import log_result

parser = argparse.ArgumentParser()
parser.add_argument("--iterations", type=int, default=10)
args = parser.parse_args()

ray.init()  # the run's Ray: a private instance on the local target, the cluster on a Ray target
run = Run.get_context()
config = (PPOConfig().environment("CartPole-v1").env_runners(num_env_runners=1)
          .training(lr=3e-4, num_epochs=6, vf_loss_coeff=0.01, train_batch_size_per_learner=2000))
algo = config.build_algo()
for _ in range(args.iterations):
    logged = log_result(run, algo.train())
    print(logged, flush=True)
algo.save_to_path(os.path.abspath("outputs/checkpoint"))
algo.stop()
