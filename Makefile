# The two commands the README promises: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# R packages built here go to a library of the checkout's own, not the system's.
R_LIB := $(CURDIR)/.r-lib
R_CHECK := $(CURDIR)/.r-check
TEST_ENV = RETICULATE_PYTHON=$(abspath $(BIN)/python) R_LIBS=$(R_LIB)

.PHONY: demo test docs docs-serve install install-test system-deps r-install r-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

# system-deps first: rpy2 (a test dependency) builds against the R it installs
install-test: system-deps $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]" -e ./compat/azureml-runyard

system-deps:
	bash scripts/install-system-deps.sh

r-install: system-deps
	mkdir -p $(R_LIB)
	R CMD INSTALL --no-multiarch --library=$(R_LIB) r-package >$(R_LIB)/install.log 2>&1 || (cat $(R_LIB)/install.log; exit 1)

# Set up runyard and run the example on the local target with a SQLite workspace.
demo: install
	$(BIN)/runyard init .
	$(BIN)/runyard job submit -f examples/sklearn-diabetes/job.yml

# Install what the tests need and run every test: pytest (which also knits the vignettes)
# in shards, the R package's testthat suite and R CMD check, side by side
# (scripts/test_all.py installs first, then prints the time of each stage). Any failing fails.
test:
	$(PYTHON) scripts/test_all.py

# The documentation site into site/ (strict: a broken link, a missing reference or a page left
# out of the navigation fails), with the R package's pkgdown site in site/r/; it works offline.
docs: $(BIN)/python r-install
	$(BIN)/pip install --quiet -e ".[docs]"
	$(TEST_ENV) $(BIN)/python scripts/build_docs.py

# Build it, then serve it on http://127.0.0.1:8000 (Ctrl-C stops).
docs-serve: docs
	$(BIN)/python scripts/build_docs.py --no-build --serve 8000

# R CMD check of the built package (with what r-install sets up); an ERROR or a WARNING
# fails it. --no-tests: `make test` runs the same testthat suite from source.
r-check:
	rm -rf $(R_CHECK) && mkdir -p $(R_CHECK)
	cd $(R_CHECK) && R CMD build --no-build-vignettes $(CURDIR)/r-package >build.log 2>&1 || (cat build.log; exit 1)
	cd $(R_CHECK) && $(TEST_ENV) R CMD check --no-manual --no-tests --ignore-vignettes runyard_*.tar.gz >check.log 2>&1 \
	  && ! grep -Eq '^Status:.*(ERROR|WARNING)' runyard.Rcheck/00check.log || (cat check.log; exit 1)
	@grep '^Status:' $(R_CHECK)/runyard.Rcheck/00check.log

clean:
	rm -rf $(VENV) $(R_LIB) $(R_CHECK) .test-logs .runyard build site *.egg-info python/*.egg-info
