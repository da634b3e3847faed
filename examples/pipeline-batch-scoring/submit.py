"""Batch scoring: a registered model scores the newest version of a registered dataset.

    python submit.py [WORKSPACE]

The first run trains and registers the model "diabetes-ridge" (an ordinary run and
run.register_model). Each run writes a new batch of rows into the datastore "incoming",
registers it as the next version of dataset "diabetes-batch", and submits the pipeline
score -> summarize; the scores are registered as dataset "diabetes-scores" when the score
step completes, produced by that step's run. The same batch submitted again is reused.
"""

import sys
from pathlib import Path

from runyard import Dataset, Datastore, Experiment, Model, ScriptRunConfig, Workspace
from runyard.errors import NotFoundError
from runyard.pipeline import OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep

here = Path(__file__).parent
ws = Workspace.create(sys.argv[1] if len(sys.argv) > 1 else here / ".runyard")
batch_number = int(sys.argv[2]) if len(sys.argv) > 2 else 1

# 1. the model: trained once by a run, registered from that run's outputs
try:
    model = Model(ws, name="diabetes-ridge")
except NotFoundError:
    training = Experiment(ws, "diabetes-training").submit(ScriptRunConfig(str(here), script="train.py"))
    training.wait_for_completion(show_output=False)
    model = training.register_model("diabetes-ridge", "outputs/model.pkl", tags={"algorithm": "ridge"})
print(f"model {model.id} from run {model.run_id}")

# 2. a batch of rows lands in the datastore and becomes the next version of the dataset
from sklearn.datasets import load_diabetes  # noqa: E402

incoming_folder = Path(ws.path).parent / "incoming"
incoming_folder.mkdir(exist_ok=True)
features = load_diabetes(as_frame=True).data
batch = features.sample(n=40, random_state=batch_number)
batch.to_csv(incoming_folder / "batch.csv", index=False)
incoming = Datastore.register_local(ws, "incoming", str(incoming_folder), overwrite=True)
rows = Dataset.Tabular.from_delimited_files([(incoming, "batch.csv")])
rows = rows.register(ws, "diabetes-batch", description="rows to score", create_new_version=True)
print(f"dataset {rows.name} version {rows.version}")

# 3. the pipeline: score (its output registered as a dataset) -> summarize. The model goes in
# by id (name:version): a new model version changes the step, so it is not reused.
scores = OutputFileDatasetConfig("scores").read_delimited_files().register_on_complete(
    "diabetes-scores", description="predictions of diabetes-ridge")
threshold = PipelineParameter("threshold", default_value=150.0)
score = PythonScriptStep("score.py", name="score", source_directory=here,
                         arguments=["--batch", rows.as_named_input("batch").as_download(),
                                    "--model", model.id, "--out", scores])
summarize = PythonScriptStep("summarize.py", name="summarize", source_directory=here,
                             arguments=["--scores", scores.as_input(), "--threshold", threshold])
run = Experiment(ws, "batch-scoring").submit(Pipeline(ws, [score, summarize], description="batch scoring"))
run.wait_for_completion(show_output=True)
for step in run.get_steps():
    print(f"{step.display_name:10} {step.get_status():10} reused: {step.get_properties().get('azureml.reusedrunid')}"
          f"  {step.get_metrics()}")
predictions = Dataset.get_by_name(ws, "diabetes-scores")
print(f"dataset {predictions.name} version {predictions.version}, produced by run {predictions.producing_run.id}")
print(predictions.to_pandas_dataframe().head())
