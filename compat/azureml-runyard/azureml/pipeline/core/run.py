"""Azure's ``azureml.pipeline.core.run``: the pipeline's run, its steps' runs and their outputs."""

from runyard.pipeline import PipelineRun
from runyard.pipeline.run import PortDataReference, StepRun, StepRunOutput

__all__ = ['PipelineRun', 'PortDataReference', 'StepRun', 'StepRunOutput']
