"""R packages of an environment on the local machine: one R library per R section hash.

Packages the R installation already has are used as they are; the missing
ones are installed from the environment's repositories into a library built
in a temporary folder and renamed into place, under a file lock. A package
that cannot be installed fails the build with its name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TextIO

from filelock import FileLock

from ..environment import Environment
from ..errors import EnvironmentBuildError
from .local_env import _stream, building_into, cache_root

READY_MARKER = "runyard-r-library.json"

INSTALL_SCRIPT = r"""
spec <- jsonlite::fromJSON(Sys.getenv("RUNYARD_R_SPEC"), simplifyVector = FALSE)
for (field in c("repos", "urls", "github", "bioconductor")) spec[[field]] <- unlist(spec[[field]])
wanted <- if (is.null(spec$r_version)) "" else spec$r_version
running <- paste(R.version$major, R.version$minor, sep = ".")
if (nzchar(wanted) && running != wanted && !startsWith(running, paste0(wanted, "."))) {
  cat("runyard: the environment asks for R ", wanted, " and this R is ", running,
      "; choose a base image with R ", wanted, " (or leave r_version unset)\n", sep = "")
  quit(status = 4)
}
if (identical(spec$install, FALSE)) quit(status = 0)  # r.user_managed: the packages are the image's own
lib <- spec$lib
dir.create(lib, recursive = TRUE, showWarnings = FALSE)
.libPaths(c(lib, .libPaths()))
repos <- if (length(spec$repos)) spec$repos else getOption("repos")
cat("R", R.version$major, ".", R.version$minor, " library ", lib, "\n", sep = "")
cat("repositories: ", paste(repos, collapse = ", "), "\n", sep = "")
have <- function(name, version) {
  ok <- suppressWarnings(requireNamespace(name, quietly = TRUE))
  if (ok && nzchar(version)) ok <- as.character(utils::packageVersion(name)) == version
  ok
}
failed <- character()
for (p in spec$cran) {
  if (have(p$name, p$version)) { cat("have ", p$name, "\n", sep = ""); next }
  cat("installing ", p$name, if (nzchar(p$version)) paste0(" ", p$version), "\n", sep = "")
  r <- if (nzchar(p$repo)) p$repo else repos
  # A warning (an unreadable repository, a package one repository lacks) is logged and the
  # install goes on: whether the package ended up installed is checked just below.
  tryCatch(withCallingHandlers(utils::install.packages(p$name, lib = lib, repos = r, quiet = FALSE),
                               warning = function(w) {
                                 message("warning: ", conditionMessage(w))
                                 invokeRestart("muffleWarning")
                               }),
           error = function(e) message("error: ", conditionMessage(e)))
  if (!have(p$name, p$version)) failed <- c(failed, p$name)
}
for (url in spec$urls) {
  cat("installing ", url, "\n", sep = "")
  tryCatch(utils::install.packages(url, lib = lib, repos = NULL, type = "source"),
           error = function(e) message("error: ", conditionMessage(e)))
  name <- sub("_.*$", "", basename(url))
  if (!have(name, "")) failed <- c(failed, name)
}
for (i in seq_along(spec$github)) {
  g <- spec$github[[i]]
  if (!requireNamespace("remotes", quietly = TRUE)) { failed <- c(failed, paste0(g, " (needs the remotes package)")); next }
  # a private repository's token comes in a variable of the install's own, never in a file
  token <- Sys.getenv(paste0("RUNYARD_GITHUB_TOKEN_", i))
  install <- list(g, lib = lib)
  if (nzchar(token)) install$auth_token <- token
  tryCatch(do.call(remotes::install_github, install), error = function(e) message("error: ", conditionMessage(e)))
  if (!have(basename(g), "")) failed <- c(failed, g)
}
for (b in spec$bioconductor) {
  if (have(b, "")) next
  if (!requireNamespace("BiocManager", quietly = TRUE)) { failed <- c(failed, paste0(b, " (needs the BiocManager package)")); next }
  tryCatch(BiocManager::install(b, lib = lib, update = FALSE, ask = FALSE), error = function(e) message("error: ", conditionMessage(e)))
  if (!have(b, "")) failed <- c(failed, b)
}
if (length(failed)) {
  cat("RUNYARD_FAILED_PACKAGES: ", paste(failed, collapse = ", "), "\n", sep = "")
  quit(status = 3)
}
"""


def _rscript(environment: Environment) -> str:
    assert environment.r is not None
    candidate = environment.r.rscript_path or "Rscript"
    found = shutil.which(candidate)
    if not found:
        raise EnvironmentBuildError(
            f"environment {environment.name!r} has an R section but {candidate!r} was not found: "
            f"install R (Debian: apt-get install r-base-core) or set r.rscript_path")
    return found


def r_version(rscript: str) -> str:
    out = subprocess.run([rscript, "-e", "cat(paste(R.version$major, R.version$minor, sep='.'))"],
                         capture_output=True, text=True)
    return out.stdout.strip()


def materialise_r_library(environment: Environment, log: TextIO) -> str | None:
    """The folder of the environment's R library, or None when it lists no R packages."""
    r = environment.r
    assert r is not None
    rscript = _rscript(environment)
    if r.r_version and not r.user_managed:
        have = r_version(rscript)
        if have != r.r_version and not have.startswith(r.r_version + "."):
            raise EnvironmentBuildError(
                f"environment {environment.name!r} asks for R {r.r_version} but {rscript} is R {have}; "
                f"the local target uses the installed R (set r_version=None, or use the Docker target)")
    if r.user_managed or not (r.cran_packages or r.custom_url_packages or r.github_packages
                              or r.bioconductor_packages):
        return None
    from ..environment import without_secrets
    section = without_secrets({"r": r.model_dump(mode="json")})["r"]
    key = hashlib.sha256(json.dumps([section, os.path.realpath(rscript)], sort_keys=True).encode()).hexdigest()[:24]
    folder = cache_root() / "rlibs" / key
    if (folder / READY_MARKER).is_file():
        log.write(f"R library of {environment.name!r} cached at {folder}.\n")
        return str(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if not (folder / READY_MARKER).is_file():
            _build(environment, rscript, folder, log)
    return str(folder)


def _build(environment: Environment, rscript: str, folder: Path, log: TextIO) -> None:
    r = environment.r
    assert r is not None
    log.write(f"Installing R packages of {environment.name!r} into a cached library.\n")
    from ..environment import without_secrets
    section = without_secrets({"r": r.model_dump(mode="json")})["r"]
    with building_into(folder, READY_MARKER, {"name": environment.name, "r": section}) as tmp, \
            tempfile.TemporaryDirectory() as scratch:
        spec = {
            "lib": str(tmp), "repos": r.package_repos(),
            "cran": [{"name": p.name, "version": p.version or "", "repo": p.repo or ""} for p in r.cran_packages],
            "urls": list(r.custom_url_packages), "github": [g.repository for g in r.github_packages],
            "bioconductor": list(r.bioconductor_packages),
        }
        spec_file = Path(scratch) / "spec.json"
        spec_file.write_text(json.dumps(spec))
        script = Path(scratch) / "install.R"
        script.write_text(INSTALL_SCRIPT)
        env = dict(os.environ, RUNYARD_R_SPEC=str(spec_file))
        env.update({f"RUNYARD_GITHUB_TOKEN_{i}": g.auth_token for i, g in enumerate(r.github_packages, 1)
                    if g.auth_token})
        code, tail = _stream([rscript, "--no-save", str(script)], log, env)
        if code != 0:
            failed = [line.split(":", 1)[1].strip() for line in tail
                      if line.startswith("RUNYARD_FAILED_PACKAGES:")]
            what = failed[0] if failed else "see logs/environment_build.log"
            raise EnvironmentBuildError(
                f"environment {environment.name!r}: R packages could not be installed: {what}")
    log.write(f"R library ready at {folder}.\n")
