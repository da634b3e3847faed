"""Azure's ``azureml.pipeline.steps``."""

from runyard.pipeline import (AutoMLStep, CommandStep, EstimatorStep, HyperDriveStep, ParallelRunConfig,
                              ParallelRunStep, PythonScriptStep, RScriptStep)

__all__ = ['AutoMLStep', 'CommandStep', 'EstimatorStep', 'HyperDriveStep', 'ParallelRunConfig', 'ParallelRunStep', 'PythonScriptStep', 'RScriptStep']
