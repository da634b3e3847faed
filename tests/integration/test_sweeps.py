"""HyperDrive sweeps run for real: trials as child runs on every target, each policy stopping
exactly the trials its formula stops on traces written here, grids, failures, a metric never
logged, cancel and time limits, a killed driver resumed without running a trial twice, warm
start and resumed child runs, and bad input refused before anything is recorded."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from runyard import (BanditPolicy, Experiment, GridParameterSampling, HyperDriveConfig, MedianStoppingPolicy,
                     RandomParameterSampling, ScriptRunConfig, TruncationSelectionPolicy, Workspace, choice,
                     uniform)
from runyard import status as st
from runyard.errors import ConfigError, NotFoundError
from runyard.hyperdrive import HyperDriveRun

TRAIN = """\
    import argparse, os, sys
    from runyard import Run
    p = argparse.ArgumentParser()
    p.add_argument("--alpha", type=float); p.add_argument("--k", type=int, default=1)
    p.add_argument("--fail_above", type=float, default=None)
    a = p.parse_args()
    run = Run.get_context()
    if a.fail_above is not None and a.alpha > a.fail_above:
        sys.exit(f"alpha {a.alpha} is too large")
    for epoch in range(3):
        run.log("score", round(1 - (a.alpha - 0.3) ** 2 + 0.01 * epoch * a.k, 6))
    """
# each trial logs its trace, then waits long enough for the policy's decision to reach it
TRACE = """\
    import argparse, time
    from runyard import Run
    TRACES = {"A": [0.5, 0.6, 0.8, 0.9], "B": [0.5, 0.55, 0.7, 0.85], "C": [0.6, 0.7, 0.8, 0.9],
              "D": [0.3, 0.4, 0.9, 0.9], "E": [1, 1, 1, 1]}
    p = argparse.ArgumentParser(); p.add_argument("--trace"); a = p.parse_args()
    run = Run.get_context()
    for value in TRACES[a.trace]:
        run.log("acc", value)
    run.flush()
    time.sleep(4)
    """
SLEEP = """\
    import argparse, os, time
    from runyard import Run
    p = argparse.ArgumentParser(); p.add_argument("--x"); p.add_argument("--y", default="0")
    p.add_argument("--seconds", type=float, default=60)
    a = p.parse_args()
    run = Run.get_context()
    resumed = os.environ.get("RUNYARD_RESUME_FROM")
    if resumed and os.path.isfile(os.path.join(resumed, "checkpoint.txt")):
        run.log("resumed_at", float(open(os.path.join(resumed, "checkpoint.txt")).read()))
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/checkpoint.txt", "w") as fh:
        fh.write(a.x)
    print("working", flush=True)
    run.log("value", float(a.x) + float(a.y))
    run.flush()
    time.sleep(a.seconds)
    """


def _sweep(src, sampling, *, script="train.py", arguments=None, target="local", metric="score", **options):
    options.setdefault("max_total_runs", 4)
    options.setdefault("max_concurrent_runs", 2)
    return HyperDriveConfig(run_config=ScriptRunConfig(str(src), script=script, arguments=arguments or [],
                                                       compute_target=target),
                            hyperparameter_sampling=sampling, primary_metric_name=metric,
                            primary_metric_goal="MAXIMIZE", **options)


def _trials(run: HyperDriveRun) -> dict[str, dict]:
    """Trial run id -> {values, status, stopped_by, arguments}."""
    out = {}
    for child in run.get_children():
        details = child.get_details()
        out[child.id] = {"values": json.loads(child.get_properties()["hyperparameters"]),
                         "status": details["status"], "stopped_by": child.get_properties().get("stopped_by"),
                         "arguments": details["runDefinition"]["arguments"]}
    return out


def test_a_sweep_runs_each_trial_as_a_child_run_on_every_target(target_experiment, project):
    experiment, target = target_experiment
    src = project({"train.py": TRAIN})
    sampling = RandomParameterSampling({"--alpha": uniform(0, 1), "k": choice(1, 2)}, properties={"seed": 11})
    run = experiment.submit(_sweep(src, sampling, target=target))
    assert isinstance(run, HyperDriveRun) and run.type == "hyperdrive"
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details.get("error")
    trials = _trials(run)
    assert len(trials) == 4
    for trial in trials.values():
        assert trial["status"] == st.COMPLETED
        values = trial["values"]
        assert trial["arguments"] == ["--alpha", str(values["--alpha"]), "--k", str(values["k"])]
    expected = [sampling.proposer().propose(i) for i in range(4)]  # seeded: the same values, in order
    assert sorted(json.dumps(t["values"], sort_keys=True) for t in trials.values()) == \
        sorted(json.dumps(v, sort_keys=True) for v in expected)
    ranked = run.get_children_sorted_by_primary_metric()
    scores = {child: max(m["score"]) for child, m in run.get_metrics().items()}
    assert [r["run_id"] for r in ranked] == sorted(scores, key=scores.get, reverse=True)
    assert ranked[0]["best_primary_metric"] == max(scores.values())
    assert run.get_best_run_by_primary_metric().id == ranked[0]["run_id"]
    assert run.get_hyperparameters() == {child: t["values"] for child, t in trials.items()}
    assert run.get_children_sorted_by_primary_metric(top=1, reverse=True)[0]["run_id"] == ranked[-1]["run_id"]
    assert "sweep Completed: 4 trial(s)" in details_log(run)


def _most_at_once(run) -> int:
    """The most trials that were between Queued and their end at one time."""
    from datetime import datetime
    events = []
    for child in run.get_children():
        details = child.get_details()
        events += [(datetime.fromisoformat(details["createdTimeUtc"]), 1),
                   (datetime.fromisoformat(details["endTimeUtc"]), -1)]
    most = now = 0
    for _, change in sorted(events):
        now += change
        most = max(most, now)
    return most


def details_log(run) -> str:
    """The sweep driver's log."""
    return Path(run.get_details()["logFiles"]["logs/hyperdrive.log"]).read_text()


@pytest.mark.parametrize("policy, stopped", [
    # B at 3: 0.7 < 0.8 / 1.1 = 0.727; D at 1: 0.3 < 0.6 / 1.1 = 0.545
    (BanditPolicy(slack_factor=0.1), {"B": 3, "D": 1}),
    # D at 2: best 0.4 < 0.5375, the median of the running averages A 0.55, B 0.525, C 0.65, D 0.35
    (MedianStoppingPolicy(delay_evaluation=2), {"D": 2}),
    # at 2: B the worst 1 of {A .6, B .55}; D among the worst 2 of {A .6, B .55, C .7, D .4};
    # E at 4 is not among the worst 2 of {.9, .85, .9, .9, 1}
    (TruncationSelectionPolicy(50, evaluation_interval=2), {"B": 2, "D": 2}),
])
def test_each_policy_stops_exactly_the_trials_its_formula_stops(experiment, project, policy, stopped):
    src = project({"trace.py": TRACE})
    config = _sweep(src, GridParameterSampling({"--trace": choice("A", "B", "C", "D", "E")}), script="trace.py",
                    metric="acc", policy=policy, max_total_runs=5, max_concurrent_runs=1)
    run = experiment.submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details.get("error")
    found = {}
    for trial in _trials(run).values():
        if trial["stopped_by"]:
            assert trial["status"] == st.CANCELED
            assert trial["stopped_by"].startswith(type(policy).__name__)
            found[trial["values"]["--trace"]] = int(trial["stopped_by"].split("at interval ")[1].split()[0])
        else:
            assert trial["status"] == st.COMPLETED
    assert found == stopped


def test_a_grid_runs_every_point_once(experiment, project):
    src = project({"train.py": TRAIN})
    run = experiment.submit(_sweep(src, GridParameterSampling({"--alpha": choice(0.1, 0.3, 0.5), "k": choice(1, 2)}),
                                   max_total_runs=20))
    assert run.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    points = [json.dumps(t["values"], sort_keys=True) for t in _trials(run).values()]
    assert len(points) == 6 and len(set(points)) == 6
    assert _most_at_once(run) == 2  # max_concurrent_runs
    assert run.get_best_run_by_primary_metric().get_properties()["hyperparameters"] == '{"--alpha": 0.3, "k": 2}'
    assert "no more values to try after 6 trial(s)" in details_log(run)


def test_failing_trials_fail_and_the_sweep_goes_on(experiment, project):
    src = project({"train.py": TRAIN})
    grid = GridParameterSampling({"--alpha": choice(0.2, 0.9)})
    run = experiment.submit(_sweep(src, grid, arguments=["--fail_above", 0.5]))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED
    statuses = {t["values"]["--alpha"]: t["status"] for t in _trials(run).values()}
    assert statuses == {0.2: st.COMPLETED, 0.9: st.FAILED}
    assert json.loads(run.get_properties()["warnings"]) == ["1 trial(s) failed"]

    everything_fails = experiment.submit(_sweep(src, grid, arguments=["--fail_above", 0.0]))
    details = everything_fails.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    message = details["error"]["message"]
    assert message.startswith("all 2 trial(s) failed; the first, trial 0")
    assert "alpha 0.2 is too large" in message


def test_a_primary_metric_no_trial_logs_is_reported(experiment, project):
    src = project({"train.py": TRAIN})
    run = experiment.submit(_sweep(src, GridParameterSampling({"--alpha": choice(0.2, 0.4)}), metric="accuracy"))
    assert run.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    warnings = json.loads(run.get_properties()["warnings"])
    assert warnings[0].startswith("2 of 2 trial(s) never logged the primary metric 'accuracy'")
    assert run.get_best_run_by_primary_metric() is None
    assert [t["best_primary_metric"] for t in run.get_children_sorted_by_primary_metric()] == [None, None]
    assert run.get_children_sorted_by_primary_metric(discard_no_metric=True) == []


def test_cancel_stops_the_running_trials(experiment, project, wait_for, process_gone, compute_target):
    """No process or container is left (the docker_target fixture checks the containers)."""
    src = project({"sleep.py": SLEEP})
    run = experiment.submit(_sweep(src, GridParameterSampling({"--x": choice(1, 2, 3)}), script="sleep.py",
                                   metric="value", target=compute_target))
    wait_for(lambda: len([c for c in run.get_children() if "working" in c.get_log()]) == 2, timeout=300,
             what="two trials to run")
    pids = [experiment.workspace._store.get_run(c.id)["supervisor_pid"] for c in run.get_children()]
    run.cancel()
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.CANCELED
    trials = _trials(run)
    assert len(trials) == 2  # the third never started
    assert {t["status"] for t in trials.values()} == {st.CANCELED}
    assert {t["stopped_by"] for t in trials.values()} == {"the sweep was canceled"}
    for pid in pids:
        wait_for(lambda: process_gone(pid), what=f"trial supervisor {pid} to end")


def test_max_duration_minutes_stops_the_sweep(experiment, project):
    src = project({"sleep.py": SLEEP})
    run = experiment.submit(_sweep(src, GridParameterSampling({"--x": choice(1, 2, 3)}), script="sleep.py",
                                   metric="value", max_duration_minutes=0.1))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED
    assert "stopped after max_duration_minutes=0.1" in json.loads(run.get_properties()["warnings"])
    trials = _trials(run)
    assert {t["stopped_by"] for t in trials.values()} == {"the sweep reached its max_duration_minutes"}
    assert run.get_best_run_by_primary_metric() is not None  # canceled trials still count, with what they logged


def test_a_killed_driver_is_found_lost_and_its_sweep_resumed_without_running_a_trial_twice(
        workspace, experiment, project, wait_for, process_gone):
    src = project({"sleep.py": SLEEP})
    grid = GridParameterSampling({"--x": choice(1, 2, 3), "--y": choice(10, 20)})
    config = _sweep(src, grid, script="sleep.py", metric="value", arguments=["--seconds", 0.5], max_total_runs=6,
                    max_concurrent_runs=1)
    first = experiment.submit(config)
    wait_for(lambda: len([c for c in first.get_children() if c.get_status() == st.COMPLETED]) >= 2, timeout=180,
             what="two trials to complete")
    driver = workspace._store.get_run(first.id)["supervisor_pid"]
    os.kill(driver, signal.SIGKILL)
    wait_for(lambda: process_gone(driver), what="the driver to die")
    Workspace.get(workspace.path)  # opening the workspace notices the lost sweep
    assert first.get_status() == st.FAILED
    for child in first.get_children():
        child.wait_for_completion(raise_on_error=False)  # a trial running then goes on to its end
    before = [json.dumps(t["values"], sort_keys=True) for t in _trials(first).values()]
    assert 2 <= len(before) < 6

    config = _sweep(src, grid, script="sleep.py", metric="value", arguments=["--seconds", 0.5], max_total_runs=6,
                    max_concurrent_runs=1, resume_from=[first])
    second = experiment.submit(config)
    assert second.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    after = [json.dumps(t["values"], sort_keys=True) for t in _trials(second).values()]
    assert len(before) + len(after) == 6 and len(set(before + after)) == 6
    best = second.get_best_run_by_primary_metric()  # of both sweeps: x=3, y=20
    assert json.loads(best.get_properties()["hyperparameters"]) == {"--x": 3, "--y": 20}
    assert second.get_best_run_by_primary_metric(include_resume_from_runs=False).parent.id == second.id


def test_warm_start_skips_tried_values_and_resumed_children_start_from_their_checkpoints(experiment, project):
    src = project({"sleep.py": SLEEP})
    space = RandomParameterSampling({"--x": choice(1, 2, 3, 4, 5, 6, 7, 8)}, properties={"seed": 4})
    first = experiment.submit(_sweep(src, space, script="sleep.py", metric="value", arguments=["--seconds", 0],
                                     max_total_runs=3))
    assert first.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    earlier = _trials(first)
    resumed_id = next(iter(earlier))
    second = experiment.submit(_sweep(src, space, script="sleep.py", metric="value", arguments=["--seconds", 0],
                                      max_total_runs=3, resume_from=first, resume_child_runs=[resumed_id]))
    assert second.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    later = _trials(second)
    assert len(later) == 3
    resumed = [child for child in second.get_children() if child.get_properties().get("resumed_from") == resumed_id]
    assert len(resumed) == 1
    assert later[resumed[0].id]["values"] == earlier[resumed_id]["values"]
    checkpoint = float(earlier[resumed_id]["values"]["--x"])
    assert resumed[0].get_metrics()["resumed_at"] == checkpoint
    new = [json.dumps(t["values"]) for run_id, t in later.items() if run_id != resumed[0].id]
    assert not set(new) & {json.dumps(t["values"]) for t in earlier.values()}


def test_bad_sweeps_are_refused_before_anything_is_recorded(workspace, experiment, project):
    src = project({"train.py": TRAIN, "other.py": "print(1)"})
    grid = GridParameterSampling({"--alpha": choice(0.2, 0.4)})
    with pytest.raises(ConfigError, match="the script's arguments already hold '--alpha'"):
        experiment.submit(_sweep(src, grid, arguments=["--alpha", 0.5]))
    with pytest.raises(ConfigError, match="script 'missing.py' does not exist"):
        experiment.submit(_sweep(src, grid, script="missing.py"))
    with pytest.raises(ConfigError, match="compute_target 'nowhere' is not in workspace"):
        experiment.submit(_sweep(src, grid, target="nowhere"))
    with pytest.raises(NotFoundError, match="resume_from 'nope' is not a sweep"):
        experiment.submit(_sweep(src, grid, resume_from="nope"))
    plain = experiment.submit(ScriptRunConfig(str(src), script="other.py"))
    plain.wait_for_completion()
    with pytest.raises(NotFoundError, match=f"resume_from '{plain.id}' is not a sweep"):
        experiment.submit(_sweep(src, grid, resume_from=plain))
    assert [r.id for r in Experiment(workspace, experiment.name).get_runs()] == [plain.id]


PREPARE = """\
    import argparse, os
    p = argparse.ArgumentParser(); p.add_argument("--out"); a = p.parse_args()
    open(os.path.join(a.out, "target.txt"), "w").write("0.3")
    """
FIT = """\
    import argparse, os
    from runyard import Run
    p = argparse.ArgumentParser(); p.add_argument("--data"); p.add_argument("--model"); p.add_argument("--alpha")
    a = p.parse_args()
    target = float(open(os.path.join(a.data, "target.txt")).read())
    Run.get_context().log("score", -abs(float(a.alpha) - target))
    open(os.path.join(a.model, "alpha.txt"), "w").write(a.alpha)
    """
USE = """\
    import argparse, os
    from runyard import Run
    p = argparse.ArgumentParser(); p.add_argument("--model"); a = p.parse_args()
    Run.get_context().log("chosen_alpha", float(open(os.path.join(a.model, "alpha.txt")).read()))
    """


def test_a_hyperdrive_step_hands_its_best_trials_outputs_to_the_next_step(workspace, experiment, project):
    from runyard import OutputFileDatasetConfig, Pipeline, PythonScriptStep
    from runyard.pipeline import HyperDriveStep
    src = project({"prepare.py": PREPARE, "fit.py": FIT, "use.py": USE})
    prepared, model = OutputFileDatasetConfig("prepared"), OutputFileDatasetConfig("model")
    prepare = PythonScriptStep("prepare.py", name="prepare", arguments=["--out", prepared], source_directory=src)
    sweep = _sweep(src, GridParameterSampling({"--alpha": choice(0.1, 0.3, 0.9)}), script="fit.py",
                   max_total_runs=3)
    tune = HyperDriveStep("tune", sweep, estimator_entry_script_arguments=["--data", prepared.as_input(),
                                                                           "--model", model])
    use = PythonScriptStep("use.py", name="use", arguments=["--model", model.as_input()], source_directory=src)
    run = experiment.submit(Pipeline(workspace, [prepare, tune, use]))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details.get("error")
    steps = {s.display_name: s for s in run.get_steps()}
    assert isinstance(steps["tune"], HyperDriveRun) and len(steps["tune"].get_children()) == 3
    assert steps["use"].get_metrics()["chosen_alpha"] == 0.3

    again = experiment.submit(Pipeline(workspace, [prepare, tune, use]), regenerate_outputs=False)
    assert again.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    assert all(v is not None for v in again.get_step_reuse().values())


def test_a_hyperdrive_step_refuses_a_swept_option_already_in_its_arguments(project):
    from runyard.pipeline import HyperDriveStep
    src = project({"fit.py": FIT})
    sweep = _sweep(src, GridParameterSampling({"alpha": choice(0.1, 0.3)}), script="fit.py")
    with pytest.raises(ConfigError, match="HyperDriveStep 'tune': its arguments already hold '--alpha'"):
        HyperDriveStep("tune", sweep, estimator_entry_script_arguments=["--alpha", 1])


def test_the_sklearn_sweep_example_runs_as_its_docstring_says(tmp_path):
    import shutil
    import subprocess
    import sys
    example = tmp_path / "sklearn-sweep"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "sklearn-sweep", example)
    done = subprocess.run([sys.executable, str(example / "sweep.py")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sweep Completed: 6 trial(s)" in done.stdout
    assert "outputs/model.joblib" in done.stdout.splitlines()[-1]


def test_a_sweep_over_a_pipeline_sets_its_parameters_per_trial(workspace, experiment, project):
    from runyard import Pipeline, PipelineParameter, PythonScriptStep
    src = project({"train.py": TRAIN})
    alpha = PipelineParameter("alpha", default_value=0.5)
    step = PythonScriptStep("train.py", name="train", arguments=["--alpha", alpha], source_directory=src)
    pipeline = Pipeline(workspace, [step])
    config = HyperDriveConfig(pipeline=pipeline, hyperparameter_sampling=GridParameterSampling(
        {"alpha": choice(0.1, 0.3)}), primary_metric_name="score", primary_metric_goal="MAXIMIZE",
        max_total_runs=2, max_concurrent_runs=2)
    run = experiment.submit(config)
    assert run.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    trials = run.get_children_sorted_by_primary_metric()
    assert [t["hyperparameters"] for t in trials] == [{"alpha": 0.3}, {"alpha": 0.1}]
    best = run.get_best_run_by_primary_metric()
    assert best.type == "pipeline"
    assert best.find_step_run("train")[0].get_details()["runDefinition"]["arguments"] == ["--alpha", "0.3"]

    for space, message in (({"beta": choice(1, 2)}, "'beta' is not a PipelineParameter of the pipeline"),
                           ({"alpha": choice("low", "high")}, "choice\\('low', 'high'\\) gives 'low' to "
                                                               "PipelineParameter 'alpha'")):
        with pytest.raises(ConfigError, match=message):
            experiment.submit(HyperDriveConfig(pipeline=pipeline, hyperparameter_sampling=GridParameterSampling(space),
                                               primary_metric_name="score", primary_metric_goal="MAXIMIZE",
                                               max_total_runs=2))


@pytest.mark.docker
def test_a_target_that_disappears_mid_sweep_fails_the_trials_left(workspace, experiment, project, docker_target,
                                                                  wait_for):
    src = project({"sleep.py": SLEEP})
    config = _sweep(src, GridParameterSampling({"--x": choice(1, 2, 3)}), script="sleep.py", metric="value",
                    target=docker_target, arguments=["--seconds", 5], max_total_runs=3, max_concurrent_runs=1)
    run = experiment.submit(config)
    wait_for(lambda: any("working" in c.get_log() for c in run.get_children()), timeout=300,
             what="the first trial to run")
    workspace.compute_targets.detach(docker_target)
    details = run.wait_for_completion(raise_on_error=False)
    trials = sorted(_trials(run).values(), key=lambda t: t["values"]["--x"])
    assert [t["status"] for t in trials] == [st.COMPLETED, st.FAILED, st.FAILED]
    assert details["status"] == st.COMPLETED
    for trial in trials[1:]:
        row = next(c for c in run.get_children() if c.get_properties()["hyperparameters"] == json.dumps(trial["values"]))
        assert f"compute_target '{docker_target}' is not in workspace" in row.get_details()["error"]["message"]
