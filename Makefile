# The two commands the README promises: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

# Set up runyard and run the example on the local target with a SQLite workspace.
demo: install
	$(BIN)/runyard init .
	$(BIN)/runyard job submit -f examples/sklearn-diabetes/job.yml

# Install what the tests need and run every test.
test: install-test
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

clean:
	rm -rf $(VENV) .runyard build *.egg-info python/*.egg-info
