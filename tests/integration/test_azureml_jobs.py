"""Azure ML v1 job scripts and environments on every target: ``from azureml.core.run import Run``
inside jobs on local, Docker and Ray; Microsoft's azureml pip packages and curated environment
names resolved to runyard's layer; ``DockerConfiguration`` and ``DEFAULT_CPU_IMAGE``."""

from __future__ import annotations

import pytest

from runyard import ScriptRunConfig

V1_JOB = """\
import azureml._runyard_compat  # only runyard's layer has it
from azureml.core.run import Run, _OfflineRun

run = Run.get_context()
assert type(run) != _OfflineRun, "the job got an offline run"
run.log("loss", 0.25)
"""


def test_a_v1_job_script_runs_on_every_target(target_experiment, project):
    experiment, target = target_experiment
    run = experiment.submit(ScriptRunConfig(project({"train.py": V1_JOB}), script="train.py",
                                            compute_target=target))
    run.wait_for_completion(timeout=600)
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"loss": 0.25}
