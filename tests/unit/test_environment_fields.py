"""Every Environment field is honoured by each target that can honour it, or refused by name
before a run starts (``validate_for_build`` and each target's ``check_environment``)."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import date, timedelta

import pytest

from runyard.compute.docker import DockerCompute
from runyard.compute.docker_arguments import container_options
from runyard.compute.docker_images import ImageResolver, image_hash
from runyard.compute.local import LocalTarget
from runyard.compute.local_r import INSTALL_SCRIPT
from runyard.compute.ray import RaySettings, runtime_env_for
from runyard.compute._ray_job import python_version_problem
from runyard.environment import ContainerRegistry, Environment, GitHubPackage
from runyard.errors import ConfigError


def environment(**fields) -> Environment:
    return Environment("fields", **fields)


# -- docker.arguments ----------------------------------------------------------------------------
def test_docker_arguments_map_to_container_options():
    options = container_options(["--shm-size=2g", "--ipc", "host", "--ulimit", "memlock=-1", "-e", "A=1",
                                 "--label", "team=ml", "--cap-add=SYS_PTRACE", "--privileged",
                                 "--tmpfs /scratch:size=64m", "--add-host", "db:10.0.0.5", "--pids-limit", "64",
                                 "--sysctl", "net.core.somaxconn=1024", "--hostname", "trainer", "--init"])
    assert options == {"shm_size": "2g", "ipc_mode": "host", "ulimits": [{"name": "memlock", "soft": -1, "hard": -1}],
                       "environment": {"A": "1"}, "labels": {"team": "ml"}, "cap_add": ["SYS_PTRACE"],
                       "privileged": True, "tmpfs": {"/scratch": "size=64m"}, "extra_hosts": {"db": "10.0.0.5"},
                       "pids_limit": 64, "sysctls": {"net.core.somaxconn": "1024"}, "hostname": "trainer"}


@pytest.mark.parametrize("arguments, message", [
    (["--memory", "4g"], "--memory is the Docker target's setting 'memory'.*runyard compute attach docker NAME "
                         "--memory"),
    (["--gpus=all"], "--gpus is the Docker target's setting 'gpus'"),
    (["-v", "/data:/data"], "-v is set by runyard for every job \\(the job's files"),
    (["--entrypoint", "sh"], "--entrypoint is set by runyard"),
    (["--storage-opt", "size=1g"], "--storage-opt is not a docker run option the Docker target can pass.*it "
                                   "passes: --add-host"),
    (["--ulimit", "nofile"], "--ulimit 'nofile': expected NAME=SOFT\\[:HARD\\]"),
    (["--shm-size"], "--shm-size needs a value"),
    (["--ipc=host", "--ipc=private"], "--ipc 'private': given twice"),
])
def test_docker_arguments_it_cannot_pass_are_refused_at_validation(arguments, message):
    env = environment(docker={"arguments": arguments})
    with pytest.raises(ConfigError, match="Environment 'fields': docker.arguments.*" + message):
        env.validate_for_build()


def test_shm_size_given_twice_is_refused():
    env = environment(docker={"arguments": ["--shm-size=1g"], "shm_size": "2g"})
    with pytest.raises(ConfigError, match="gives --shm-size 1g and docker.shm_size is 2g; give one"):
        env.validate_for_build()


# -- docker.base_image_registry ------------------------------------------------------------------
def test_registry_fields_as_azure_sets_them_and_the_hash_without_credentials():
    env = environment(docker={"base_image": "team/base:1"})
    plain_hash = env.hash
    assert env.model_dump()["docker"]["base_image_registry"] is None  # empty: stored as before
    env.docker.base_image_registry.address = "registry.example.com:5000"
    env.docker.base_image_registry.username = "bot"
    env.docker.base_image_registry.password = "s3cret"
    with_credentials = env.hash
    assert with_credentials != plain_hash  # the address decides the image
    env.docker.base_image_registry.password = "rotated"
    assert env.hash == with_credentials  # the credentials do not
    spec = env.model_dump(mode="json")
    assert image_hash(spec) == image_hash({**spec, "docker": {**spec["docker"], "base_image_registry": {
        "address": "registry.example.com:5000", "username": "other", "password": "x"}}})
    assert "s3cret" not in json.dumps(env.build_spec()) and "rotated" not in json.dumps(env.build_spec())
    again = Environment(**env.model_dump())
    assert again.docker.base_image_registry == ContainerRegistry(address="registry.example.com:5000",
                                                                 username="bot", password="rotated")


def test_registry_checks():
    with pytest.raises(ConfigError, match="base_image_registry needs an address, and both username and password"):
        environment(docker={"base_image": "b", "base_image_registry": {"address": "r", "username": "u"}}) \
            .validate_for_build()
    with pytest.raises(ConfigError, match="Extra inputs are not permitted"):
        environment(docker={"base_image_registry": {"address": "r", "registry_identity": "x"}})
    env = environment(docker={"base_image_registry": {"address": "r:5000"}})
    with pytest.raises(ConfigError, match="names r:5000, but no docker.base_image \\(or base_dockerfile\\) comes "
                                          "from it"):
        env.validate_for_build()


class Recorder:
    """The part of docker-py's client the base image pull and the login use."""

    def __init__(self):
        self.calls = []
        self.api = self
        self.images = self

    def get(self, name):
        import docker.errors
        raise docker.errors.ImageNotFound(name)

    def pull(self, name, **kwargs):
        self.calls.append(("pull", name, kwargs.get("auth_config")))
        return iter([{"status": "Downloaded"}])

    def login(self, username, password, registry, reauth):
        self.calls.append(("login", registry, username, password))


def test_the_base_image_is_pulled_from_the_registry_with_its_credentials():
    client = Recorder()
    resolver = ImageResolver(client, {}, io.StringIO())
    resolver._streaming = lambda: _nothing()
    spec = environment(docker={"base_image": "team/base:1", "base_image_registry": {
        "address": "127.0.0.1:5000", "username": "bot", "password": "pw"}}).model_dump(mode="json")
    assert resolver._base_image(spec) == "127.0.0.1:5000/team/base:1"
    registry = spec["docker"]["base_image_registry"]
    resolver._login(registry, "fields")
    resolver._ensure_base_image(resolver._base_image(spec), "fields", registry)
    assert client.calls == [("login", "127.0.0.1:5000", "bot", "pw"),
                            ("pull", "127.0.0.1:5000/team/base:1", {"username": "bot", "password": "pw"})]
    named = dict(spec, docker={**spec["docker"], "base_image": "127.0.0.1:5000/team/base:1"})
    assert resolver._base_image(named) == "127.0.0.1:5000/team/base:1"  # the address is not doubled


def _nothing():
    import contextlib
    return contextlib.nullcontext()


# -- the R section -------------------------------------------------------------------------------
def test_snapshot_date_selects_the_cran_snapshot_of_that_day():
    env = environment(r={"snapshot_date": "2024-01-15", "repos": ["https://cloud.r-project.org"]})
    assert env.r.package_repos() == ["https://packagemanager.posit.co/cran/2024-01-15"]
    assert environment(r={"repos": ["file:///x"]}).r.package_repos() == ["file:///x"]
    with pytest.raises(ConfigError, match="r.snapshot_date.*use a date like '2024-01-15', got '15/01/2024'"):
        environment(r={"snapshot_date": "15/01/2024"})
    with pytest.raises(ConfigError, match="is in the future"):
        environment(r={"snapshot_date": (date.today() + timedelta(days=2)).isoformat()})


def test_the_image_installs_r_packages_from_the_snapshot_and_checks_r_version(tmp_path):
    env = environment(r={"snapshot_date": "2024-01-15", "r_version": "4.3", "user_managed": True,
                         "cran_packages": [{"name": "glmnet"}]})
    resolver = ImageResolver(client=None, settings={}, log=io.StringIO())
    resolver._context(env.model_dump(mode="json"), tmp_path, "runyard/env:test")
    spec = json.loads((tmp_path / "r-spec.json").read_text())
    assert spec["repos"] == ["https://packagemanager.posit.co/cran/2024-01-15"]
    assert (spec["r_version"], spec["install"]) == ("4.3", False)


def run_install_script(tmp_path, spec: dict) -> subprocess.CompletedProcess:
    (tmp_path / "spec.json").write_text(json.dumps({"lib": str(tmp_path / "lib"), "repos": [], "cran": [],
                                                    "urls": [], "github": [], "bioconductor": [], **spec}))
    (tmp_path / "install.R").write_text(INSTALL_SCRIPT)
    return subprocess.run(["Rscript", str(tmp_path / "install.R")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "RUNYARD_R_SPEC": str(tmp_path / "spec.json")})


def test_the_install_script_checks_r_version_and_skips_a_user_managed_section(tmp_path):
    refused = run_install_script(tmp_path, {"r_version": "9.9"})
    assert refused.returncode == 4
    assert "the environment asks for R 9.9 and this R is" in refused.stdout
    managed = run_install_script(tmp_path, {"install": False, "cran": [{"name": "nosuchpkg", "version": "",
                                                                       "repo": ""}]})
    assert managed.returncode == 0 and "installing" not in managed.stdout


# -- each target's own refusals ------------------------------------------------------------------
def test_the_local_target_refuses_an_environment_that_asks_for_a_container():
    env = environment(docker={"enabled": True, "base_image": "python:3.11"})
    with pytest.raises(ConfigError, match="docker.enabled=True asks for a container, and the local target runs jobs "
                                          "as processes.*set docker.enabled=False"):
        LocalTarget().check_environment(env)
    LocalTarget().check_environment(environment(docker={"base_image": "python:3.11"}))  # an image for elsewhere


def test_the_docker_target_refuses_what_cannot_go_into_an_image():
    target = DockerCompute()
    with pytest.raises(ConfigError, match="python.user_managed_dependencies=True names an interpreter of this "
                                          "machine"):
        target.check_environment(environment(python={"user_managed_dependencies": True}))
    token = environment(r={"github_packages": [GitHubPackage(repository="me/private", auth_token="ghp_x")]})
    with pytest.raises(ConfigError, match="r.github_packages\\[0\\].auth_token:.*whose layers would keep the token"):
        target.check_environment(token)
    target.check_environment(environment(r={"github_packages": [{"repository": "me/public"}]}))


@pytest.mark.parametrize("fields, use_image, message", [
    ({"python": {"interpreter_path": "/usr/bin/python3", "user_managed_dependencies": True}}, False,
     "python.interpreter_path names an interpreter of this machine"),
    ({"r": {"r_version": "4.2"}}, False, "r.r_version: a Ray job runs its node's R"),
    ({"docker": {"enabled": True}}, False, "docker.enabled=True asks for a container.*use_image=True"),
    ({"docker": {"base_image": "b", "extra_steps": ["RUN x"]}}, True, "docker.extra_steps: a Ray target with "
                                                                       "use_image runs the base image as it is"),
    ({"docker": {"base_image": "b", "arguments": ["--ipc=host"]}}, True, "docker.arguments"),
    ({"docker": {"base_image": "b", "shm_size": "1g"}}, True, "docker.shm_size"),
    ({"docker": {"base_dockerfile": "FROM x"}}, True, "docker.base_dockerfile"),
    ({"docker": {"base_image": "b", "base_image_registry": {"address": "r"}}}, True, "docker.base_image_registry"),
])
def test_the_ray_target_refuses_what_its_nodes_cannot_honour(fields, use_image, message):
    spec = environment(**fields).model_dump(mode="json")
    with pytest.raises(ConfigError, match="Environment 'fields': " + message):
        runtime_env_for(spec, RaySettings(use_image=use_image))


def test_the_ray_target_honours_user_managed_and_the_image():
    managed = environment(python={"user_managed_dependencies": True})
    assert runtime_env_for(managed.model_dump(mode="json"), RaySettings()) == {}
    built = environment(python={"conda_dependencies": {"pip_packages": ["six"]}}, docker={"base_image": "img:1"})
    assert runtime_env_for(built.model_dump(mode="json"), RaySettings(use_image=True)) == {
        "pip": {"packages": ["six"], "pip_check": False}, "image_uri": "img:1"}


def test_a_ray_node_with_another_python_refuses_to_run_the_job():
    import sys
    have = "%d.%d" % sys.version_info[:2]
    assert python_version_problem(None) is None and python_version_problem(have) is None
    assert "asks for Python 2.7 and this Ray node runs Python" in python_version_problem("2.7")


def test_user_managed_dependencies_with_packages_is_refused():
    env = environment(python={"user_managed_dependencies": True, "conda_dependencies": {"pip_packages": ["six"]}})
    with pytest.raises(ConfigError, match="user_managed_dependencies=True uses an interpreter as it is and installs "
                                          "nothing, so its pip_packages/conda_packages would be ignored"):
        env.validate_for_build()
