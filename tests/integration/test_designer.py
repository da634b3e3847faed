"""The designer's pipelines (runyard.designer): a graph of modules saved as pipeline YAML that
``runyard pipeline submit -f`` runs, opened back into the same graph, with what cannot be drawn
refused and a draft's problems listed on their nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runyard import Dataset, Run, Workspace
from runyard.designer import DesignerFolder, Graph, problems, validate, with_defaults
from runyard.designer.document import LAYOUT_FILE, YAML_FILE
from runyard.errors import ConfigError

R_SCRIPT = """\
azureml_main <- function(dataframe1, dataframe2) {
  dataframe1$bmi_doubled <- dataframe1$bmi * 2
  return(list(dataset1 = dataframe1))
}
"""
PY_SCRIPT = """\
def azureml_main(dataframe1=None, dataframe2=None):
    return dataframe1.describe().reset_index(),
"""


def sample(dataset: str) -> dict:
    """The designer's regression sample ("automobile price" style) on scikit-learn's diabetes
    data: select columns, clean, split, train a linear regression, score, evaluate; beside it
    an R script and a Python script on the cleaned rows."""
    def node(id, module, x, **params):
        return {"id": id, "module": module, "params": params, "position": {"x": x, "y": 0}}

    def edge(source, source_port, target, target_port):
        return {"source": source, "source_port": source_port, "target": target, "target_port": target_port}

    return {
        "description": "diabetes progression, drawn",
        "experiment_name": "designer-sample",
        "nodes": [node("data", "import_dataset", 0, dataset=dataset),
                  node("columns", "select_columns", 100, columns="age,bmi,bp,s1,s5,target"),
                  node("clean", "clean_missing", 200, mode="median"),
                  node("split", "split_data", 300, fraction=0.75, seed=1),
                  node("train", "train_model", 400, label="target", learner="Linear Regression"),
                  node("score", "score_model", 500),
                  node("evaluate", "evaluate_model", 600),
                  node("in_r", "execute_r", 300, script=R_SCRIPT),
                  node("summary", "execute_python", 300, script=PY_SCRIPT)],
        "edges": [edge("data", "output", "columns", "input"), edge("columns", "output", "clean", "input"),
                  edge("clean", "output", "split", "input"), edge("split", "output1", "train", "input"),
                  edge("train", "model", "score", "model"), edge("split", "output2", "score", "input"),
                  edge("score", "output", "evaluate", "input"), edge("clean", "output", "in_r", "dataframe1"),
                  edge("in_r", "result1", "summary", "dataframe1")],
    }


@pytest.fixture
def diabetes_project(project) -> Path:
    from sklearn.datasets import load_diabetes
    folder = project({}, name="designer")
    (folder / "data").mkdir()
    frame = load_diabetes(as_frame=True).frame
    frame.loc[3, "bmi"] = None  # one missing value for Clean Missing Data
    frame.to_csv(folder / "data" / "diabetes.csv", index=False)
    return folder


def runyard(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})


def test_the_sample_is_saved_as_yaml_the_cli_runs_and_opens_as_drawn(diabetes_project):
    folder = diabetes_project
    assert runyard("init", ".", cwd=folder).returncode == 0
    ws = Workspace.get(folder)
    Dataset.Tabular.from_delimited_files(str(folder / "data" / "diabetes.csv")).register(ws, "diabetes")
    graph = Graph.model_validate(sample("diabetes"))
    assert problems(graph) == []
    designer = DesignerFolder(folder / "designer")
    saved = designer.save("price", graph)
    assert validate(saved, ws) == []
    assert designer.names() == ["price"] and designer.open("price") == with_defaults(graph)  # with positions
    assert "python modules/train_model.py" in (saved / YAML_FILE).read_text()

    result = runyard("pipeline", "submit", "-f", str(saved / YAML_FILE), "--json", cwd=folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    details = json.loads(result.stdout)
    assert details["status"] == "Completed" and details["experimentName"] == "designer-sample"
    steps = {s["name"]: s for s in details["steps"]}
    assert set(steps) == {n["id"] for n in sample("diabetes")["nodes"]}
    metrics = Run.get(ws, steps["evaluate"]["runId"]).get_metrics()
    assert 0.3 < metrics["Coefficient of Determination"] < 0.7 and metrics["Mean Absolute Error"] > 0
    import pandas as pd
    Run.get(ws, steps["in_r"]["runId"]).download_file("outputs/in_r_result1/data.parquet", str(folder / "r.parquet"))
    from_r = pd.read_parquet(folder / "r.parquet")  # the cleaned rows, through R and back
    assert len(from_r) == 442 and from_r["bmi"].notna().all()
    assert ((from_r["bmi_doubled"] - from_r["bmi"] * 2).abs() < 1e-12).all()


def test_what_cannot_be_drawn_is_refused_naming_the_field():
    good = sample("diabetes")

    def refused(change, words):
        graph = json.loads(json.dumps(good))
        change(graph)
        with pytest.raises(ConfigError, match=words):
            problems(Graph.model_validate(graph))

    refused(lambda g: g["nodes"][1].update(module="select_cols"), r"nodes\[1\]\.module: no module 'select_cols'")
    refused(lambda g: g["nodes"][3]["params"].update(fraction="half"), r"nodes\[3\]\.params\.fraction: expected a number")
    refused(lambda g: g["nodes"][2]["params"].update(mode="guess"), r"nodes\[2\]\.params\.mode: 'guess' is not one of")
    refused(lambda g: g["nodes"][4]["params"].update(epochs=3), r"Train Model has no parameter 'epochs'")
    refused(lambda g: g["nodes"][1]["params"].update(columns="${{parent.jobs.data.outputs.data_output}}"),
            r"nodes\[1\]\.params\.columns: .* a parameter is a plain value")
    refused(lambda g: g["edges"].append({"source": "train", "source_port": "model", "target": "evaluate",
                                         "target_port": "input"}), r"gives a model and evaluate\.input takes a dataframe")
    refused(lambda g: g["edges"].append({"source": "data", "source_port": "output", "target": "clean",
                                         "target_port": "input"}), r"clean\.input is connected already")
    refused(lambda g: g["edges"].append({"source": "ghost", "source_port": "output", "target": "clean",
                                         "target_port": "input"}), r"edges\[9\]\.source: no node 'ghost'")
    refused(lambda g: g["nodes"].append(dict(g["nodes"][0])), r"two nodes are called 'data'")
    with pytest.raises(ValueError, match="id"):
        Graph.model_validate({"nodes": [{"id": "../up", "module": "enter_data"}]})


def test_a_drafts_problems_are_listed_on_their_nodes(diabetes_project):
    graph = sample("nosuch")
    graph["nodes"][4]["params"].pop("label")
    graph["edges"] = [e for e in graph["edges"] if e["target"] != "score" or e["target_port"] != "input"]
    graph["edges"].append({"source": "evaluate", "source_port": "output", "target": "summary",
                           "target_port": "dataframe2"})
    graph["edges"].append({"source": "summary", "source_port": "result1", "target": "columns",
                           "target_port": "input"})
    graph["edges"] = [e for e in graph["edges"] if not (e["target"] == "columns" and e["source"] == "data")]
    found = problems(Graph.model_validate(graph))
    assert {(p.node, p.field) for p in found if p.node} == {("train", "params.label"), ("score", "inputs.input")}
    assert any("cycle" in p.message for p in found if p.node is None)

    folder = diabetes_project
    assert runyard("init", ".", cwd=folder).returncode == 0
    saved = DesignerFolder(folder / "designer").save("draft", Graph.model_validate(sample("nosuch")))
    (problem,) = validate(saved, Workspace.get(folder))
    assert problem.node == "data" and "nosuch" in problem.message


def test_the_folder_refuses_bad_names_and_replaces_planted_links(tmp_path):
    designer = DesignerFolder(tmp_path)
    for name in ("../up", "a/b", "", ".hidden"):
        with pytest.raises(ConfigError, match="no pipeline name"):
            designer.save(name, Graph())
    graph = Graph.model_validate(sample("diabetes"))
    folder = designer.save("p", graph)
    (folder / LAYOUT_FILE).unlink()
    (folder / LAYOUT_FILE).symlink_to(tmp_path / "elsewhere.json")
    designer.save("p", graph)
    assert not (folder / LAYOUT_FILE).is_symlink() and not (tmp_path / "elsewhere.json").exists()
    params = sorted(p.name for p in (folder / "params").iterdir())
    assert params == ["in_r.script.R", "summary.script.py"]
    graph.nodes = [n for n in graph.nodes if n.id != "in_r"]
    graph.edges = [e for e in graph.edges if "in_r" not in (e.source, e.target)]
    designer.save("p", graph)
    assert sorted(p.name for p in (folder / "params").iterdir()) == ["summary.script.py"]  # the stale one went
    # a hand-edited file naming a parameter file outside params/ is refused, not read
    text = (folder / YAML_FILE).read_text()
    (folder / YAML_FILE).write_text(text.replace("params/summary.script.py", "../../../../etc/passwd"))
    with pytest.raises(ConfigError, match="is no file of params/"):
        designer.open("p")


def test_the_studio_saves_opens_submits_and_publishes_a_drawing(diabetes_project, tmp_path):
    import requests
    from server_service import free_port, start_command, stop_server
    folder = diabetes_project
    assert runyard("init", ".", cwd=folder).returncode == 0
    ws = Workspace.get(folder)
    Dataset.Tabular.from_delimited_files(str(folder / "data" / "diabetes.csv")).register(ws, "diabetes")
    port = free_port()
    proc, url = start_command(["studio", str(folder), "--port", str(port)], port, tmp_path / "studio.log")
    api = f"{url}/api/v1/designer"
    try:
        palette = requests.get(f"{api}/modules", timeout=30).json()
        assert {"train_model", "execute_r"} <= {m["name"] for m in palette["modules"]}
        assert "Linear Regression" in palette["learners"]["regression"]

        saved = requests.put(f"{api}/pipelines/price", json=sample("diabetes"), timeout=60)
        assert saved.status_code == 200, saved.text
        assert saved.json()["problems"] == [] and saved.json()["path"] == str(folder / "designer" / "price")
        assert (folder / "designer" / "price" / "pipeline.yml").read_text() == saved.json()["yaml"]
        assert requests.get(f"{api}/pipelines", timeout=30).json() == ["price"]
        assert requests.get(f"{api}/pipelines/price", timeout=30).json()["graph"] == saved.json()["graph"]

        draft = sample("nosuch")
        draft["nodes"][4]["params"].pop("label")
        answer = requests.put(f"{api}/pipelines/draft", json=draft, timeout=60).json()
        assert [(p["node"], p["field"]) for p in answer["problems"]] == [("train", "params.label")]
        refused = requests.post(f"{api}/pipelines/draft/submit", json={}, timeout=60)
        assert refused.status_code == 400 and "(node train)" in refused.json()["message"]
        bad = sample("diabetes")
        bad["nodes"][1]["module"] = "select_cols"
        answer = requests.put(f"{api}/pipelines/bad", json=bad, timeout=30)
        assert answer.status_code == 400 and answer.json()["message"].startswith("nodes[1].module: no module")
        answer = requests.put(f"{api}/pipelines/bad", json={"nodes": [{"id": "../x", "module": "enter_data"}]},
                              timeout=30)
        assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "body.nodes.0.id"
        assert requests.get(f"{api}/pipelines/..%2Fetc", timeout=30).status_code in (404, 422)
        assert requests.get(f"{api}/pipelines/absent", timeout=30).status_code == 404

        run = requests.post(f"{api}/pipelines/price/submit", json={"tags": {"drawn": "yes"}}, timeout=120)
        assert run.status_code == 200, run.text
        details = Run.get(ws, run.json()["run_id"]).wait_for_completion(timeout=600)
        assert details["status"] == "Completed" and details["tags"]["drawn"] == "yes"
        steps = requests.get(f"{url}/api/v1/runs/{run.json()['run_id']}/pipeline-steps", timeout=30).json()
        assert {s["name"]: s["status"] for s in steps} == {n["id"]: "Completed" for n in sample("diabetes")["nodes"]}

        published = requests.post(f"{api}/pipelines/price/publish", json={"description": "drawn"}, timeout=120)
        assert published.status_code == 200, published.text
        from runyard.pipeline import PublishedPipeline
        assert PublishedPipeline.get(ws, published.json()["id"]).name == "price"
    finally:
        stop_server(proc)


def test_an_automl_module_trains_the_model_score_model_uses(diabetes_project):
    folder = diabetes_project
    assert runyard("init", ".", cwd=folder).returncode == 0
    ws = Workspace.get(folder)
    Dataset.Tabular.from_delimited_files(str(folder / "data" / "diabetes.csv")).register(ws, "diabetes")
    drawn = sample("diabetes")
    drawn["nodes"] = [n for n in drawn["nodes"] if n["id"] not in ("in_r", "summary")]
    drawn["edges"] = [e for e in drawn["edges"] if "in_r" not in (e["source"], e["target"])]
    drawn["nodes"][4] = {"id": "train", "module": "automl", "params": {
        "task": "regression", "label": "target", "timeout_minutes": 0.5, "allowed_models": "ElasticNet,LightGBM"}}
    saved = DesignerFolder(folder / "designer").save("auto", Graph.model_validate(drawn))
    result = runyard("pipeline", "submit", "-f", str(saved / YAML_FILE), "--json", cwd=folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    train = Run.get(ws, steps["train"]["runId"])
    automl = Run.get(ws, train.get_tags()["automl_run_id"])
    assert automl.type == "automl" and automl.get_status() == "Completed"
    # scored with the AutoML model: better than the mean (how much better depends on the 30 s the
    # search had on a busy machine: 0.17 to 0.45 here)
    assert Run.get(ws, steps["evaluate"]["runId"]).get_metrics()["Coefficient of Determination"] > 0.0
