"""HyperDrive: hyperparameter sweeps over any script, estimator or pipeline, on any target.

Azure ML's names: a ``HyperDriveConfig`` of a sampling over a search space of
parameter expressions, a primary metric and goal, limits and an early
termination policy; ``Experiment.submit`` returns a ``HyperDriveRun`` whose
child runs are the trials.

>>> from runyard.hyperdrive import HyperDriveConfig, RandomParameterSampling, BanditPolicy, uniform, choice
>>> sampling = RandomParameterSampling({"--alpha": uniform(0.01, 1.0), "--max_iter": choice(50, 100)})
>>> config = HyperDriveConfig(run_config=src, hyperparameter_sampling=sampling, policy=BanditPolicy(slack_factor=0.1),
...                           primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE",
...                           max_total_runs=20, max_concurrent_runs=2)  # doctest: +SKIP
>>> run = Experiment(ws, "sweep").submit(config)  # doctest: +SKIP
"""

from .config import HyperDriveConfig, PrimaryMetricGoal
from .parameters import (choice, lognormal, loguniform, normal, qlognormal, qloguniform, qnormal, quniform,
                         randint, uniform)
from .policies import (BanditPolicy, EarlyTerminationPolicy, MedianStoppingPolicy, NoTerminationPolicy,
                       TruncationSelectionPolicy)
from .run import HyperDriveRun
from .sampling import (BayesianParameterSampling, GridParameterSampling, HyperParameterSampling,
                       RandomParameterSampling)

__all__ = ["BanditPolicy", "BayesianParameterSampling", "EarlyTerminationPolicy", "GridParameterSampling",
           "HyperDriveConfig", "HyperDriveRun", "HyperParameterSampling", "MedianStoppingPolicy",
           "NoTerminationPolicy", "PrimaryMetricGoal", "RandomParameterSampling", "TruncationSelectionPolicy",
           "choice", "lognormal", "loguniform", "normal", "qlognormal", "qloguniform", "qnormal", "quniform",
           "randint", "uniform"]
