"""Many models: one sales model per store, trained and then used for batch scoring by two
ParallelRunSteps on the local target.

    python submit.py [WORKSPACE] [--stores 2000] [--workers N]

1. ``generate.py`` makes weekly sales of ``--stores`` stores (offline, the same every time):
   52 weeks of history and 4 upcoming weeks to forecast. Each table is partitioned by store
   (``partition_by``), so each store is one mini batch.
2. ``train`` (``src/train.py``) fits a linear regression per store and registers it as that
   store's model: ``EntryScript().register_model("sales-forecast", path, partition=...)``,
   written in bulk once each store's mini batch has succeeded.
3. ``score`` (``src/score.py``) forecasts each store's upcoming weeks with the model
   registered for it: ``Model.get_by_partition(ws, "sales-forecast", {"store": ...})``.
"""

import argparse
import sys
from pathlib import Path

from runyard import Dataset, Datastore, Experiment, Model, Run, Workspace
from runyard.errors import NotFoundError
from runyard.pipeline import OutputFileDatasetConfig, Pipeline
from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here))
import generate  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("workspace", nargs="?", default=str(here / ".runyard"))
parser.add_argument("--stores", type=int, default=2000, help="partitions (default 2000)")
parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the CPUs)")
args = parser.parse_args()
ws = Workspace.create(args.workspace)


def partitioned(name: str, frame) -> Dataset:
    """The table as a dataset partitioned by store, made once per workspace and store count."""
    try:
        return Dataset.get_by_name(ws, name)
    except NotFoundError:
        folder = Path(ws.path) / "example-data"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / f"{name}.csv", index=False)
        store = Datastore.register_local(ws, "many-models", str(folder), overwrite=True)
        table = Dataset.Tabular.from_delimited_files((store, f"{name}.csv"))
        return table.partition_by(["store"], (store, name), name=name, show_progress=False)


history, upcoming = generate.make(args.stores)
history = partitioned(f"sales-history-{args.stores}", history)
upcoming = partitioned(f"sales-upcoming-{args.stores}", upcoming)


def config(entry_script: str, append_row_file_name: str) -> ParallelRunConfig:
    return ParallelRunConfig(environment=None, entry_script=entry_script, source_directory=str(here / "src"),
                             partition_keys=["store"], error_threshold=-1, allowed_failed_count=0,
                             output_action="append_row", append_row_file_name=append_row_file_name,
                             compute_target="local", node_count=1, process_count_per_node=args.workers,
                             run_invocation_timeout=60, run_max_try=3)


models = OutputFileDatasetConfig("models")
forecasts = OutputFileDatasetConfig("forecasts")
train = ParallelRunStep("train", config("train.py", "models.txt"), inputs=[history.as_named_input("history")],
                        output=models)
# the side input (train's output: one line per store) makes scoring wait for training
score = ParallelRunStep("score", config("score.py", "forecasts.txt"), inputs=[upcoming.as_named_input("upcoming")],
                        output=forecasts, side_inputs=[models.as_input()])
run = Experiment(ws, "many-models").submit(Pipeline(ws, [train, score], description="many models"))
run.wait_for_completion(show_output=True)

for step in ("train", "score"):
    (step_run,) = run.find_step_run(step)
    rows = step_run.get_partition_results()
    done = sum(row["status"] == "Succeeded" for row in rows)
    print(f"{step}: {done} of {len(rows)} stores succeeded, reused: {step_run.get_properties().get('azureml.reusedrunid')}")
(train_run,) = run.find_step_run("train")
models_registered = [m for row in train_run.get_partition_results() for m in row["models"]]
print(f"models registered: {len(models_registered)}, e.g. {', '.join(models_registered[:2])}")
model = Model.get_by_partition(ws, "sales-forecast", {"store": "S0000"})
print(f"the model of store S0000: {model.id}, tags {model.tags}")
(score_run,) = run.find_step_run("score")
reused = score_run.get_properties().get("azureml.reusedrunid")
score_run = Run.get(ws, reused) if reused else score_run  # a reused step's files are its earlier run's
lines = Path(score_run.download_file("outputs/forecasts/forecasts.txt", str(Path(ws.path) / "forecasts.txt")))
lines = lines.read_text().splitlines()
print(f"forecasts: {len(lines)} lines (store week forecast model), first: {lines[0]}")
