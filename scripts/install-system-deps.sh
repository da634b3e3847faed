#!/usr/bin/env bash
# What the tests need beyond Python, from Debian's packages: R with the R packages
# runyard's R package and its tests use (foreach for its %dopar% backend), pandoc to render
# the vignettes, and for the Docker target the engine, debootstrap (base images are made
# locally) and a registry;
# Open MPI (mpirun, and mpicc to build mpi4py) for MPI jobs on the local target;
# Chromium for the studio's browser tests (driven by Playwright, which downloads no browser).
set -euo pipefail

packages=(r-base-core r-base-dev r-cran-reticulate r-cran-testthat r-cran-jsonlite r-cran-foreach
          r-cran-rmarkdown r-cran-knitr r-cran-pkgdown r-cran-remotes pandoc docker.io debootstrap docker-registry postgresql
          openmpi-bin libopenmpi-dev chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run this script as root, or install them)" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
