"""A job YAML file, loaded with runyard.load_job_file, submits and runs."""

from __future__ import annotations

import pytest

from runyard import Experiment, load_job_file
from runyard import status as st

TRAIN = """\
import argparse, os, six
from runyard import Run
parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--data")
parser.add_argument("--label")
args = parser.parse_args()
run = Run.get_context()
run.log("alpha", args.alpha)
run.log("rows", len(open(os.path.join(args.data, "rows.csv")).read().splitlines()))
run.log("label", args.label)
run.log("mode", os.environ["MODE"])
run.log("six", six.__version__)
"""

JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
experiment_name: yaml-jobs
display_name: yaml run
tags:
  source: yaml
code: src
command: python train.py --alpha ${{inputs.alpha}} --data ${{inputs.data}} --label ${{inputs.label}}
inputs:
  alpha: 0.3
  label:
    type: string
    default: first try
  data:
    type: uri_folder
    path: data
environment_variables:
  MODE: yaml
compute: local
"""


@pytest.mark.parametrize("environment, files", [
    ("environment: requirements.txt\n", {"requirements.txt": "six==1.16.0\n"}),
    ("environment:\n  name: inline\n  conda_file: conda.yml\n",
     {"conda.yml": "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - six==1.16.0\n"}),
], ids=["requirements file", "inline conda_file"])
def test_job_file_submits_and_runs(workspace, project, environment, files):
    folder = project({"job.yml": JOB + environment, "src/train.py": TRAIN,
                      "data/rows.csv": "a\n1\n2\n", **files})
    job = load_job_file(folder / "job.yml", workspace=workspace)
    run = Experiment(workspace, job.experiment_name).submit(job.config, tags=job.tags,
                                                            display_name=job.display_name)
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED
    assert details["experimentName"] == "yaml-jobs"
    assert details["displayName"] == "yaml run"
    assert details["tags"] == {"source": "yaml"}
    assert details["environmentHash"] == job.config.resolved_environment().hash
    assert run.get_metrics() == {"alpha": 0.3, "rows": 3, "label": "first try", "mode": "yaml", "six": "1.16.0"}


def test_job_file_with_a_registered_environment(workspace, project):
    from runyard import Environment
    env = Environment("registered")
    env.python.user_managed_dependencies = True
    env.register(workspace)
    folder = project({"job.yml": "command: python -c \"print('registered env ok')\"\n"
                                 "environment: azureml:registered:1\n"})
    job = load_job_file(folder / "job.yml", workspace=workspace)
    assert job.config.resolved_environment().version == "1"
    run = Experiment(workspace, "default").submit(job.config)
    run.wait_for_completion()
    assert "registered env ok" in run.get_log()
