"""Azure's ``azureml.core.run``: ``Run``, and ``_OfflineRun``, the type of ``Run.get_context()`` outside a job."""

from runyard.run import Run, _OfflineRun

__all__ = ['Run', '_OfflineRun']
