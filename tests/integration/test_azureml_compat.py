"""Azure ML SDK v1 code, unchanged, on runyard through the ``azureml`` compatibility layer
(compat/azureml-runyard): a v1 notebook-style driver and job script written for these tests,
run as their own Python processes on the local target, and the layer's refusal to load beside
Microsoft's azureml-core."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

from runyard import Workspace
from runyard.errors import ComputeTargetNotFoundError, ConfigError

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "compat" / "azureml-runyard"

JOB_SCRIPT = """\
import argparse
import os
import pickle

import azureml
from azureml.core.run import Run, _OfflineRun

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=1.0)
args = parser.parse_args()

run = Run.get_context()
if type(run) == _OfflineRun:
    print("offline run: metrics go to stdout")
else:
    print("online run", run.id, "azureml from", azureml.__file__)
for epoch, loss in enumerate([0.9, 0.5, 0.25]):
    run.log("loss", loss)
run.log("alpha", args.alpha)
run.log_row("curve", "loss by epoch", epoch=1, loss=0.5)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as fh:
    pickle.dump({"alpha": args.alpha}, fh)
"""

NOTEBOOK_DRIVER = """\
import azureml.core
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.core.conda_dependencies import CondaDependencies
from azureml.telemetry import set_diagnostics_collection

print("SDK version:", azureml.core.VERSION)
set_diagnostics_collection(send_diagnostics=True)

ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep="\\n")

cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing compute target")
except ComputeTargetException:
    print("Creating a new compute target...")
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
compute_target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)
print(compute_target.get_status().serialize())

env = Environment("train-env")
env.python.conda_dependencies = CondaDependencies.create(pip_packages=[])
src = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--alpha", 0.5],
                      compute_target=compute_target, environment=env)
run = Experiment(workspace=ws, name="v1-notebook").submit(config=src)
run.wait_for_completion(show_output=True)

metrics = run.get_metrics()
print("metrics:", metrics)
assert metrics["loss"] == [0.9, 0.5, 0.25], metrics
assert metrics["alpha"] == 0.5, metrics
model = run.register_model(model_name="v1-model", model_path="outputs/model.pkl")
print("registered", model.name, model.version)
print("default datastore:", ws.get_default_datastore().name)
"""


def _env(*extra: Path) -> dict[str, str]:
    """This checkout's runyard and azureml layer first on the path, as `make install-test` installs them."""
    paths = [*map(str, extra), str(COMPAT), str(ROOT / "python"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def _python(code: str, cwd: Path, *extra: Path, timeout: float = 300):
    import subprocess
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=_env(*extra),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def v1_project(project) -> Path:
    """A v1 project: Azure's .azureml/config.json, a source folder and a notebook-style driver."""
    folder = project({"src/train.py": JOB_SCRIPT, "notebook.py": NOTEBOOK_DRIVER}, name="v1-project")
    config = {"subscription_id": "1234-abcd", "resource_group": "ml-rg", "workspace_name": "ml-workspace"}
    (folder / ".azureml").mkdir()
    (folder / ".azureml" / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.slow
def test_v1_notebook_runs_unchanged_on_the_local_target(v1_project: Path):
    first = _python((v1_project / "notebook.py").read_text(), v1_project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Creating a new compute target..." in first.stdout
    assert "ml-workspace\nml-rg\nlocal\n1234-abcd\n" in first.stdout
    assert "cpu-cluster: provisioning state Succeeded" in first.stdout
    assert "'provisioningState': 'Succeeded'" in first.stdout
    assert "registered v1-model 1" in first.stdout
    assert "default datastore: workspaceblobstore" in first.stdout
    assert first.stderr.count("runyard collects no diagnostics") == 1

    # the workspace from_config opened is the .runyard beside .azureml/, recording Azure's names
    ws = Workspace.get(v1_project)
    assert (ws.name, ws.subscription_id, ws.resource_group) == ("ml-workspace", "1234-abcd", "ml-rg")
    run, = ws.experiments["v1-notebook"].get_runs()
    assert run.get_status() == "Completed"
    assert "online run" in run.get_log() and "offline run" not in run.get_log()
    # the job's environment was built by runyard: the layer reached it as runyard does (a link
    # in the client folder on the job's PYTHONPATH), not through the driver's PYTHONPATH
    assert re.search(r"azureml from \S+/client/[0-9a-f]+/azureml/__init__\.py", run.get_log()), run.get_log()
    assert run.get_details()["target"] == "cpu-cluster"
    assert ws.models["v1-model"].version == 1
    assert ws.compute_targets["cpu-cluster"].config["vm_size"] == "STANDARD_D2_V2"

    # run again, from a folder below: the cluster exists now, so the idiom takes the other branch
    again = _python((v1_project / "notebook.py").read_text().replace('"src"', '"../src"'), v1_project / "src")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Found existing compute target" in again.stdout
    assert "registered v1-model 2" in again.stdout


def test_job_script_run_outside_a_job_gets_the_offline_run(v1_project: Path):
    result = _python("import runpy, sys; sys.argv = ['train.py', '--alpha', '2']; runpy.run_path('train.py')",
                     v1_project / "src")
    assert result.returncode == 0, result.stderr
    assert "offline run: metrics go to stdout" in result.stdout
    assert (v1_project / "src" / "outputs" / "model.pkl").is_file()


def test_refuses_to_load_beside_microsofts_azureml_core(tmp_path: Path):
    site = tmp_path / "site"
    dist_info = site / "azureml_core-1.57.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: azureml-core\nVersion: 1.57.0\n")
    code = "import azureml.core"
    refused = _python(code, tmp_path, site)
    assert refused.returncode != 0
    assert "ImportError: both Microsoft's azureml-core 1.57.0 and runyard's azureml-runyard" in refused.stderr
    assert "pip uninstall azureml-core" in refused.stderr and "pip uninstall azureml-runyard" in refused.stderr
    # the same Python without that distribution imports it
    assert _python(code, tmp_path).returncode == 0


def test_every_module_re_exports_runyards_own_classes(tmp_path: Path):
    code = """
        import importlib, pkgutil
        import azureml
        import runyard, runyard.pipeline, runyard.hyperdrive, runyard.errors
        from runyard.run import _OfflineRun
        modules = [m.name for m in pkgutil.walk_packages(azureml.__path__, "azureml.")]
        for name in modules:
            module = importlib.import_module(name)
            for attr in getattr(module, "__all__", []):
                value = getattr(module, attr)
                assert getattr(value, "__module__", "runyard").startswith(("runyard", "azureml.telemetry")) or attr == "VERSION", (name, attr)
        from azureml.core import Run, Workspace, ComputeTarget, VERSION
        from azureml.core.run import _OfflineRun as Offline
        from azureml.core.compute_target import ComputeTargetException
        from azureml.pipeline.core import Pipeline
        from azureml.train.hyperdrive.parameter_expressions import choice
        assert (Run, Workspace, ComputeTarget) == (runyard.Run, runyard.Workspace, runyard.ComputeTarget)
        assert Offline is _OfflineRun and type(Run.get_context()) == Offline
        assert ComputeTargetException is runyard.errors.ComputeTargetNotFoundError
        assert Pipeline is runyard.pipeline.Pipeline and choice is runyard.hyperdrive.choice
        assert isinstance(VERSION, str) and VERSION
        print(len(modules), "modules")
    """
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) >= 30


def test_workspace_by_azure_names_opens_the_projects_workspace(v1_project: Path, monkeypatch):
    monkeypatch.chdir(v1_project / "src")
    ws = Workspace("1234-abcd", "ml-rg", "ml-workspace")
    assert ws.path == (v1_project / ".runyard").resolve()
    assert Workspace(subscription_id="1234-abcd", resource_group="ml-rg", workspace_name="ml-workspace") == ws
    assert Workspace.from_config() == ws
    with pytest.raises(ConfigError, match="records Azure workspace 'ml-workspace'.*not 'other'"):
        Workspace("1234-abcd", "ml-rg", "other")
    with pytest.raises(ConfigError, match="resource_group must be non-empty text"):
        Workspace("1234-abcd", "", "ml-workspace")


def test_workspace_by_azure_names_without_a_config_creates_one_here(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = Workspace(subscription_id="sub", resource_group="rg", workspace_name="fresh")
    assert ws.path == (tmp_path / ".runyard").resolve()
    assert (ws.name, ws.subscription_id, ws.resource_group, ws.location) == ("fresh", "sub", "rg", "local")


def test_workspace_by_azure_names_records_them_in_the_projects_runyard_workspace(tmp_path: Path, monkeypatch):
    mine = Workspace.create(tmp_path / ".runyard", name="mine")
    monkeypatch.chdir(tmp_path)
    ws = Workspace("sub", "rg", "azure-name")
    assert ws == mine and ws.name == "mine"  # the folder keeps its own name; Azure's names are recorded
    assert (Workspace.get(tmp_path).subscription_id, Workspace.get(tmp_path).resource_group) == ("sub", "rg")


def test_a_runyard_workspace_reports_offline_identity(workspace):
    assert (workspace.subscription_id, workspace.resource_group, workspace.location) == ("offline", "offline", "local")


def test_bad_azure_config_names_the_file_and_field(tmp_path: Path, monkeypatch):
    (tmp_path / ".azureml").mkdir()
    config = tmp_path / ".azureml" / "config.json"
    config.write_text(json.dumps({"subscription_id": "s", "resource_group": "rg"}))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"config\.json: workspace_name must be non-empty text, got None"):
        Workspace.from_config()
    assert not (tmp_path / ".runyard").exists()


def test_another_tools_config_json_is_passed_over(tmp_path: Path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({"lint": True}))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="no .runyard/config.yaml"):
        Workspace.from_config()


def test_unknown_compute_target_raises_what_get_or_create_catches(workspace):
    from runyard import ComputeTarget
    with pytest.raises(ComputeTargetNotFoundError, match="'cpu-cluster' is not in workspace"):
        ComputeTarget(workspace, "cpu-cluster")
    with pytest.raises(ConfigError):  # still a ConfigError for code that caught that
        ComputeTarget(workspace=workspace, name="cpu-cluster")


def test_create_refuses_a_name_that_exists(workspace):
    from runyard import ComputeTarget
    from runyard.compute.amlcompute import AmlCompute
    ComputeTarget.create(workspace, "cpu-cluster", AmlCompute.provisioning_configuration(max_nodes=2))
    with pytest.raises(ConfigError, match="compute target 'cpu-cluster' exists"):
        ComputeTarget.create(workspace, "cpu-cluster", AmlCompute.provisioning_configuration(max_nodes=8))
    assert AmlCompute(workspace, "cpu-cluster").config["max_nodes"] == 2


def test_workspace_by_azure_names_refuses_a_server_in_runyard_workspace(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RUNYARD_WORKSPACE", "http://127.0.0.1:9")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="RUNYARD_WORKSPACE names a server"):
        Workspace("sub", "rg", "ws")
    assert not (tmp_path / ".runyard").exists()


@pytest.mark.parametrize("settings, message", [
    ({"max_nodes": 0}, "max_nodes=0 must be at least 1"),
    ({"min_nodes": 5, "max_nodes": 2}, "at least min_nodes=5"),
    ({"vm_priority": "spot"}, "vm_priority='spot'"),
    ({"vm_size": 2}, "vm_size must be text"),
])
def test_provisioning_configuration_refuses_bad_settings(settings, message):
    from runyard.compute.amlcompute import AmlCompute
    with pytest.raises(ConfigError, match=message):
        AmlCompute.provisioning_configuration(**settings)


@pytest.mark.slow
def test_the_example_project_runs_unchanged(tmp_path: Path):
    import shutil
    example = tmp_path / "azureml-v1"
    shutil.copytree(ROOT / "examples" / "azureml-v1", example)
    result = _python("import runpy; runpy.run_path('driver.py', run_name='__main__')", example)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Workspace:\ndiabetes-ws\nml-examples\nlocal\n" in result.stdout
    assert "Registered diabetes-ridge version 1" in result.stdout
    run, = Workspace.get(example).experiments["diabetes-v1"].get_runs()
    assert run.get_status() == "Completed" and 2000 < run.get_metrics()["mse"] < 5000


def test_the_distribution_ships_every_module_and_depends_on_runyard(tmp_path: Path):
    import shutil
    import subprocess
    import zipfile
    source = tmp_path / "source"  # a copy: building leaves build/ and egg-info beside the sources
    shutil.copytree(COMPAT, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel, = tmp_path.glob("azureml_runyard-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("azureml/")}
        metadata = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    sources = {str(p.relative_to(COMPAT)) for p in (COMPAT / "azureml").rglob("*.py")}
    assert shipped == sources
    assert "Name: azureml-runyard" in metadata and "Requires-Dist: runyard==0.1.0" in metadata
