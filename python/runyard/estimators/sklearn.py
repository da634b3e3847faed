"""``SKLearn``: scikit-learn training in a curated environment (one process)."""

from __future__ import annotations

from .base import Estimator


class SKLearn(Estimator):
    """Train a scikit-learn script. ``framework_version`` picks the curated environment
    (``runyard-sklearn-<version>-cpu``); scikit-learn trains in one process, so
    ``node_count``/``process_count_per_node`` above 1 are refused.

    >>> SKLearn("src", entry_script="train.py").environment.name
    'runyard-sklearn-1.9-cpu'
    """

    framework = "sklearn"
    distributable = False
