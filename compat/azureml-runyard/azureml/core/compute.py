"""Azure's ``azureml.core.compute``: ``ComputeTarget(ws, name)`` finds a registered target;
an ``AmlCompute`` cluster is a local target under its name (see ``runyard.compute.amlcompute``)."""

from runyard.compute import ComputeTarget
from runyard.compute.amlcompute import AmlCompute

__all__ = ['AmlCompute', 'ComputeTarget']
