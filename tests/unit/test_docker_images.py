"""docker_images: the Dockerfile an environment's image is built from (no Docker engine needed)."""

from __future__ import annotations

import io
import subprocess

import docker.errors
import pytest

from runyard.compute.docker_images import ImageResolver
from runyard.estimators import curated


def dockerfile(environment, folder) -> str:
    resolver = ImageResolver(client=None, settings={}, log=io.StringIO())
    return resolver._context(environment.model_dump(mode="json"), folder, "runyard/env:test")


def test_without_build_isolation_the_build_system_is_installed_first(tmp_path):
    text = dockerfile(curated.curated_environment("chainer"), tmp_path)
    steps = [line for line in text.splitlines() if line.startswith("RUN /opt/runyard/env/bin/pip")]
    assert [step.rsplit(" ", 1)[-1] for step in steps] == [
        "/opt/runyard/build-requirements.txt", "/opt/runyard/requirements.txt"]
    assert all("--no-build-isolation" in step for step in steps)
    assert (tmp_path / "build-requirements.txt").read_text().split() == ["setuptools<70", "wheel"]
    assert "chainer==7.8.1" in (tmp_path / "requirements.txt").read_text().split()


def test_with_build_isolation_the_packages_are_one_step(tmp_path):
    text = dockerfile(curated.curated_environment("sklearn"), tmp_path)
    assert "build-requirements.txt" not in text and not (tmp_path / "build-requirements.txt").exists()
    assert [line for line in text.splitlines() if line.endswith("-r /opt/runyard/requirements.txt")] == [
        "RUN /opt/runyard/env/bin/pip install --no-cache-dir --disable-pip-version-check  "
        "-r /opt/runyard/requirements.txt"]


def settings_dockerfile(folder, settings, **environment) -> str:
    resolver = ImageResolver(client=None, settings=settings, log=io.StringIO())
    return resolver._context({"name": "settings", **environment}, folder, "runyard/env:test")


def test_the_ca_bundle_is_added_to_the_base_images_trust_store(tmp_path):
    bundle = tmp_path / "proxy-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nPROXY\n-----END CERTIFICATE-----\n")
    (tmp_path / "context").mkdir()
    text = settings_dockerfile(tmp_path / "context", {"ca_bundle": str(bundle)})
    assert "ENV PIP_CERT=/opt/runyard/ca.crt REQUESTS_CA_BUNDLE=/opt/runyard/ca.crt SSL_CERT_FILE=/opt/runyard/ca.crt" in text
    [step] = [line for line in text.splitlines() if line.startswith("RUN") and "ca.crt" in line]
    # the step itself, in folders of this machine: with the base image's bundle, and without one
    system = tmp_path / "system.crt"
    system.write_text("-----BEGIN CERTIFICATE-----\nSYSTEM\n-----END CERTIFICATE-----")  # no final newline
    opt = tmp_path / "opt"
    opt.mkdir()
    (opt / "extra-ca.crt").write_bytes((tmp_path / "context" / "runyard-ca.crt").read_bytes())
    for system_path, expected in ((system, ["SYSTEM", "PROXY"]), (tmp_path / "missing.crt", ["PROXY"])):
        script = step[len("RUN "):].replace("/etc/ssl/certs/ca-certificates.crt", str(system_path)) \
                                   .replace("/opt/runyard", str(opt))
        subprocess.run(["/bin/sh", "-c", script], check=True)
        combined = (opt / "ca.crt").read_text()
        assert [line for line in combined.splitlines() if line.isupper() and "-" not in line] == expected
        assert combined.count("-----BEGIN CERTIFICATE-----") == len(expected)
        assert "----------" not in combined  # each certificate on lines of its own


def test_build_args_are_declared_for_the_steps(tmp_path):
    text = settings_dockerfile(tmp_path, {"build_args": {"PIP_TRUSTED_HOST": "mirror", "HTTPS_PROXY": "http://p:3128",
                                                         "no_proxy": "localhost"}},
                               docker={"extra_steps": ["RUN echo $PIP_TRUSTED_HOST"]})
    lines = text.splitlines()
    assert "ARG PIP_TRUSTED_HOST" in lines
    assert lines.index("ARG PIP_TRUSTED_HOST") < lines.index("RUN echo $PIP_TRUSTED_HOST")
    # Docker's own proxy arguments reach every build undeclared, and declaring them would put them in the image
    assert not [line for line in lines if "PROXY" in line.upper() and line.startswith("ARG")]


def test_pip_index_settings_reach_every_pip_step(tmp_path):
    environment = {"python": {"conda_dependencies": {"pip_packages": ["six==1.16.0"]}}}
    text = settings_dockerfile(tmp_path, {"pip_index_url": "https://mirror.example/simple",
                                          "pip_extra_index_url": "https://extra.example/simple"}, **environment)
    pip_steps = [line for line in text.splitlines() if "/opt/runyard/env/bin/pip install" in line]
    assert len(pip_steps) == 2  # runyard's client, then the environment's packages
    for step in pip_steps:
        assert "--index-url=https://mirror.example/simple" in step
        assert "--extra-index-url=https://extra.example/simple" in step


def test_a_base_dockerfile_replaces_the_base_image(tmp_path):
    text = settings_dockerfile(tmp_path, {"default_base_image": "not-this:1"},
                               docker={"base_dockerfile": "FROM debian:bookworm\nRUN apt-get update\n"})
    lines = text.splitlines()
    assert lines[:3] == ["FROM debian:bookworm", "RUN apt-get update", "USER root"]
    assert "not-this" not in text and text.count("FROM ") == 1


def test_pull_progress_is_a_line_per_layer_status_and_no_more():
    resolver = ImageResolver(client=None, settings={}, log=io.StringIO())
    events = [{"status": "Pulling from runyard/env", "id": "abc"},
              {"status": "Pulling fs layer", "id": "l1"}, {"status": "Pulling fs layer", "id": "l2"},
              *[{"status": "Downloading", "id": "l1", "progressDetail": {"current": i * 100, "total": 1000}}
                for i in range(1, 10)],
              {"status": "Download complete", "id": "l1"}, {"status": "Pull complete", "id": "l1"},
              {"status": "Pull complete", "id": "l2"}, {"status": "Digest: sha256:0123"},
              {"aux": {"Digest": "sha256:0123"}}]
    resolver._follow(iter(events), every_s=3600)
    assert resolver.log.getvalue().splitlines() == [
        "  abc: Pulling from runyard/env", "  l1: Pulling fs layer", "  l2: Pulling fs layer", "  l1: Downloading",
        "  l1: Download complete", "  l1: Pull complete", "  l2: Pull complete", "  Digest: sha256:0123"]


def test_pull_progress_gives_the_share_moved_every_few_seconds():
    resolver = ImageResolver(client=None, settings={}, log=io.StringIO())
    events = [{"status": "Downloading", "id": "l1", "progressDetail": {"current": i * 250, "total": 1000}}
              for i in range(1, 4)]
    resolver._follow(iter(events), every_s=0)
    assert resolver.log.getvalue().splitlines() == ["  l1: Downloading", "  50% of 0.0 MB", "  75% of 0.0 MB"]


def test_an_error_in_the_stream_is_an_api_error():
    resolver = ImageResolver(client=None, settings={}, log=io.StringIO())
    with pytest.raises(docker.errors.APIError, match="connection refused"):
        resolver._follow(iter([{"status": "The push refers to repository [x]"},
                               {"error": "Get http://127.0.0.1:9/v2/: connection refused"}]))


def test_a_python_version_is_checked_against_the_base_images(tmp_path):
    import shlex
    mine = subprocess.run(["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True).stdout.strip()
    other = "3.13" if mine != "3.13" else "3.12"  # one runyard runs on, and not this machine's
    text = settings_dockerfile(tmp_path, {}, python={"conda_dependencies": {"python_version": other}})
    check = next(line for line in text.splitlines() if line.startswith("RUN python3 -c"))
    assert text.index(check) < text.index("python3 -m venv")  # before any package is installed
    code = shlex.split(check[len("RUN "):])[2]
    wrong = subprocess.run(["python3", "-c", code], capture_output=True, text=True)
    assert wrong.returncode == 1 and f"asks for Python {other} and the base image has Python 3." in wrong.stderr
    text = settings_dockerfile(tmp_path, {}, python={"conda_dependencies": {"python_version": mine}})
    code = shlex.split(next(line for line in text.splitlines() if line.startswith("RUN python3 -c"))[4:])[2]
    assert subprocess.run(["python3", "-c", code]).returncode == 0
    assert "RUN python3 -c" not in settings_dockerfile(tmp_path, {})  # no version asked, no check


def test_a_python_older_than_runyard_runs_on_builds_with_the_images_and_a_warning(tmp_path):
    log = io.StringIO()
    resolver = ImageResolver(client=None, settings={}, log=log)
    spec = {"name": "v1", "python": {"conda_dependencies": {"python_version": "3.6"}}}
    assert "RUN python3 -c" not in resolver._context(spec, tmp_path, "runyard/env:test")
    resolver._notes(spec)  # what ensure() writes first, for a built image or one found
    assert "Warning: the environment pins Python 3.6, which cannot be had here" in log.getvalue()
    assert "building with the base image's Python, the nearest available" in log.getvalue()


def test_a_user_managed_environment_is_refused_before_any_build():
    resolver = ImageResolver(client=None, settings={}, log=io.StringIO())
    from runyard.errors import EnvironmentBuildError
    with pytest.raises(EnvironmentBuildError, match="user_managed_dependencies=True.*builds the environment's packages"):
        resolver.ensure({"name": "mine", "python": {"user_managed_dependencies": True}})


# -- the job's files, as put into its container ----------------------------------------------
def zipped(path, entries) -> str:
    import zipfile
    with zipfile.ZipFile(path, "w") as zf:
        for name, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system, info.external_attr = 3, mode << 16
            zf.writestr(info, b"#!/bin/sh\n")
    return str(path)


def test_client_archive_holds_the_snapshot_with_masked_modes(tmp_path):
    import tarfile
    from runyard.compute.docker_images import client_archive
    archive = client_archive("/opt/job", zipped(tmp_path / "s.zip", [("bin/run.sh", 0o106777), ("a.py", 0o100644)]))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        modes = {m.name: m.mode for m in tar.getmembers() if m.isfile() and m.name.startswith("opt/job/")}
    assert modes == {"opt/job/bin/run.sh": 0o755, "opt/job/a.py": 0o644}


@pytest.mark.parametrize("name, mode", [("/etc/cron.d/x", 0o100644), ("../x", 0o100644), ("a/../../x", 0o100644),
                                        ("link", 0o120777)])
def test_client_archive_refuses_a_crafted_snapshot(tmp_path, name, mode):
    from runyard.compute.docker_images import client_archive
    from runyard.errors import SnapshotError
    with pytest.raises(SnapshotError, match="nothing was unpacked"):
        client_archive("/opt/job", zipped(tmp_path / "s.zip", [(name, mode)]))
