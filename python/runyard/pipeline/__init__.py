"""Pipelines: steps linked by their data, run as one pipeline run with a child run per step.

>>> from runyard.pipeline import Pipeline, PythonScriptStep, OutputFileDatasetConfig, PipelineParameter
>>> prepared = OutputFileDatasetConfig("prepared")
>>> prep = PythonScriptStep("prep.py", arguments=["--out", prepared], source_directory="src")  # doctest: +SKIP
>>> train = PythonScriptStep("train.py", arguments=["--data", prepared.as_input()],
...                          source_directory="src")  # doctest: +SKIP
>>> run = Experiment(ws, "demo").submit(Pipeline(ws, [prep, train]))  # doctest: +SKIP
"""

from .data import OutputFileDatasetConfig, PipelineData, PipelineParameter, StepInput, TrainingOutput
from .automl_step import AutoMLStep
from .hyperdrive_step import HyperDriveStep
from .parallel_run_config import ParallelRunConfig
from .parallel_run_step import ParallelRunStep
from .pipeline import Pipeline
from .published import PipelineEndpoint, PublishedPipeline
from .run import PipelineRun
from .schedule import Schedule, ScheduleRecurrence
from .steps import CommandStep, EstimatorStep, PipelineStep, PythonScriptStep, RFunctionStep, RScriptStep
from .yaml_spec import load_pipeline

__all__ = ["AutoMLStep", "CommandStep", "EstimatorStep", "HyperDriveStep", "OutputFileDatasetConfig", "ParallelRunConfig",
           "ParallelRunStep", "Pipeline",
           "PipelineData", "PipelineEndpoint", "PipelineParameter", "PipelineRun", "PipelineStep", "PublishedPipeline",
           "PythonScriptStep", "RFunctionStep", "RScriptStep", "Schedule", "ScheduleRecurrence", "StepInput",
           "TrainingOutput", "load_pipeline"]
