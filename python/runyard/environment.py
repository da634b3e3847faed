"""``Environment``: what a run needs installed, as a spec with a canonical hash.

The spec follows Azure ML SDK v1 (``env.python.conda_dependencies``,
``env.docker.base_image``, ``env.r.cran_packages``...). Each compute target
materialises it once per hash: the local target as a uv virtualenv, Docker as
an image. The hash covers what gets built — Python, packages, Docker and R
sections, and the bytes of local wheels and folders the requirements name —
not the name, version or environment variables.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from . import _yaml
from .errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from .workspace import Workspace

ENV_FILE_NAME = "runyard_environment.yaml"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")

# conda packages whose PyPI distribution has another (or the same) name; a conda
# package outside this table has no known PyPI equivalent and is refused.
CONDA_TO_PYPI = {
    "numpy": "numpy", "pandas": "pandas", "scipy": "scipy", "scikit-learn": "scikit-learn",
    "matplotlib": "matplotlib", "matplotlib-base": "matplotlib", "seaborn": "seaborn",
    "pytorch": "torch", "torchvision": "torchvision", "torchaudio": "torchaudio",
    "tensorflow": "tensorflow", "keras": "keras", "xgboost": "xgboost", "py-xgboost": "xgboost",
    "lightgbm": "lightgbm", "catboost": "catboost", "statsmodels": "statsmodels", "joblib": "joblib",
    "requests": "requests", "pyyaml": "pyyaml", "pillow": "pillow", "h5py": "h5py", "tqdm": "tqdm",
    "numba": "numba", "pyarrow": "pyarrow", "sympy": "sympy", "networkx": "networkx",
    "plotly": "plotly", "pydantic": "pydantic", "click": "click", "flask": "flask",
    "scikit-image": "scikit-image", "opencv": "opencv-python", "py-opencv": "opencv-python",
    "nltk": "nltk", "ipykernel": "ipykernel", "pytest": "pytest", "chainer": "chainer",
    "mpi4py": "mpi4py", "onnx": "onnx", "onnxruntime": "onnxruntime", "polars": "polars",
    "setuptools": "setuptools", "wheel": "wheel", "cloudpickle": "cloudpickle",
}
_CONDA_IGNORED = {"pip", "python"}
#: the oldest Python runyard's client runs on (pyproject.toml's requires-python): a pin below it
#: (Azure's curated environments pinned 3.6 and 3.7) cannot be had, and is built with the nearest
#: Python there is, with a warning
OLDEST_PYTHON = (3, 10)
_NO_BUILD_ISOLATION = "--no-build-isolation"
# What a source package with no pyproject.toml builds with (PEP 518's default build system).
_DEFAULT_BUILD_SYSTEM = ("setuptools", "wheel")
# Set while a file is validated: Environment.__init__ then lets pydantic's error through,
# so the reader can point at the file's line (pydantic would wrap a ConfigError raised
# inside validation into a location-less "Value error").
_RAW_VALIDATION_ERRORS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "runyard_raw_validation_errors", default=False)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CondaDependencies(_Model):
    """Python version and packages, named as in Azure ML SDK v1. runyard installs them from
    PyPI (conda packages by their PyPI names, ``CONDA_TO_PYPI``), so ``channels`` (kept as a
    conda file lists them) choose nothing; ``pip_options`` reach every install.
    """

    python_version: str | None = None
    pip_packages: list[str] = Field(default_factory=list)
    conda_packages: list[str] = Field(default_factory=list)
    pip_options: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)

    @classmethod
    def create(cls, conda_packages: list[str] | None = None, pip_packages: list[str] | None = None,
               python_version: str | None = None, pip_indexurl: str | None = None) -> "CondaDependencies":
        """Build dependencies in one call.

        >>> CondaDependencies.create(pip_packages=["scikit-learn"], python_version="3.11").pip_packages
        ['scikit-learn']
        """
        options = [f"--index-url={pip_indexurl}"] if pip_indexurl else []
        return cls(conda_packages=conda_packages or [], pip_packages=pip_packages or [],
                   python_version=python_version, pip_options=options)

    def add_pip_package(self, pip_package: str) -> None:
        if pip_package not in self.pip_packages:
            self.pip_packages = [*self.pip_packages, pip_package]

    def add_conda_package(self, conda_package: str) -> None:
        if conda_package not in self.conda_packages:
            self.conda_packages = [*self.conda_packages, conda_package]

    def set_python_version(self, version: str) -> None:
        self.python_version = version

    def requirements(self) -> list[str]:
        """Every package as a pip requirement: conda ones translated, unknown ones refused,
        Microsoft's ``azureml-*`` ones replaced by what runyard's layer needs (``azureml_packages``)."""
        from .azureml_packages import replace_microsoft_packages
        return replace_microsoft_packages(
            [*(conda_to_pip(p) for p in self.conda_packages if _conda_name(p) not in _CONDA_IGNORED),
             *self.pip_packages])

    def replacement_note(self) -> str | None:
        """The build log's line on Microsoft's packages replaced in ``requirements()``, or None."""
        from .azureml_packages import replacement_note
        return replacement_note(self.pip_packages)

    def install_steps(self) -> list[list[str]]:
        """The requirements as the installs that bring them in, in order. With build isolation
        off (``--no-build-isolation`` in pip_options) a source package builds against what the
        environment already holds, so a first install brings the build system a package
        without pyproject.toml gets (setuptools and wheel), pinned as the requirements pin it.

        >>> deps = CondaDependencies(pip_packages=["chainer", "setuptools<70"], pip_options=["--no-build-isolation"])
        >>> deps.install_steps()
        [['setuptools<70', 'wheel'], ['chainer', 'setuptools<70']]
        """
        requirements = self.requirements()
        if _NO_BUILD_ISOLATION not in " ".join(self.pip_options).split():
            return [requirements] if requirements else []
        pinned = {_conda_name(r): r for r in requirements if _conda_name(r) in _DEFAULT_BUILD_SYSTEM}
        return [[pinned.get(name, name) for name in _DEFAULT_BUILD_SYSTEM], requirements]


class PythonSection(_Model):
    user_managed_dependencies: bool = False
    interpreter_path: str | None = None
    conda_dependencies: CondaDependencies = Field(default_factory=CondaDependencies)


class ContainerRegistry(_Model):
    """Where a private base image is pulled from (Azure's ``ContainerRegistry``): the Docker
    target pulls ``address/base_image`` with these credentials, and logs in for a
    ``base_dockerfile``'s ``FROM``. The credentials are stored with the environment and the
    run's definition (as Azure ML stored them) but take no part in its hash.

    >>> env = Environment("private")
    >>> env.docker.base_image_registry.address = "registry.example.com:5000"
    """

    address: str | None = None
    username: str | None = None
    password: str | None = None

    def is_empty(self) -> bool:
        return self.address is None and self.username is None


class DockerSection(_Model):
    """The image and container of a run on a target that runs containers (the Docker target,
    and a Ray target with ``use_image``); a target that runs jobs as processes uses none of it
    and refuses ``enabled=True``."""

    enabled: bool = False
    base_image: str | None = None
    base_dockerfile: str | None = None
    base_image_registry: ContainerRegistry = Field(default_factory=ContainerRegistry)
    extra_steps: list[str] = Field(default_factory=list)
    shm_size: str | None = None
    #: extra ``docker run`` options (``runyard.compute.docker_arguments`` says which)
    arguments: list[str] = Field(default_factory=list)

    @pydantic.field_validator("base_image_registry", mode="before")
    @classmethod
    def _registry(cls, value: Any) -> Any:
        return ContainerRegistry() if value is None else value

    @pydantic.field_serializer("base_image_registry")
    def _registry_out(self, registry: ContainerRegistry) -> dict[str, Any] | None:
        return None if registry.is_empty() else registry.model_dump()


class CranPackage(_Model):
    name: str
    version: str | None = None
    repo: str | None = None


class GitHubPackage(_Model):
    """An R package from GitHub (``owner/repo[@ref]``); ``auth_token`` reads a private one
    (given to the install as ``GITHUB_PAT``; stored, but no part of the environment's hash)."""

    repository: str
    auth_token: str | None = None


#: the CRAN snapshot of a day, by Posit Package Manager (MRAN, which Azure ML used, is gone)
SNAPSHOT_REPO = "https://packagemanager.posit.co/cran/{date}"


class RSection(_Model):
    r_version: str | None = None
    user_managed: bool = False
    rscript_path: str | None = None
    #: CRAN as it was on this day (YYYY-MM-DD): CRAN packages come from that snapshot
    #: (``SNAPSHOT_REPO``), in place of ``repos``; it needs that address to be reachable
    snapshot_date: str | None = None
    repos: list[str] = Field(default_factory=list)
    cran_packages: list[CranPackage] = Field(default_factory=list)
    github_packages: list[GitHubPackage] = Field(default_factory=list)
    custom_url_packages: list[str] = Field(default_factory=list)
    bioconductor_packages: list[str] = Field(default_factory=list)

    @pydantic.field_validator("snapshot_date")
    @classmethod
    def _snapshot_date(cls, value: str | None) -> str | None:
        import datetime
        if value is None:
            return None
        try:
            day = datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            day = None
        if day is None or len(value) != 10:
            raise ValueError(f"use a date like '2024-01-15', got {value!r}")
        if day > datetime.date.today():
            raise ValueError(f"{value} is in the future: CRAN has no snapshot of it yet")
        return value

    def package_repos(self) -> list[str]:
        """Where CRAN packages without a ``repo`` of their own come from."""
        if self.snapshot_date:
            return [SNAPSHOT_REPO.format(date=self.snapshot_date)]
        return list(self.repos)


class Environment(_Model):
    """A named, versioned description of what a run needs.

    >>> env = Environment("sklearn")
    >>> env.python.conda_dependencies = CondaDependencies.create(pip_packages=["scikit-learn"])
    >>> len(env.hash)
    64
    """

    name: str
    version: str | None = None
    python: PythonSection = Field(default_factory=PythonSection)
    docker: DockerSection = Field(default_factory=DockerSection)
    r: RSection | None = None
    environment_variables: dict[str, str] = Field(default_factory=dict)

    def __init__(self, name: str | None = None, /, **data: Any):
        if name is not None:
            data["name"] = name
        try:
            super().__init__(**data)
        except pydantic.ValidationError as e:
            if _RAW_VALIDATION_ERRORS.get():
                raise
            raise ConfigError(_yaml.validation_message(e, f"Environment {data.get('name')!r}")) from e

    @pydantic.field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("an environment name is 1-255 letters, digits, '.', '_' or '-', "
                             "starting with a letter or digit")
        return value

    @pydantic.field_validator("environment_variables", mode="before")
    @classmethod
    def _stringify_variables(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): ("" if v is None else str(v)) for k, v in value.items()}
        return value

    # -- identity ------------------------------------------------------------
    def build_spec(self) -> dict[str, Any]:
        """The part of the spec that decides what gets built (credentials left out)."""
        return without_secrets(self.model_dump(mode="json", exclude={"name", "version", "environment_variables"}))

    @property
    def hash(self) -> str:
        """sha256 of the build spec and of the bytes of every local file or folder a pip
        requirement points at (a changed wheel or ``./pkg`` gives a new environment)."""
        spec = self.build_spec()
        local = {path: _path_digest(Path(path), editable) for path, editable in
                 _local_requirement_paths(self.python.conda_dependencies.pip_packages)}
        if local:  # absent otherwise, so hashes of environments without local paths stay as they were
            spec["local_files"] = local
        canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def validate_for_build(self) -> None:
        """Raise ``ConfigError`` for what no target could build, before any work starts."""
        self.python.conda_dependencies.requirements()
        for i, requirement in enumerate(self.python.conda_dependencies.pip_packages):
            problem = requirement_problem(requirement)
            if problem:
                raise ConfigError(f"Environment {self.name!r}: python.conda_dependencies.pip_packages[{i}] "
                                  f"{requirement!r} {problem}")
        if self.python.user_managed_dependencies and self.python.interpreter_path:
            path = Path(self.python.interpreter_path)
            if not (path.is_file() or shutil.which(str(path))):
                raise ConfigError(
                    f"Environment {self.name!r}: python.interpreter_path {str(path)!r} does not exist")
        version = self.python.conda_dependencies.python_version
        if version is not None and not re.match(r"^\d+(\.\d+){0,2}$", version):
            raise ConfigError(f"Environment {self.name!r}: python_version {version!r} is not like '3.11'")
        deps = self.python.conda_dependencies
        if self.python.user_managed_dependencies and (deps.pip_packages or deps.conda_packages):
            raise ConfigError(f"Environment {self.name!r}: python.user_managed_dependencies=True uses an interpreter as "
                              f"it is and installs nothing, so its pip_packages/conda_packages would be ignored; "
                              f"remove them, or set user_managed_dependencies=False to have them installed")
        registry = self.docker.base_image_registry
        if (registry.username is None) != (registry.password is None) or (registry.username and not registry.address):
            raise ConfigError(f"Environment {self.name!r}: docker.base_image_registry needs an address, and both "
                              f"username and password or neither")
        if registry.address and not (self.docker.base_image or self.docker.base_dockerfile):
            raise ConfigError(f"Environment {self.name!r}: docker.base_image_registry names {registry.address}, but "
                              f"no docker.base_image (or base_dockerfile) comes from it; name the image")
        from .compute.docker_arguments import container_options
        options = container_options(self.docker.arguments, f"Environment {self.name!r}: docker.arguments")
        if "shm_size" in options and self.docker.shm_size and options["shm_size"] != self.docker.shm_size:
            raise ConfigError(f"Environment {self.name!r}: docker.arguments gives --shm-size {options['shm_size']} "
                              f"and docker.shm_size is {self.docker.shm_size}; give one")

    # -- constructors --------------------------------------------------------
    @classmethod
    def from_conda_specification(cls, name: str, file_path: str | Path) -> "Environment":
        """An environment from a conda YAML: its python version and pip section are used.

        >>> Environment.from_conda_specification("train", "environment.yml")  # doctest: +SKIP
        """
        return cls(name, python=PythonSection(conda_dependencies=_read_conda_file(Path(file_path))))

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str | Path) -> "Environment":
        """An environment from a requirements.txt (``-r`` includes and index options honoured).

        >>> Environment.from_pip_requirements("train", "requirements.txt")  # doctest: +SKIP
        """
        packages, options = _read_requirements(Path(file_path))
        deps = CondaDependencies(pip_packages=packages, pip_options=options)
        return cls(name, python=PythonSection(conda_dependencies=deps))

    @classmethod
    def from_existing_conda_environment(cls, name: str, conda_environment_name: str) -> "Environment":
        """Use an existing conda environment's interpreter as it is (user-managed)."""
        conda = shutil.which("conda") or shutil.which("mamba")
        if not conda:
            raise ConfigError(
                f"conda_environment_name {conda_environment_name!r}: no conda or mamba on PATH. Point "
                f"python.interpreter_path at that environment's python with user_managed_dependencies=True.")
        proc = subprocess.run([conda, "run", "-n", conda_environment_name, "python", "-c",
                               "import sys; print(sys.executable)"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise ConfigError(f"conda environment {conda_environment_name!r} not found: {proc.stderr.strip()}")
        return cls(name, python=PythonSection(user_managed_dependencies=True,
                                              interpreter_path=proc.stdout.strip().splitlines()[-1]))

    @classmethod
    def from_file(cls, file_path: str | Path, name: str | None = None) -> "Environment":
        """An environment from a file: runyard/Azure CLI v2 YAML, conda YAML or requirements.txt."""
        path = Path(file_path)
        default_name = name or re.sub(r"[^A-Za-z0-9._-]", "-", path.stem) or "environment"
        if path.suffix == ".txt":
            return cls.from_pip_requirements(default_name, path)
        doc = _yaml.load(path, what="environment file")
        if not isinstance(doc.data, dict):
            raise doc.error([], "an environment file must be a YAML mapping")
        if "dependencies" in doc.data:
            env = cls.from_conda_specification(doc.data.get("name") or default_name, path)
            return env if name is None else env.clone(name)
        return _from_env_yaml(doc, name or doc.data.get("name") or default_name)

    # -- copies and files ----------------------------------------------------
    def clone(self, new_name: str) -> "Environment":
        data = self.model_dump(exclude={"name", "version"})
        return Environment(new_name, **data)

    def save_to_directory(self, path: str | Path, overwrite: bool = False) -> Path:
        folder = Path(path)
        target = folder / ENV_FILE_NAME
        if target.exists() and not overwrite:
            raise ConfigError(f"{target} exists; pass overwrite=True to replace it")
        folder.mkdir(parents=True, exist_ok=True)
        import yaml
        target.write_text(yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False))
        return target

    @classmethod
    def load_from_directory(cls, path: str | Path) -> "Environment":
        target = Path(path) / ENV_FILE_NAME
        if not target.is_file():
            raise ConfigError(f"{path!s} holds no {ENV_FILE_NAME} (written by save_to_directory)")
        return cls.from_file(target)

    # -- workspace registry --------------------------------------------------
    def register(self, workspace: "Workspace") -> "Environment":
        """Store this spec in the workspace; a changed spec gets the next version.

        >>> Environment("sklearn").register(ws).version  # doctest: +SKIP
        '1'
        """
        from .workspace import check_workspace
        check_workspace(workspace)
        self.validate_for_build()
        version = workspace._store.register_environment(
            self.name, self.hash, self.model_dump(mode="json", exclude={"version"}))
        self.version = str(version)
        return self

    @staticmethod
    def get(workspace: "Workspace", name: str, version: str | int | None = None) -> "Environment":
        """A registered environment, the latest version unless ``version`` is given; Azure's
        curated names (``AzureML-Minimal``, ``AzureML-sklearn-1.5``...) when none is registered
        under the name (``runyard.azure_curated``)."""
        from .workspace import check_workspace
        check_workspace(workspace)
        int_version = None
        if version is not None:
            whole = (isinstance(version, int) or isinstance(version, float) and version.is_integer()
                     or isinstance(version, str) and version.strip().isdigit())
            if not whole or isinstance(version, bool):
                raise ConfigError(f"environment version {version!r} must be a whole number")
            int_version = int(version)
        row = workspace._store.get_environment(name, int_version)
        if row is None:
            from .azure_curated import EXAMPLES, azure_curated_environment
            curated = azure_curated_environment(name) if version is None else None
            if curated is not None:  # Azure's curated names, unless one is registered under the name
                return curated
            known = sorted({r["name"] for r in workspace._store.list_environments()})
            what = f"environment {name!r}" + (f" version {version}" if version is not None else "")
            raise NotFoundError(f"{what} is not registered in workspace {workspace.name!r}; "
                                f"registered: {', '.join(known) or 'none'}; Azure's curated names such as "
                                f"{', '.join(EXAMPLES[:3])} are known too (without a version)")
        return Environment(**{**row["spec"], "name": row["name"], "version": str(row["version"])})

    @staticmethod
    def list(workspace: "Workspace") -> dict[str, "Environment"]:
        latest: dict[str, dict] = {}
        for row in workspace._store.list_environments():
            latest[row["name"]] = row
        return {n: Environment(**{**r["spec"], "name": n, "version": str(r["version"])})
                for n, r in latest.items()}


def python_pin_below_supported(version: str | None) -> bool:
    """Whether ``python_version`` pins a Python older than runyard runs on (``OLDEST_PYTHON``).

    >>> python_pin_below_supported("3.6"), python_pin_below_supported("3.11"), python_pin_below_supported(None)
    (True, False, False)
    """
    if not version:
        return False
    parts = tuple(int(p) for p in version.split(".")[:2])
    return parts < OLDEST_PYTHON[:len(parts)] if len(parts) == 2 else parts[0] < OLDEST_PYTHON[0]


def python_pin_warning(version: str, used: str) -> str:
    """The build log's warning for a pin that cannot be had, built with ``used`` instead."""
    oldest = ".".join(map(str, OLDEST_PYTHON))
    why = (f"runyard runs on Python {oldest} or newer" if python_pin_below_supported(version)
           else "no such Python is installed")
    return (f"Warning: the environment pins Python {version}, which cannot be had here ({why}); building with "
            f"{used}, the nearest available. Pin the Python it is built with to silence this.\n")


def without_secrets(spec: dict[str, Any]) -> dict[str, Any]:
    """An environment's (build) spec without the credentials it holds: a registry's username
    and password, GitHub tokens. What is built from it does not depend on them."""
    spec = json.loads(json.dumps(spec))
    registry = (spec.get("docker") or {}).get("base_image_registry")
    if registry:
        registry.update(username=None, password=None)
    for package in (spec.get("r") or {}).get("github_packages") or []:
        package["auth_token"] = None
    return spec


# -- file readers ------------------------------------------------------------
def _conda_name(spec: str) -> str:
    spec = spec.split("::", 1)[-1]
    return re.split(r"[=<>!~ \[]", spec, maxsplit=1)[0].strip().lower()


def conda_to_pip(spec: str) -> str:
    """``numpy=1.26`` -> ``numpy==1.26.*``; refuse packages with no PyPI equivalent."""
    name = _conda_name(spec)
    pypi = CONDA_TO_PYPI.get(name)
    if pypi is None:
        raise ConfigError(
            f"conda package {spec!r} has no PyPI equivalent runyard knows. runyard builds "
            f"environments from PyPI with uv: list a PyPI package under the 'pip:' section instead, "
            f"or use a Docker base image that ships it.")
    rest = spec.split("::", 1)[-1].strip()[len(name):].strip()
    if rest.startswith("=") and not rest.startswith("=="):
        version = rest[1:].split("=", 1)[0]  # drop a build string: =1.26.4=py311h...
        return f"{pypi}=={version}" + ("" if "*" in version or version.count(".") >= 2 else ".*")
    return f"{pypi}{rest}"


def _read_conda_file(path: Path) -> CondaDependencies:
    doc = _yaml.load(path, what="conda specification")
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise doc.error(["dependencies"], "a conda specification needs a 'dependencies:' list")
    python_version, conda, pip = None, [], []
    for i, dep in enumerate(data["dependencies"]):
        if isinstance(dep, dict):
            if set(dep) != {"pip"} or not isinstance(dep["pip"], list):
                raise doc.error(["dependencies", i], "only a 'pip:' list may appear as a mapping")
            for j, requirement in enumerate(dep["pip"]):
                problem = requirement_problem(str(requirement))
                if problem:
                    raise doc.error(["dependencies", i, "pip", j], f"{str(requirement)!r} {problem}")
                pip.append(str(requirement))
        elif isinstance(dep, str):
            name = _conda_name(dep)
            if name == "python":
                match = re.search(r"(\d+(?:\.\d+){0,2})", dep)
                python_version = match.group(1) if match else None
            elif name != "pip":
                try:
                    conda_to_pip(dep)
                except ConfigError as e:
                    raise doc.error(["dependencies", i], str(e)) from None
                conda.append(dep)
        else:
            raise doc.error(["dependencies", i], f"expected a package name, got {dep!r}")
    return CondaDependencies(python_version=python_version, conda_packages=conda, pip_packages=pip,
                             channels=[str(c) for c in data.get("channels") or []])


_OPTION_PREFIXES = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--no-index")
_LOCAL_PREFIXES = ("./", "../", "/", "~/")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".zip")
# What an editable install reads at build time; its other files are used live, so editing
# them needs no new environment.
_EDITABLE_BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
# Left out of a local requirement's digest: building a source folder writes build/ and
# *.egg-info into it, and a project folder (``.``) holds caches, virtualenvs and the
# workspace; none of them may make the next submit a new environment.
_UNHASHED_DIRS = {"__pycache__", ".git", "build", "dist", ".eggs", ".runyard", ".venv", ".pytest_cache"}


def requirement_problem(requirement: str) -> str | None:
    """Why ``requirement`` is no pip requirement, or None when it is one: a name with optional
    extras, version and markers, a URL, a local path, or a pip option (``-e``, ``--pre``...).

    >>> requirement_problem("six==1.16.0") is None, requirement_problem("six>=>1") is None
    (True, False)
    """
    text = requirement.strip()
    if text.startswith(("-", *_LOCAL_PREFIXES)) or text in (".", "..") or "://" in text \
            or text.startswith("git+") or text.lower().endswith(_ARCHIVE_SUFFIXES):
        return None
    from packaging.requirements import InvalidRequirement, Requirement
    try:
        Requirement(text.split(" --", 1)[0])  # per-requirement options, e.g. --hash=sha256:...
    except InvalidRequirement as e:
        return (f"is not a pip requirement ({str(e).splitlines()[0]}); expected a name with an "
                f"optional version such as 'six==1.16.0', a URL or a local path")
    from . import azureml_packages
    return azureml_packages.requirement_problem(text)


def _read_requirements(path: Path, seen: set[Path] | None = None) -> tuple[list[str], list[str]]:
    if not path.is_file():
        raise ConfigError(f"requirements file {str(path)!r} does not exist")
    seen = seen or set()
    if path.resolve() in seen:
        return [], []
    seen.add(path.resolve())
    packages, options = [], []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement")):
            include = line.split(None, 1)[1] if " " in line else line.split("=", 1)[1]
            more, more_options = _read_requirements(path.parent / include.strip(), seen)
            packages += more
            options += more_options
        elif line.startswith(_OPTION_PREFIXES):
            options.append(line)
        elif line.startswith(("-e ", "--editable ")):
            target = line.split(None, 1)[1].strip()
            local = path.parent / target
            if target.startswith(_LOCAL_PREFIXES) and not local.exists():
                raise ConfigError(f"{path}: line {number}: {target!r} does not exist (relative to {path.parent})")
            packages.append(f"-e {local.resolve()}" if local.exists() else line)
        elif line.startswith(("./", "../")) or line in (".", ".."):
            if not (path.parent / line).exists():
                raise ConfigError(f"{path}: line {number}: {line!r} does not exist (relative to {path.parent})")
            packages.append(str((path.parent / line).resolve()))
        else:
            problem = requirement_problem(line)
            if problem:
                raise ConfigError(f"{path}: line {number}: {line!r} {problem}")
            packages.append(line)
    return packages, options


def _local_requirement_paths(requirements: list[str]) -> list[tuple[str, bool]]:
    """(path, editable) for each requirement that is an existing local file or folder."""
    found = []
    for requirement in requirements:
        text, editable = requirement.strip(), False
        for prefix in ("-e ", "--editable "):
            if text.startswith(prefix):
                text, editable = text[len(prefix):].strip(), True
        if " @ " in text:
            text = text.split(" @ ", 1)[1].strip()
        if text.startswith("file://"):
            text = urllib.parse.unquote(urllib.parse.urlparse(text).path)
        text = text.split(";", 1)[0].strip()
        if text.startswith(_LOCAL_PREFIXES) and Path(text).expanduser().exists():
            found.append((text, editable))
    return found


def _path_digest(path: Path, editable: bool = False) -> str:
    """sha256 of a file's bytes, or of a folder's file names and bytes (build output and
    caches left out; for an editable install only the files its build reads)."""
    path = path.expanduser()
    if path.is_file():
        files = [(path.name, path)]
    elif editable:
        files = [(name, path / name) for name in _EDITABLE_BUILD_FILES if (path / name).is_file()]
    else:
        files = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d not in _UNHASHED_DIRS and not d.endswith(".egg-info"))
            files += [(Path(dirpath, f).relative_to(path).as_posix(), Path(dirpath, f))
                      for f in filenames if not f.endswith(".pyc")]
        files.sort()
    digest = hashlib.sha256()
    for rel, file in files:
        digest.update(rel.encode() + b"\0")
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def _from_env_yaml(doc: _yaml.YamlDocument, name: str, data: dict[str, Any] | None = None,
                   prefix: tuple[Any, ...] = ()) -> Environment:
    """runyard's own YAML (Environment fields) plus Azure ML CLI v2's ``image``/``conda_file``.

    ``data``/``prefix`` select a mapping nested in ``doc`` (a job file's inline environment).
    """
    data = dict(doc.data if data is None else data)
    data["name"] = name
    base = doc.path.parent
    python = dict(data.pop("python", None) or {})
    try:
        if "conda_file" in data:
            python["conda_dependencies"] = _read_conda_file(base / str(data.pop("conda_file"))).model_dump()
        if "requirements_file" in data:
            packages, options = _read_requirements(base / str(data.pop("requirements_file")))
            deps = dict(python.get("conda_dependencies") or {})
            deps["pip_packages"] = [*deps.get("pip_packages", []), *packages]
            deps["pip_options"] = [*deps.get("pip_options", []), *options]
            python["conda_dependencies"] = deps
    except ConfigError as e:
        raise doc.error(prefix, str(e)) from None
    if "image" in data:
        docker = dict(data.get("docker") or {})
        docker.update(enabled=True, base_image=str(data.pop("image")))
        data["docker"] = docker
    for ignored in ("$schema", "description"):
        data.pop(ignored, None)
    if python:
        data["python"] = python
    if data.get("version") is not None:
        data["version"] = str(data["version"])
    token = _RAW_VALIDATION_ERRORS.set(True)
    try:
        env = Environment.model_validate(data)
    except pydantic.ValidationError as e:
        raise doc.validation_error(e, prefix) from e
    finally:
        _RAW_VALIDATION_ERRORS.reset(token)
    for i, requirement in enumerate(env.python.conda_dependencies.pip_packages):
        problem = requirement_problem(requirement)
        if problem:  # the file's own pip_packages come first, so i is their index there
            raise doc.error((*prefix, "python", "conda_dependencies", "pip_packages", i), f"{requirement!r} {problem}")
    try:
        env.validate_for_build()
    except ConfigError as e:
        raise doc.error(prefix, str(e)) from None
    return env
