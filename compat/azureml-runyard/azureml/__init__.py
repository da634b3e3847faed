"""Azure ML SDK v1's ``azureml`` package paths, served by runyard (the ``azureml-runyard``
distribution). Each module re-exports runyard's own classes under Azure's path.

It refuses to load when Microsoft's ``azureml-core`` is installed too, rather than shadow it.
"""

from ._runyard_compat import refuse_beside_microsoft_sdk

refuse_beside_microsoft_sdk()
