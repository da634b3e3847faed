"""Python prep -> R model (in-process, rpy2) -> Python evaluation -> model registration.

    python submit.py [WORKSPACE]

Needs R and `pip install "runyard[r]" scikit-learn pyarrow`. Run it twice: the second
run reuses every step. Change test_size and every step runs again.
"""

import sys
from pathlib import Path

from runyard import Experiment, Model, Workspace
from runyard.pipeline import (OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep,
                              RFunctionStep)

here = Path(__file__).parent
ws = Workspace.create(sys.argv[1] if len(sys.argv) > 1 else here / ".runyard")

train, test = OutputFileDatasetConfig("train"), OutputFileDatasetConfig("test")
coefficients, model = OutputFileDatasetConfig("coefficients"), OutputFileDatasetConfig("model")
test_size = PipelineParameter("test_size", default_value=0.25)
model_name = PipelineParameter("model_name", default_value="diabetes-lm")

steps = [
    PythonScriptStep("prep.py", name="prep", source_directory=here,
                     arguments=["--train", train, "--test", test, "--test-size", test_size]),
    RFunctionStep(name="fit in R", source_directory=here, script_name="model.R", function="fit",
                  inputs=[train.as_input()], outputs=[coefficients]),
    PythonScriptStep("evaluate.py", name="evaluate", source_directory=here,
                     arguments=["--coefficients", coefficients.as_input(), "--test", test.as_input(),
                                "--model", model]),
    # registration changes the workspace: never reused
    PythonScriptStep("register.py", name="register", source_directory=here, allow_reuse=False,
                     arguments=["--model", model.as_input(), "--name", model_name]),
]
pipeline = Pipeline(ws, steps, description="diabetes: Python prep, R model, Python evaluation, registration")
run = Experiment(ws, "pipeline-mixed").submit(pipeline)
run.wait_for_completion(show_output=True)
for step in run.get_steps():
    print(f"{step.display_name:10} {step.get_status():10} reused: {step.get_properties().get('azureml.reusedrunid')}"
          f"  {step.get_metrics()}")
latest = Model(ws, name="diabetes-lm")
print(f"model {latest.id}: tags {latest.tags}")
