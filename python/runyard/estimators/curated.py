"""Curated environments: the environment each framework estimator runs in, per framework version.

Each is an ordinary ``Environment`` under a reserved name (``runyard-<framework>-<version>-cpu``),
registered in a workspace the first time an estimator uses it, and built like any other (once
per hash, cached). ``runyard env list --curated`` lists them.

>>> curated_environment("sklearn", "1.9").name
'runyard-sklearn-1.9-cpu'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..environment import CondaDependencies, Environment
from ..errors import ConfigError

RESERVED_PREFIX = "runyard-"


@dataclass(frozen=True)
class Framework:
    """One framework's curated versions: version -> pip requirements (newest last)."""

    name: str
    versions: dict[str, list[str]]
    pip_options: list[str] = field(default_factory=list)

    @property
    def default_version(self) -> str:
        return list(self.versions)[-1]


FRAMEWORKS: dict[str, Framework] = {
    "sklearn": Framework("sklearn", {
        "1.7": ["scikit-learn==1.7.*", "joblib>=1.2"],
        "1.8": ["scikit-learn==1.8.*", "joblib>=1.2"],
        "1.9": ["scikit-learn==1.9.*", "joblib>=1.2"],
    }),
    # The CPU build: uv takes it from UV_FIND_LINKS (a folder of wheels) or UV_EXTRA_INDEX_URL
    # (e.g. https://download.pytorch.org/whl/cpu) when set; PyPI's own wheel of this version
    # pulls CUDA libraries.
    "pytorch": Framework("pytorch", {
        "2.13": ["torch==2.13.0", "numpy>=1.26"],
    }),
    "tensorflow": Framework("tensorflow", {
        "2.20": ["tensorflow-cpu==2.20.*"],
        "2.21": ["tensorflow-cpu==2.21.*"],
    }),
    # Ray RLlib with torch (the CPU build, as for pytorch) and gymnasium's environments.
    "rllib": Framework("rllib", {
        "2.60": ["ray[rllib]==2.60.0", "torch==2.13.0", "gymnasium"],
    }),
    # Chainer's last release is a source package whose setup.py imports pkg_resources, which
    # the newest setuptools (what an isolated build gets) no longer has: it builds against the
    # environment's own setuptools<70, and runs with numpy<2. mpi4py is for ChainerMN; it
    # needs an MPI library (Open MPI, MPICH) at run time.
    "chainer": Framework("chainer", {
        "7.8": ["chainer==7.8.1", "numpy<2", "setuptools<70", "mpi4py>=3.1"],
    }, pip_options=["--no-build-isolation"]),
}


def environment_name(framework: str, version: str) -> str:
    return f"{RESERVED_PREFIX}{framework}-{version}-cpu"


def resolve_version(framework: str, version: str | None, option: str = "framework_version") -> str:
    """The curated version for ``version`` (None: the newest); a clear error lists the supported ones."""
    known = FRAMEWORKS[framework]
    if version is None:
        return known.default_version
    text = str(version)
    if text in known.versions:
        return text
    matches = [v for v in known.versions if text.startswith(v + ".")]  # "1.9.1" -> "1.9"
    if matches:
        return matches[-1]
    raise ConfigError(f"{option} {text!r} is not supported for {framework}; supported: "
                      f"{', '.join(known.versions)} (or pass environment_definition= with your own)")


def curated_environment(framework: str, version: str | None = None) -> Environment:
    version = resolve_version(framework, version)
    known = FRAMEWORKS[framework]
    environment = Environment(environment_name(framework, version))
    environment.python.conda_dependencies = CondaDependencies(
        pip_packages=list(known.versions[version]), pip_options=list(known.pip_options))
    return environment


def all_curated() -> list[Environment]:
    return [curated_environment(name, version) for name, known in FRAMEWORKS.items() for version in known.versions]
