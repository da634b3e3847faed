"""Azure's ``azureml.pipeline.core.schedule``."""

from runyard.pipeline import Schedule, ScheduleRecurrence

__all__ = ['Schedule', 'ScheduleRecurrence']
