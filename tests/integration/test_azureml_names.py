"""The v1 names slice 1 left out: DataReference, DataPath(+ComputeBinding), StepRun,
azureml.core.authentication and Workspace.get(name, subscription_id=, resource_group=), each a
thin mapping onto runyard's own classes, run for real on the local target."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runyard import Environment, Experiment, RunConfiguration, ScriptRunConfig, Workspace
from runyard.data import DataPath, DataPathComputeBinding, DataReference
from runyard.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "compat" / "azureml-runyard"

READ = """\
import os, sys
from runyard import Run
folder = sys.argv[1] if len(sys.argv) > 1 else "inputs/raw"
names = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)
Run.get_context().log("files", ",".join(names))
print("read", names)
"""


def _user_managed() -> Environment:
    env = Environment("user-managed")
    env.python.user_managed_dependencies = True
    return env


@pytest.fixture
def raw_on_datastore(workspace: Workspace, tmp_path: Path):
    data = tmp_path / "data"
    (data / "2024").mkdir(parents=True)
    (data / "2024" / "jan.csv").write_text("a\n1\n")
    (data / "2024" / "feb.csv").write_text("a\n2\n")
    store = workspace.get_default_datastore()
    store.upload(str(data), target_path="raw", show_progress=False)
    return store


@pytest.mark.parametrize("mode", ["mount", "download"])
def test_data_reference_as_a_script_argument(workspace: Workspace, project, raw_on_datastore, mode: str):
    reference = DataReference(raw_on_datastore, data_reference_name="raw", path_on_datastore="raw", mode=mode)
    config = ScriptRunConfig(str(project({"read.py": READ})), script="read.py", arguments=[reference],
                             environment=_user_managed())
    run = Experiment(workspace, "refs").submit(config)
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Completed", run.get_log()
    assert run.get_metrics()["files"] == "2024/feb.csv,2024/jan.csv"
    assert run.get_details()["runDefinition"]["arguments"] == ["inputs/raw"]


def test_data_reference_path_and_defaults(raw_on_datastore):
    whole = DataReference(raw_on_datastore)
    assert (whole.data_reference_name, whole.mode, whole.path_on_datastore) == ("workspaceblobstore", "mount", None)
    below = whole.path("raw/2024", data_reference_name="jan")
    assert (below.name, below.path_on_datastore, below.mode) == ("jan", "raw/2024", "mount")
    assert below.as_download().mode == "download" and isinstance(below.as_download(), DataReference)


@pytest.mark.parametrize("make, message", [
    (lambda store: DataReference("workspaceblobstore"), "datastore must be a Datastore"),
    (lambda store: DataReference(store, mode="upload"), "OutputFileDatasetConfig\\(destination="),
    (lambda store: DataReference(store, mode="direct"), "mode must be one of mount, download"),
    (lambda store: DataReference(store, overwrite="yes"), "overwrite must be True or False"),
    (lambda store: DataReference(store, data_reference_name="has space"), "input name 'has space'"),
    (lambda store: DataReference(store).as_upload(), "mode='upload'"),
    (lambda store: DataPathComputeBinding(mode="upload"), "mode='upload'"),
    (lambda store: DataPath(store, "raw").create_data_reference(datapath_compute_binding="mount"),
     "must be a DataPathComputeBinding"),
])
def test_bad_references_name_the_argument(raw_on_datastore, make, message):
    with pytest.raises(ConfigError, match=message):
        make(raw_on_datastore)


@pytest.mark.slow
def test_data_path_with_a_binding_as_a_step_input(workspace: Workspace, project, raw_on_datastore):
    from runyard.pipeline import Pipeline, PythonScriptStep
    runconfig = RunConfiguration()
    runconfig.environment = _user_managed()
    step = PythonScriptStep("read.py", source_directory=str(project({"read.py": READ})), runconfig=runconfig,
                            inputs=[(DataPath(raw_on_datastore, "raw", name="raw"),
                                     DataPathComputeBinding(mode="download"))])
    pipeline_run = Experiment(workspace, "datapath").submit(Pipeline(workspace, [step]))
    assert pipeline_run.wait_for_completion(raise_on_error=False)["status"] == "Completed"
    step_run, = pipeline_run.find_step_run("read.py")
    assert step_run.get_metrics()["files"] == "2024/feb.csv,2024/jan.csv", step_run.get_log()


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    paths = [str(COMPAT), str(ROOT / "python"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_sign_in_objects_are_accepted_and_say_once_they_are_not_needed(tmp_path: Path):
    result = _python("""
        from azureml.core import Workspace
        from azureml.core.authentication import (AzureCliAuthentication, InteractiveLoginAuthentication,
                                                 ServicePrincipalAuthentication)
        interactive = InteractiveLoginAuthentication(tenant_id="tenant")
        InteractiveLoginAuthentication(force=True)
        sp = ServicePrincipalAuthentication(tenant_id="t", service_principal_id="id",
                                            service_principal_password="secret")
        assert "secret" not in repr(vars(sp)) and sp.get_authentication_header() == {}
        ws = Workspace(subscription_id="sub", resource_group="rg", workspace_name="ml", auth=sp)
        again = Workspace.get("ml", subscription_id="sub", resource_group="rg", auth=AzureCliAuthentication())
        assert again == ws == Workspace.from_config(auth=interactive)
        print(ws.name, ws.subscription_id, ws.resource_group)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ml", "sub", "rg"]
    assert result.stderr.count("InteractiveLoginAuthentication: runyard works offline") == 1
    assert result.stderr.count("ServicePrincipalAuthentication: runyard works offline") == 1
    assert result.stderr.count("AzureCliAuthentication: runyard works offline") == 1


def test_workspace_get_by_azure_names_and_its_refusals(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = Workspace.get("ml", subscription_id="sub", resource_group="rg")
    assert ws.path == (tmp_path / ".runyard").resolve() and ws.subscription_id == "sub"
    assert Workspace.get(tmp_path) == ws  # runyard's own get still opens a folder
    with pytest.raises(ConfigError, match="resource_group must be non-empty text"):
        Workspace.get("ml", subscription_id="sub")
    with pytest.raises(ConfigError, match="token is for a workspace server"):
        Workspace.get("ml", "a-token", subscription_id="sub", resource_group="rg")
    with pytest.raises(ConfigError, match="Workspace.get: auth must be an azureml.core.authentication object"):
        Workspace.get("ml", subscription_id="sub", resource_group="rg", auth="secret")


def test_step_run_and_data_names_at_azures_paths(tmp_path: Path):
    result = _python("""
        from azureml.core.authentication import InteractiveLoginAuthentication
        from azureml.data.data_reference import DataReference
        from azureml.data.datapath import DataPath, DataPathComputeBinding
        from azureml.pipeline.core import PortDataReference, StepRun
        from azureml.pipeline.core.run import StepRunOutput
        import runyard.data, runyard.pipeline.run
        assert DataReference is runyard.data.DataReference and DataPath is runyard.data.DataPath
        assert StepRun is runyard.pipeline.run.StepRun and PortDataReference is runyard.pipeline.run.PortDataReference
        print("ok")
    """, tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
