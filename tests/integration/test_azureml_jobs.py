"""Azure ML v1 job scripts and environments on every target: ``from azureml.core.run import Run``
inside jobs on local, Docker and Ray; Microsoft's azureml pip packages and curated environment
names resolved to runyard's layer; ``DockerConfiguration`` and ``DEFAULT_CPU_IMAGE``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from runyard import Environment, Experiment, ScriptRunConfig
from runyard.azureml_packages import REPLACEMENTS, replace_microsoft_packages
from runyard.azure_curated import azure_curated_environment
from runyard.docker_configuration import DEFAULT_CPU_IMAGE, DockerConfiguration
from runyard.environment import CondaDependencies
from runyard.errors import ConfigError, NotFoundError
from runyard.estimators.curated import FRAMEWORKS

ROOT = Path(__file__).resolve().parents[2]

V1_JOB = """\
import azureml._runyard_compat  # only runyard's layer has it
from azureml.core.run import Run, _OfflineRun

run = Run.get_context()
assert type(run) != _OfflineRun, "the job got an offline run"
run.log("loss", 0.25)
"""

# What a v1 job in an environment listing Microsoft's packages relies on, and proof that none
# of Microsoft's distributions was installed.
V1_ENV_JOB = """\
import importlib.metadata
import sys

import pandas
import azureml._runyard_compat
from azureml.core.run import Run

microsoft = [d.metadata["Name"] for d in importlib.metadata.distributions()
             if (d.metadata["Name"] or "").lower().startswith("azureml-")]
run = Run.get_context()
run.log("microsoft", ",".join(microsoft) or "none")
run.log("python", "%d.%d" % sys.version_info[:2])
run.log("rows", len(pandas.DataFrame({"a": [1, 2, 3]})))
"""


def build_log(run) -> str:
    return (run.workspace._artifacts.run_dir(run.id) / "logs" / "environment_build.log").read_text()


# -- 1. jobs on every target see azureml -------------------------------------------------
def test_a_v1_job_script_runs_on_every_target(target_experiment, project):
    experiment, target = target_experiment
    run = experiment.submit(ScriptRunConfig(project({"train.py": V1_JOB}), script="train.py",
                                            compute_target=target))
    run.wait_for_completion(timeout=600)
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"loss": 0.25}


# -- 2. environments naming Microsoft's packages; curated names; old Python pins ----------
def test_microsoft_packages_resolve_to_the_layer_and_what_they_brought():
    assert replace_microsoft_packages(["azureml-defaults==1.48.0", "azureml-core~=1.47", "scikit-learn"]) == [
        "scikit-learn", "pandas>=2", "pyarrow>=14"]
    assert replace_microsoft_packages(["azureml-sdk[automl]", "pandas==2.2.2"]) == ["pandas==2.2.2", "pyarrow>=14"]
    assert replace_microsoft_packages(["azureml_mlflow"]) == ["mlflow-skinny"]
    assert replace_microsoft_packages(["./azureml-local-wheel", "six"]) == ["./azureml-local-wheel", "six"]
    deps = CondaDependencies.create(pip_packages=["azureml-defaults==1.48.0"])
    assert deps.requirements() == ["pandas>=2", "pyarrow>=14"]
    assert "azureml-defaults==1.48.0 (Microsoft's Azure ML SDK) replaced by runyard's azureml" in \
        deps.replacement_note()
    assert CondaDependencies.create(pip_packages=["six"]).replacement_note() is None


def test_what_replaces_them_is_runyards_own_data_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in ("azureml-defaults", "azureml-sdk", "azureml-dataset-runtime"):
        assert set(REPLACEMENTS[name]) <= set(extras["data"]), name


def test_an_azureml_package_with_no_counterpart_is_refused_before_work(experiment, project, tmp_path):
    env = Environment("interpret")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["six", "azureml-interpret==1.48"])
    src = project({"t.py": "print(1)"})
    with pytest.raises(ConfigError, match=r"pip_packages\[1\] 'azureml-interpret==1.48' is a package of "
                                          r"Microsoft's Azure ML SDK.*remove it"):
        experiment.submit(ScriptRunConfig(src, script="t.py", environment=env))
    assert list(experiment.get_runs()) == []
    conda = tmp_path / "env.yml"
    conda.write_text("name: x\ndependencies:\n  - python=3.8\n  - pip:\n    - azureml-contrib-foo\n")
    with pytest.raises(ConfigError, match=r"env.yml.*azureml-contrib-foo"):
        Environment.from_conda_specification("x", conda)


@pytest.mark.slow
def test_a_v1_conda_spec_builds_with_the_layer_and_the_nearest_python(experiment, project):
    src = project({"train.py": V1_ENV_JOB, "conda.yml": """\
        name: project_environment
        dependencies:
          - python=3.6.2
          - pip:
            - azureml-defaults==1.48.0
            - azureml-core
        channels:
          - conda-forge
        """})
    env = Environment.from_conda_specification("v1-conda", src / "conda.yml")
    run = experiment.submit(ScriptRunConfig(src, script="train.py", environment=env))
    run.wait_for_completion(timeout=600)
    metrics = run.get_metrics()
    assert metrics["microsoft"] == "none" and metrics["rows"] == 3
    assert tuple(map(int, metrics["python"].split("."))) >= (3, 10)
    log = build_log(run)
    assert "azureml-defaults==1.48.0, azureml-core (Microsoft's Azure ML SDK) replaced" in log
    assert "pandas>=2, pyarrow>=14" in log
    assert "pins Python 3.6.2, which cannot be had here" in log
    assert f"building with Python {metrics['python']}, the nearest available" in log


@pytest.mark.ray
@pytest.mark.postgres
def test_a_v1_environment_on_ray_runs_with_the_clusters_python_and_the_layer(ray_workspace, project, tmp_path):
    env = Environment("v1-ray", python={"conda_dependencies": {"python_version": "3.6",
                                                               "pip_packages": ["azureml-core==1.48.0"]}})
    experiment = Experiment(ray_workspace, "v1-ray")
    run = experiment.submit(ScriptRunConfig(project({"train.py": V1_JOB}), script="train.py",
                                            compute_target="ray", environment=env))
    run.wait_for_completion(timeout=600)
    assert run.get_metrics() == {"loss": 0.25}
    log = Path(run.download_file("logs/environment_build.log", str(tmp_path / "build.log"))).read_text()
    assert "azureml-core==1.48.0 (Microsoft's Azure ML SDK) replaced by runyard's azureml" in log
    assert "pins Python 3.6, which cannot be had here" in log and "building with the cluster's Python" in log


@pytest.mark.parametrize("name, packages", [
    ("AzureML-Minimal", ["azureml-defaults"]),
    ("azureml-tutorial", ["azureml-defaults", "scikit-learn", "matplotlib", "numpy", "tqdm"]),
    ("azureml-sklearn-1.8", ["azureml-defaults", *FRAMEWORKS["sklearn"].versions["1.8"]]),
    ("AzureML-sklearn-1.0-ubuntu20.04-py38-cpu",  # older than runyard has: the newest
     ["azureml-defaults", *FRAMEWORKS["sklearn"].versions[FRAMEWORKS["sklearn"].default_version]]),
    ("AzureML-Scikit-learn-0.20.3", ["azureml-defaults", *FRAMEWORKS["sklearn"].versions["1.9"]]),
    ("AzureML-PyTorch-1.6-CPU", ["azureml-defaults", *FRAMEWORKS["pytorch"].versions["2.13"]]),
    ("AzureML-TensorFlow-2.3-CPU", ["azureml-defaults", *FRAMEWORKS["tensorflow"].versions["2.21"]]),
    ("AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu", ["azureml-defaults", "lightgbm", "scikit-learn"]),
])
def test_curated_names_map_to_runyard_environments(workspace, name, packages):
    env = Environment.get(workspace, name)
    assert env.name == name
    assert env.python.conda_dependencies.pip_packages == packages
    env.validate_for_build()


def test_a_registered_environment_comes_before_a_curated_name(workspace):
    mine = Environment("AzureML-Minimal")
    mine.python.conda_dependencies = CondaDependencies.create(pip_packages=["six"])
    mine.register(workspace)
    assert Environment.get(workspace, "AzureML-Minimal").python.conda_dependencies.pip_packages == ["six"]
    assert azure_curated_environment("my-env") is None
    with pytest.raises(NotFoundError, match="'AzureML-Nope' is not registered.*curated names such as AzureML-Minimal"):
        Environment.get(workspace, "AzureML-Nope")
    with pytest.raises(NotFoundError, match="'AzureML-Tutorial' version 1 is not registered"):
        Environment.get(workspace, "AzureML-Tutorial", version=1)


@pytest.mark.slow
def test_a_curated_environment_runs_a_v1_job(experiment, workspace, project):
    src = project({"train.py": V1_ENV_JOB})
    run = experiment.submit(ScriptRunConfig(src, script="train.py",
                                            environment=Environment.get(workspace, "AzureML-Minimal")))
    run.wait_for_completion(timeout=600)
    assert run.get_metrics()["microsoft"] == "none"
    assert "azureml-defaults (Microsoft's Azure ML SDK) replaced" in build_log(run)


# -- 3. DockerConfiguration(use_docker=True) and DEFAULT_CPU_IMAGE ------------------------
def _v1_docker_config(src: Path, target: str = "local") -> ScriptRunConfig:
    env = Environment("v1-docker")
    env.docker.base_image = DEFAULT_CPU_IMAGE
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["azureml-core==1.48.0"],
                                                             python_version="3.6")
    return ScriptRunConfig(src, script="train.py", environment=env, compute_target=target,
                           docker_runtime_config=DockerConfiguration(use_docker=True))


def test_use_docker_without_a_docker_target_runs_here_and_says_so(experiment, project):
    run = experiment.submit(_v1_docker_config(project({"train.py": V1_JOB})))
    run.wait_for_completion(timeout=300)
    assert run.get_metrics() == {"loss": 0.25}
    assert run.get_details()["target"] == "local"
    assert "has no Docker target, so the run is a process of this machine on 'local'" in run.get_log()


@pytest.mark.docker
def test_use_docker_runs_on_the_docker_target_on_runyards_image(workspace, docker_target, project):
    experiment = Experiment(workspace, "v1-docker")
    run = experiment.submit(_v1_docker_config(project({"train.py": V1_JOB})))
    run.wait_for_completion(timeout=600)
    assert run.get_metrics() == {"loss": 0.25}
    assert run.get_details()["target"] == docker_target
    assert f"goes to the workspace's Docker target {docker_target!r} instead of 'local'" in run.get_log()
    log = build_log(run)
    assert f"base image {DEFAULT_CPU_IMAGE} is one of Azure ML's, which runyard does not pull" in log
    assert "azureml-core==1.48.0 (Microsoft's Azure ML SDK) replaced by runyard's azureml" in log
    assert "pins Python 3.6, which cannot be had here" in log and "with the base image's Python" in log
    assert "mcr.microsoft.com" not in log.split("does not pull", 1)[1]  # never pulled nor built FROM


def test_docker_configuration_refuses_what_it_cannot_honour(workspace, project):
    with pytest.raises(ConfigError, match="shared_volumes: runyard copies the job's folder"):
        DockerConfiguration(use_docker=True, shared_volumes=True)
    with pytest.raises(ConfigError, match="DockerConfiguration.*use_docker"):
        DockerConfiguration(use_docker="sometimes")
    from runyard.compute.docker import DockerCompute
    workspace.compute_targets.attach("docker-a", DockerCompute())
    workspace.compute_targets.attach("docker-b", DockerCompute())
    with pytest.raises(ConfigError, match=r"several Docker targets \(docker-a, docker-b\); submit to one"):
        Experiment(workspace, "v1").submit(_v1_docker_config(project({"train.py": V1_JOB})))


def test_a_ray_image_never_is_microsofts():
    from runyard.compute.ray import RaySettings, runtime_env_for
    spec = {"name": "v1", "docker": {"base_image": DEFAULT_CPU_IMAGE}}
    with pytest.raises(ConfigError, match="one of Azure ML's images, which runyard does not pull"):
        runtime_env_for(spec, RaySettings(address="http://127.0.0.1:8265", use_image=True))


def test_docker_and_ray_never_install_microsofts_packages(tmp_path):
    import io

    from runyard.compute.docker_images import ImageResolver
    from runyard.compute.ray import RaySettings, runtime_env_for
    spec = {"name": "v1", "python": {"conda_dependencies": {"pip_packages": ["azureml-defaults==1.48", "six"]}}}
    log = io.StringIO()
    resolver = ImageResolver(client=None, settings={}, log=log)
    resolver._context(spec, tmp_path, "runyard/env:test")
    resolver._notes(spec)  # what ensure() writes first, for a built image or one found
    assert (tmp_path / "requirements.txt").read_text().split() == ["six", "pandas>=2", "pyarrow>=14"]
    assert "azureml-defaults==1.48 (Microsoft's Azure ML SDK) replaced" in log.getvalue()
    assert runtime_env_for(spec, RaySettings())["pip"]["packages"] == ["six", "pandas>=2", "pyarrow>=14"]
    only_core = {"name": "v1", "python": {"conda_dependencies": {"pip_packages": ["azureml-core"]}}}
    assert "pip" not in runtime_env_for(only_core, RaySettings())


def test_use_docker_in_a_pipeline_step_and_a_sweep_is_placed_the_same_way(workspace, project):
    from runyard import GridParameterSampling, HyperDriveConfig, Pipeline, PythonScriptStep, RunConfiguration, choice
    src = project({"train.py": V1_JOB + "import sys\nrun.log('args', ' '.join(sys.argv[1:]))\n"})
    experiment = Experiment(workspace, "v1-placed")
    step = PythonScriptStep("train.py", name="train", source_directory=str(src),
                            runconfig=RunConfiguration(docker=DockerConfiguration(use_docker=True)))
    pipeline_run = experiment.submit(Pipeline(workspace, [step]))
    pipeline_run.wait_for_completion(timeout=300)
    (step_run,) = pipeline_run.get_steps()
    assert "has no Docker target, so the run is a process of this machine" in step_run.get_log()
    sweep = experiment.submit(HyperDriveConfig(
        run_config=ScriptRunConfig(str(src), script="train.py", docker_runtime_config=DockerConfiguration(use_docker=True)),
        hyperparameter_sampling=GridParameterSampling({"--alpha": choice(1)}), primary_metric_name="loss",
        primary_metric_goal="MINIMIZE", max_total_runs=1))
    sweep.wait_for_completion(timeout=300)
    (trial,) = sweep.get_children()
    assert trial.get_metrics()["loss"] == 0.25
    assert "has no Docker target, so the run is a process of this machine" in trial.get_log()
