"""Train train.py with the Chainer estimator on the local target: python submit.py"""

from pathlib import Path

from runyard import Chainer, Experiment, Workspace

here = Path(__file__).parent
ws = Workspace.create(here / ".runyard")
estimator = Chainer(str(here), entry_script="train.py", script_params={"--epochs": 20})
run = Experiment(ws, "chainer-blobs").submit(estimator)
run.wait_for_completion(show_output=True)
print("final accuracy", run.get_metrics()["accuracy"][-1])
print(run.get_file_names())
