"""``Chainer``: a Chainer script in a curated environment; distributed as ChainerMN over MPI."""

from __future__ import annotations

from ..distributed import MpiConfiguration
from .base import Estimator


class Chainer(Estimator):
    """Train a Chainer script (``runyard-chainer-7.8-cpu``: Chainer 7.8.1 with mpi4py).
    ``node_count`` x ``process_count_per_node`` above 1 (or
    ``distributed_training=MpiConfiguration(...)``) starts that many MPI processes, for a
    script that trains with ChainerMN (``chainermn.create_communicator()``).

    >>> Chainer("src", entry_script="train.py").environment.name  # doctest: +SKIP
    'runyard-chainer-7.8-cpu'
    """

    framework = "chainer"

    distributed_configs = (MpiConfiguration,)
