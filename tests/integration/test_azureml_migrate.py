"""``runyard migrate-azureml``: a folder of v1 scripts and notebooks written for these tests,
scanned by the command run as its own process, its support read from the azureml layer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "compat" / "azureml-runyard"

TRAIN = """\
import argparse

import azureml.core
from azureml.core.run import Run, _OfflineRun
from azureml.core import Workspace as AzureWorkspace
from azureml.contrib.fairness import upload_dashboard_dictionary
import azureml.train.hyperdrive as hd

run = Run.get_context()
print(azureml.core.VERSION)
ws = AzureWorkspace.from_config()
space = hd.choice(1, 2)
AzureWorkspace.list_everything_in_azure()
"""

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "source": ["from azureml.core import NotCode\n"]},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip install azureml-sdk\n",
                                         "from azureml.core import Experiment, Frobnicator\n",
                                         "Experiment.submit\n"]},
        {"cell_type": "code", "source": "%%bash\necho from azureml.core import InBash\n"},
        {"cell_type": "code", "source": ["from azureml.pipeline.steps import PythonScriptStep\n"]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


def _runyard(*args: str, cwd: Path, first_on_path: Path | None = None) -> subprocess.CompletedProcess:
    paths = [str(p) for p in (first_on_path, COMPAT, ROOT / "python") if p] + [os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def v1_folder(project) -> Path:
    folder = project({"src/train.py": TRAIN, "broken.py": "def broken(:\n", "README.md": "import azureml\n",
                      ".ipynb_checkpoints/old.py": "import azureml.old\n"}, name="v1")
    (folder / "explore.ipynb").write_text(json.dumps(NOTEBOOK))
    return folder


def _uses(result: subprocess.CompletedProcess) -> dict[str, tuple[str, bool]]:
    assert result.returncode == 0, result.stderr
    return {u["where"]: (u["name"], u["supported"]) for u in json.loads(result.stdout)["uses"]}


def test_json_lists_every_use_with_its_place_and_support(v1_folder: Path):
    result = _runyard("migrate-azureml", ".", "--json", cwd=v1_folder)
    report = json.loads(result.stdout)
    uses = {(u["where"], u["name"]): u for u in report["uses"]}
    assert set(uses) == {
        ("explore.ipynb[cell 2]:3", "azureml.core.Experiment"),
        ("explore.ipynb[cell 2]:3", "azureml.core.Frobnicator"),
        ("explore.ipynb[cell 2]:4", "azureml.core.Experiment.submit"),
        ("explore.ipynb[cell 4]:1", "azureml.pipeline.steps.PythonScriptStep"),
        ("src/train.py:3", "azureml.core"),
        ("src/train.py:4", "azureml.core.run.Run"),
        ("src/train.py:4", "azureml.core.run._OfflineRun"),
        ("src/train.py:5", "azureml.core.Workspace"),
        ("src/train.py:6", "azureml.contrib.fairness.upload_dashboard_dictionary"),
        ("src/train.py:7", "azureml.train.hyperdrive"),
        ("src/train.py:9", "azureml.core.run.Run.get_context"),
        ("src/train.py:10", "azureml.core.VERSION"),
        ("src/train.py:11", "azureml.core.Workspace.from_config"),
        ("src/train.py:12", "azureml.train.hyperdrive.choice"),
        ("src/train.py:13", "azureml.core.Workspace.list_everything_in_azure"),
    }  # markdown, %magic, !shell and %%bash cells, README.md and .ipynb_checkpoints/ are not code
    unsupported = {name for (_, name), u in uses.items() if not u["supported"]}
    assert unsupported == {"azureml.core.Frobnicator", "azureml.contrib.fairness.upload_dashboard_dictionary",
                           "azureml.core.Workspace.list_everything_in_azure"}
    assert uses[("src/train.py:6", "azureml.contrib.fairness.upload_dashboard_dictionary")]["note"] == \
        "runyard's layer has no azureml.contrib"
    assert uses[("src/train.py:13", "azureml.core.Workspace.list_everything_in_azure")]["note"] == \
        "azureml.core.Workspace has no attribute 'list_everything_in_azure' in runyard"
    assert uses[("src/train.py:7", "azureml.train.hyperdrive")]["kind"] == "import"
    assert uses[("explore.ipynb[cell 2]:3", "azureml.core.Experiment")]["cell"] == 2
    assert report["files"] == 3 and report["unsupported"] == 3
    # the file that does not parse is reported, not fatal
    assert report["unreadable"] == [{"file": "broken.py", "error": "does not parse: invalid syntax", "line": 1,
                                     "cell": None}]


def test_table_names_places_and_counts(v1_folder: Path):
    result = _runyard("migrate-azureml", str(v1_folder), cwd=v1_folder.parent)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "explore.ipynb[cell 2]:3" in result.stdout  # brackets are not taken for markup
    assert "Frobnicator" in text and "NO" in text
    assert "15 azureml use(s) in 3 file(s): 3 not supported, 1 file(s) not scanned" in text
    assert "not scanned: " in result.stderr and "broken.py:1 does not parse" in result.stderr
    assert f"azureml uses in {v1_folder}" in result.stdout


def test_a_single_file(v1_folder: Path):
    uses = _uses(_runyard("migrate-azureml", "explore.ipynb", "--json", cwd=v1_folder))
    assert uses == {"explore.ipynb[cell 2]:3": ("azureml.core.Frobnicator", False),
                    "explore.ipynb[cell 2]:4": ("azureml.core.Experiment.submit", True),
                    "explore.ipynb[cell 4]:1": ("azureml.pipeline.steps.PythonScriptStep", True)}


def test_support_is_read_from_the_layer_itself(v1_folder: Path, tmp_path: Path):
    """A layer that gains a module reports it supported with no list to update."""
    grown = tmp_path / "grown"
    shutil.copytree(COMPAT / "azureml", grown / "azureml", ignore=shutil.ignore_patterns("__pycache__"))
    (grown / "azureml" / "contrib").mkdir()
    (grown / "azureml" / "contrib" / "__init__.py").write_text("")
    (grown / "azureml" / "contrib" / "fairness.py").write_text(
        "upload_dashboard_dictionary = print\n__all__ = ['upload_dashboard_dictionary']\n")
    uses = _uses(_runyard("migrate-azureml", "src/train.py", "--json", cwd=v1_folder, first_on_path=grown))
    assert uses["src/train.py:6"] == ("azureml.contrib.fairness.upload_dashboard_dictionary", True)


def test_another_azureml_package_is_refused_by_name(v1_folder: Path, tmp_path: Path):
    microsoft = tmp_path / "microsoft" / "azureml"
    microsoft.mkdir(parents=True)
    (microsoft / "__init__.py").write_text("")
    result = _runyard("migrate-azureml", ".", cwd=v1_folder, first_on_path=microsoft.parent)
    assert result.returncode == 2
    assert "is not runyard's compatibility layer" in result.stderr and str(microsoft) in result.stderr


@pytest.mark.parametrize("path, message", [("missing", "'missing' does not exist"),
                                           ("README.md", "neither a .py script nor an .ipynb notebook")])
def test_bad_path_is_an_error_naming_it(v1_folder: Path, path: str, message: str):
    result = _runyard("migrate-azureml", path, cwd=v1_folder)
    assert result.returncode == 2 and message in result.stderr
