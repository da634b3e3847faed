"""Environment fields at work on real targets: a private base image pulled from a registry
with credentials, ``docker run`` options reaching the container, GitHub tokens and a CRAN
snapshot date in the local R build, and what a target refuses before a run is recorded."""

from __future__ import annotations

import io
import subprocess

import pytest

from runyard import Environment, ScriptRunConfig
from runyard.compute.local_r import materialise_r_library
from runyard.errors import ConfigError, EnvironmentBuildError, RunFailedError


def test_a_target_refuses_a_field_before_any_run_is_recorded(workspace, experiment, project):
    src = project({"t.py": "print('never')\n"})
    env = Environment("boxed", docker={"enabled": True, "base_image": "python:3.11"})
    with pytest.raises(ConfigError, match="docker.enabled=True asks for a container, and the local target runs"):
        experiment.submit(ScriptRunConfig(str(src), script="t.py", environment=env))
    bad = Environment("bad-args", docker={"arguments": ["--memory=8g"]})
    with pytest.raises(ConfigError, match="docker.arguments: --memory is the Docker target's setting 'memory'"):
        experiment.submit(ScriptRunConfig(str(src), script="t.py", environment=bad))
    assert workspace._store.list_runs() == []


FAKE_REMOTES = {
    "DESCRIPTION": "Package: remotes\nVersion: 0.0.1\nTitle: Fake\nDescription: Records its calls.\n"
                   "License: MIT\nAuthor: t\nMaintainer: t <t@example.com>\n",
    "NAMESPACE": "export(install_github)\n",
    "R/record.R": 'install_github <- function(repo, lib = NULL, auth_token = NULL, ...) {\n'
                  '  cat(repo, if (is.null(auth_token)) "<none>" else auth_token, "\\n",\n'
                  '      file = Sys.getenv("RUNYARD_TEST_RECORD"), append = TRUE)\n'
                  '}\n',
}


def test_github_tokens_reach_the_local_install_and_no_log(project, tmp_path, monkeypatch):
    library = tmp_path / "fake-lib"
    library.mkdir()
    subprocess.run(["R", "CMD", "INSTALL", f"--library={library}", str(project(FAKE_REMOTES, name="remotes"))],
                   check=True, capture_output=True)
    monkeypatch.setenv("R_LIBS", str(library))
    monkeypatch.setenv("RUNYARD_TEST_RECORD", str(tmp_path / "calls.txt"))
    env = Environment("private-r", r={"github_packages": [{"repository": "me/private", "auth_token": "ghp_s3cret"},
                                                           {"repository": "me/public"}]})
    log = io.StringIO()
    with pytest.raises(EnvironmentBuildError, match="R packages could not be installed: me/private, me/public"):
        materialise_r_library(env, log)  # the fake installs nothing: both are missing after it
    calls = (tmp_path / "calls.txt").read_text().split("\n")
    assert [c.split() for c in calls if c.strip()] == [["me/private", "ghp_s3cret"], ["me/public", "<none>"]]
    assert "ghp_s3cret" not in log.getvalue()


def test_a_snapshot_date_installs_cran_packages_from_that_days_snapshot(monkeypatch):
    env = Environment("dated", r={"snapshot_date": "2024-01-15", "repos": ["https://cloud.r-project.org"],
                                  "cran_packages": [{"name": "runyardnosuchpkg"}]})
    log = io.StringIO()
    # This machine has no internet: the snapshot is asked for, and the package is missing.
    with pytest.raises(EnvironmentBuildError, match="runyardnosuchpkg"):
        materialise_r_library(env, log)
    assert "repositories: https://packagemanager.posit.co/cran/2024-01-15\n" in log.getvalue()


PROBE = """\
import os, resource
print("FROM_ARGS", os.environ["FROM_ARGS"], flush=True)
print("NOFILE", resource.getrlimit(resource.RLIMIT_NOFILE)[0], flush=True)
shm = os.statvfs("/dev/shm")
print("SHM_MB", round(shm.f_blocks * shm.f_frsize / 2**20), flush=True)
"""


@pytest.mark.docker
def test_a_private_base_image_and_docker_run_options(experiment, project, docker_engine, base_image, docker_target,
                                                     tmp_path_factory):
    from docker_services import start_registry, stop_process
    proc, address = start_registry(tmp_path_factory.mktemp("private-registry"), users={"bot": "pw"})
    try:
        repository = f"{address}/runyard-test/private"
        docker_engine.images.get(base_image).tag(repository, "1")
        for event in docker_engine.api.push(repository, tag="1", stream=True, decode=True,
                                            auth_config={"username": "bot", "password": "pw"}):
            assert "error" not in event, event
        docker_engine.images.remove(f"{repository}:1")  # only the registry has it now

        def environment(password: str) -> Environment:
            return Environment("private-base", docker={
                "base_image": "runyard-test/private:1",
                "base_image_registry": {"address": address, "username": "bot", "password": password},
                "arguments": ["-e", "FROM_ARGS=yes", "--ulimit", "nofile=512:512", "--shm-size=96m"]})

        src = project({"probe.py": PROBE})
        refused = experiment.submit(ScriptRunConfig(str(src), script="probe.py", environment=environment("wrong"),
                                                    compute_target=docker_target))
        with pytest.raises(RunFailedError, match=f"base_image_registry {address} refused the login of 'bot'"):
            refused.wait_for_completion(timeout=600)
        run = experiment.submit(ScriptRunConfig(str(src), script="probe.py", environment=environment("pw"),
                                                compute_target=docker_target))
        run.wait_for_completion(timeout=900)
        build_log = run.get_details_with_logs()["logFiles"]["logs/environment_build.log"]
        assert f"Pulling the base image {repository}:1" in build_log and "pw" not in build_log.split()
        output = run.get_log()
        assert "FROM_ARGS yes" in output and "NOFILE 512" in output and "SHM_MB 96" in output
    finally:
        stop_process(proc)
