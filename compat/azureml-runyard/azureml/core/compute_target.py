"""Azure's ``azureml.core.compute_target``: ``ComputeTargetException`` is what looking up an
unknown target name raises (runyard's ``ComputeTargetNotFoundError``), so get-or-create code
takes its usual path."""

from runyard.errors import ComputeTargetNotFoundError as ComputeTargetException

__all__ = ['ComputeTargetException']
