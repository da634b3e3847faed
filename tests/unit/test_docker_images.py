"""docker_images: the Dockerfile an environment's image is built from (no Docker engine needed)."""

from __future__ import annotations

import io

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
