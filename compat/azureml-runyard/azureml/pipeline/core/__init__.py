"""Azure's ``azureml.pipeline.core``."""

from runyard.pipeline import (Pipeline, PipelineData, PipelineEndpoint, PipelineParameter, PipelineRun,
                              PublishedPipeline, Schedule, ScheduleRecurrence)

__all__ = ['Pipeline', 'PipelineData', 'PipelineEndpoint', 'PipelineParameter', 'PipelineRun', 'PublishedPipeline', 'Schedule', 'ScheduleRecurrence']
