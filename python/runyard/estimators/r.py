"""``REstimator``: an R training script run with ``Rscript``, its packages in an R library
built once per environment (the R side of Azure's ``estimator()``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..environment import CranPackage, Environment, GitHubPackage, RSection
from ..errors import ConfigError
from .base import Estimator


class REstimator(Estimator):
    """Train ``entry_script`` (an ``.R`` file) with Rscript. Packages come from
    ``cran_packages`` (names or ``CranPackage``), ``github_packages`` and
    ``custom_url_packages``, or an ``environment_definition`` with an ``r`` section.

    >>> REstimator("src", entry_script="train.R", cran_packages=["glmnet"])  # doctest: +SKIP
    """

    distributable = False

    def __init__(self, source_directory: str | Path, compute_target: Any = None, entry_script: str | None = None,
                 script_params: dict[str, Any] | None = None, cran_packages: list[Any] | None = None,
                 github_packages: list[Any] | None = None, custom_url_packages: list[str] | None = None,
                 bioconductor_packages: list[str] | None = None, environment_definition: Environment | None = None,
                 custom_docker_image: str | None = None, r_version: str | None = None,
                 rscript_path: str | None = None, max_run_duration_seconds: int | None = None, *,
                 repos: list[str] | None = None, arguments: list[Any] | None = None,
                 environment_variables: dict[str, str] | None = None, max_retries: int = 0,
                 shm_size: str | None = None, use_gpu: bool = False, node_count: int = 1,
                 process_count_per_node: int = 1):
        if entry_script and not str(entry_script).lower().endswith(".r"):
            raise ConfigError(f"REstimator: entry_script {entry_script!r} is not an R script (.R)")
        packages = [cran_packages, github_packages, custom_url_packages, bioconductor_packages]
        if environment_definition is not None:
            if any(packages) or r_version or rscript_path:
                raise ConfigError("REstimator: environment_definition replaces cran_packages, github_packages, "
                                  "custom_url_packages, bioconductor_packages, r_version and rscript_path")
            if environment_definition.r is None:
                raise ConfigError(f"REstimator: environment_definition {environment_definition.name!r} has no "
                                  f"R section; make it with r_environment() / Environment(r=...)")
            environment = environment_definition
        else:
            environment = Environment("r-estimator", r=RSection(
                r_version=r_version, rscript_path=rscript_path, repos=list(repos or []),
                cran_packages=[_cran(p) for p in cran_packages or []],
                github_packages=[p if isinstance(p, GitHubPackage) else GitHubPackage(repository=str(p))
                                 for p in github_packages or []],
                custom_url_packages=list(custom_url_packages or []),
                bioconductor_packages=list(bioconductor_packages or [])))
        super().__init__(source_directory, compute_target=compute_target, entry_script=entry_script,
                         script_params=script_params, environment_definition=environment,
                         custom_docker_image=None, shm_size=None,
                         max_run_duration_seconds=max_run_duration_seconds, arguments=arguments,
                         environment_variables=environment_variables, max_retries=max_retries,
                         use_gpu=use_gpu, node_count=node_count, process_count_per_node=process_count_per_node)
        if custom_docker_image or shm_size:
            self.environment = self.environment.model_copy(deep=True)
            if custom_docker_image:
                self.environment.docker.enabled = True
                self.environment.docker.base_image = custom_docker_image
            if shm_size:
                self.environment.docker.shm_size = shm_size


def _cran(package: Any) -> CranPackage:
    if isinstance(package, CranPackage):
        return package
    if isinstance(package, dict):
        return CranPackage(**package)
    if isinstance(package, str) and package:
        return CranPackage(name=package)
    raise ConfigError(f"REstimator: cran_packages holds {package!r}; give package names or CranPackage")
