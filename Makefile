# The two commands of the README: `make run` (set up, then the main job) and `make test`
# (set up, then the test suite). Both create .venv on first use; torch is pinned by
# constraints.txt to the CPU build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

run: setup
	$(BIN)/infoflow run

test: setup
	$(BIN)/python -m pytest -n 2

bench: setup
	$(BIN)/python benchmarks/bench_estimators.py

clean:
	rm -rf $(VENV)
