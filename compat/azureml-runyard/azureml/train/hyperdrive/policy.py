"""Azure's ``azureml.train.hyperdrive.policy``."""

from runyard.hyperdrive import (BanditPolicy, EarlyTerminationPolicy, MedianStoppingPolicy, NoTerminationPolicy,
                                TruncationSelectionPolicy)

__all__ = ['BanditPolicy', 'EarlyTerminationPolicy', 'MedianStoppingPolicy', 'NoTerminationPolicy', 'TruncationSelectionPolicy']
