"""prep -> train -> evaluate as a pipeline, the Azure ML SDK v1 way: python submit.py [WORKSPACE]

Run it twice: the second run reuses every step. Change --alpha with
pipeline_parameters and only train and evaluate run again.
"""

import sys
from pathlib import Path

from runyard import (Experiment, OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep,
                     Workspace)

here = Path(__file__).parent
ws = Workspace.create(sys.argv[1] if len(sys.argv) > 1 else here / ".runyard")

prepared = OutputFileDatasetConfig("prepared")
model = OutputFileDatasetConfig("model")
alpha = PipelineParameter("alpha", default_value=0.5)

prep = PythonScriptStep("prep.py", name="prep", arguments=["--out", prepared], source_directory=here)
train = PythonScriptStep("train.py", name="train", source_directory=here,
                         arguments=["--data", prepared.as_input(), "--alpha", alpha, "--model", model])
evaluate = PythonScriptStep("evaluate.py", name="evaluate", source_directory=here,
                            arguments=["--data", prepared.as_input(), "--model", model.as_input()])

pipeline = Pipeline(ws, steps=[prep, train, evaluate], description="diabetes: prep, train, evaluate")
run = Experiment(ws, "pipeline-diabetes").submit(pipeline, pipeline_parameters={"alpha": 0.1})
run.wait_for_completion(show_output=True)
for step in run.get_steps():
    print(f"{step.display_name:10} {step.get_status():10} reused: {step.get_properties().get('azureml.reusedrunid')}"
          f"  {step.get_metrics()}")
