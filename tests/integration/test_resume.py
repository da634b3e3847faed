"""resume_from: a run starts with a previous run's outputs, or with a checkpoint folder."""

from __future__ import annotations

import pytest

from runyard import ConfigError, Estimator, ScriptRunConfig
from runyard import status as st

TRAIN = """\
import json, os
from runyard import Run
run = Run.get_context()
state = {"epoch": 0}
resume = os.environ.get("RUNYARD_RESUME_FROM")
if resume:
    with open(os.path.join(resume, "checkpoint.json")) as f:
        state = json.load(f)
    run.log("resumed_at", state["epoch"])
state["epoch"] += 5
os.makedirs("outputs", exist_ok=True)
with open("outputs/checkpoint.json", "w") as f:
    json.dump(state, f)
run.log("epoch", state["epoch"])
"""


def test_a_run_resumes_from_the_previous_runs_outputs(experiment, project, compute_target):
    src = project({"train.py": TRAIN})
    first = experiment.submit(ScriptRunConfig(str(src), script="train.py", compute_target=compute_target))
    assert first.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    second = experiment.submit(ScriptRunConfig(str(src), script="train.py", compute_target=compute_target,
                                               resume_from=first))
    details = second.wait_for_completion(timeout=300, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert second.get_metrics() == {"resumed_at": 5, "epoch": 10}
    third = experiment.submit(Estimator(str(src), entry_script="train.py", compute_target=compute_target,
                                        resume_from=second.id))  # a run id works too
    assert third.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    assert third.get_metrics()["epoch"] == 15


def test_a_checkpoint_folder_is_kept_with_the_run(experiment, project, tmp_path):
    src = project({"train.py": TRAIN})
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "checkpoint.json").write_text('{"epoch": 40}')
    run = experiment.submit(ScriptRunConfig(str(src), script="train.py", resume_from=str(checkpoint)))
    assert run.wait_for_completion(timeout=120)["status"] == st.COMPLETED
    assert run.get_metrics() == {"resumed_at": 40, "epoch": 45}
    assert "resume_from/checkpoint.json" in run.get_file_names()


def test_bad_resume_from_is_refused_before_anything_is_recorded(experiment, project, tmp_path):
    src = project({"train.py": TRAIN})
    (tmp_path / "empty").mkdir()
    for value, message in ((str(tmp_path / "nowhere"), "neither a folder nor a run"),
                           (str(tmp_path / "empty"), "holds no files"), (42, "expected a Run")):
        with pytest.raises(ConfigError, match=message):
            experiment.submit(ScriptRunConfig(str(src), script="train.py", resume_from=value))
    assert list(experiment.get_runs()) == []
