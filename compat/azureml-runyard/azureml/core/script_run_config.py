"""Azure's ``azureml.core.script_run_config``."""

from runyard.config import ScriptRunConfig

__all__ = ['ScriptRunConfig']
