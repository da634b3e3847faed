"""Published pipelines and pipeline endpoints: stored, found, submitted with parameters,
disabled; and pipelines on a served workspace, submitted over its REST API."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from runyard import Experiment, OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep, Workspace
from runyard import status as st
from runyard.errors import ConfigError, NotFoundError
from runyard.pipeline import PipelineEndpoint, PublishedPipeline

WRITE = """\
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--out"); p.add_argument("--factor", type=int)
a = p.parse_args()
open(os.path.join(a.out, "n.txt"), "w").write(str(3 * a.factor))
"""
READ = """\
import argparse, os
from runyard import Run
p = argparse.ArgumentParser(); p.add_argument("--data")
a = p.parse_args()
Run.get_context().log("n", int(open(os.path.join(a.data, "n.txt")).read()))
"""


def two_steps(ws, project):
    src = project({"write.py": WRITE, "read.py": READ})
    out = OutputFileDatasetConfig("numbers")
    factor = PipelineParameter("factor", default_value=1)
    write = PythonScriptStep("write.py", name="write", arguments=["--out", out, "--factor", factor],
                             source_directory=src)
    read = PythonScriptStep("read.py", name="read", arguments=["--data", out.as_input()], source_directory=src)
    return Pipeline(ws, [write, read], description="write then read")


def logged_n(run):
    run.wait_for_completion(timeout=180)
    assert run.get_status() == st.COMPLETED, run.get_details().get("error")
    (read,) = run.find_step_run("read")
    return read.get_metrics()["n"]


def test_publish_then_submit_with_parameters_by_id_and_by_name(workspace, project, tmp_path):
    pipeline = two_steps(workspace, project)
    published = pipeline.publish("numbers", version="1.0")
    # the sources were snapshotted when it was published: a later edit does not change it
    script = Path(pipeline.steps[0].source_directory) / "write.py"
    script.write_text(script.read_text().replace("3 * a.factor", "100 * a.factor"))
    assert published.status == "Active" and published.parameters == {"factor": 1}
    assert published.step_names == ["write", "read"] and published.description == "write then read"
    found = PublishedPipeline.get(workspace, published.id)
    assert (found.name, found.version) == ("numbers", "1.0")
    run = found.submit(workspace, "published", pipeline_parameters={"factor": 5})
    assert logged_n(run) == 15
    assert run.get_properties()["azureml.pipelineid"] == published.id
    assert PublishedPipeline.get_by_name(workspace, "numbers").id == published.id
    assert [p.id for p in PublishedPipeline.list(workspace)] == [published.id]
    with pytest.raises(ConfigError, match="'factr' is not a parameter.*factor"):
        found.submit(workspace, "published", pipeline_parameters={"factr": 2})
    with pytest.raises(ConfigError, match="expected a int"):
        found.submit(workspace, "published", pipeline_parameters={"factor": "two"})
    with pytest.raises(NotFoundError, match="no published pipeline"):
        PublishedPipeline.get(workspace, "0" * 32)


def test_a_disabled_pipeline_is_not_submitted(workspace, project):
    published = two_steps(workspace, project).publish("numbers")
    published.disable()
    assert PublishedPipeline.get(workspace, published.id).status == "Disabled"
    assert PublishedPipeline.list(workspace) == []
    assert len(PublishedPipeline.list(workspace, active_only=False)) == 1
    before = len(list(Experiment(workspace, "off").get_runs()))
    with pytest.raises(ConfigError, match="disabled"):
        published.submit(workspace, "off")
    assert len(list(Experiment(workspace, "off").get_runs())) == before
    published.enable()
    assert logged_n(published.submit(workspace, "off")) == 3


def test_an_endpoint_keeps_one_name_across_versions(workspace, project):
    first = two_steps(workspace, project).publish("numbers", version="1")
    endpoint = PipelineEndpoint.publish(workspace, "numbers-endpoint", "the numbers", first)
    second = two_steps(workspace, project).publish("numbers", version="2")
    assert endpoint.add(second) == "1" and endpoint.default_version == "0"
    assert logged_n(endpoint.submit("endpoint", pipeline_parameters={"factor": 2})) == 6
    endpoint.set_default_version("1")
    again = PipelineEndpoint.get(workspace, name="numbers-endpoint")
    assert again.default_version == "1" and again.get_pipeline().id == second.id
    assert [v["pipeline_id"] for v in again.list_versions()] == [first.id, second.id]
    with pytest.raises(NotFoundError, match="no version '7'"):
        again.set_default_version(7)
    with pytest.raises(ConfigError, match="already registered"):
        PipelineEndpoint.publish(workspace, "numbers-endpoint", "again", first)
    again.disable()
    with pytest.raises(ConfigError, match="disabled"):
        again.submit("endpoint")


@pytest.mark.postgres
def test_pipelines_on_a_served_workspace_and_its_rest_api(workspace_server, project):
    from conftest import SERVER_TOKEN
    ws = Workspace.get(workspace_server, token=SERVER_TOKEN)
    run = Experiment(ws, "served-pipeline").submit(two_steps(ws, project), pipeline_parameters={"factor": 2})
    assert logged_n(run) == 6
    assert "pipeline run Completed" in run.get_log()  # the driver's log reached the server
    published = two_steps(ws, project).publish("served-numbers")
    assert published.endpoint == f"{workspace_server}/api/v1/published-pipelines/{published.id}/submit"
    headers = {"Authorization": f"Bearer {SERVER_TOKEN}"}
    answer = requests.post(published.endpoint, json={"experiment_name": "rest",
                                                     "pipeline_parameters": {"factor": 7}},
                           headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    assert logged_n(ws.get_run(answer.json()["run_id"])) == 21
    bad = requests.post(published.endpoint, json={"experiment_name": "rest", "pipeline_parameters": {"x": 1}},
                        headers=headers, timeout=60)
    assert bad.status_code == 400 and "'x' is not a parameter" in bad.json()["message"]
    PipelineEndpoint.publish(ws, "served-endpoint", None, published)
    answer = requests.post(f"{workspace_server}/api/v1/pipeline-endpoints/served-endpoint/submit",
                           json={"experiment_name": "rest"}, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    assert logged_n(ws.get_run(answer.json()["run_id"])) == 3
