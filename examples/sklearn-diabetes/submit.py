"""The same job from Python, the Azure ML SDK v1 way: python submit.py"""

from pathlib import Path

from runyard import Environment, Experiment, ScriptRunConfig, Workspace

here = Path(__file__).parent
ws = Workspace.create(here / ".runyard")
env = Environment.from_pip_requirements("sklearn-diabetes", here / "requirements.txt")
config = ScriptRunConfig(source_directory=str(here), script="train.py",
                         arguments=["--alpha-step", 0.1], environment=env)
run = Experiment(ws, "sklearn-diabetes").submit(config, tags={"model": "ridge"})
run.wait_for_completion(show_output=True)
print(run.get_metrics())
print(run.get_file_names())
