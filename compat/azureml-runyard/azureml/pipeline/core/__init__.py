"""Azure's ``azureml.pipeline.core``."""

from runyard.pipeline import (Pipeline, PipelineData, PipelineEndpoint, PipelineParameter, PipelineRun,
                              PublishedPipeline, Schedule, ScheduleRecurrence)
from runyard.pipeline.run import PortDataReference, StepRun, StepRunOutput

__all__ = ['Pipeline', 'PipelineData', 'PipelineEndpoint', 'PipelineParameter', 'PipelineRun', 'PortDataReference', 'PublishedPipeline', 'Schedule', 'ScheduleRecurrence', 'StepRun', 'StepRunOutput']
