"""Azure's ``azureml.pipeline.core.run`` (``StepRun`` is not here: a step's run is a plain ``Run``)."""

from runyard.pipeline import PipelineRun

__all__ = ['PipelineRun']
