# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine: the first
# call creates .venv with everything the project needs (PyTorch pinned to the 2.13.0 CPU build).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench notebooks docs lint env clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

env: $(STAMP)

demo: $(STAMP)
	$(BIN)/tsexplain demo --out out/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/threads.py

notebooks: $(STAMP)
	$(BIN)/python examples/run_notebooks.py --out out/notebooks

# the site in out/site, from the docstrings, the registries and the executed notebooks;
# any warning (a broken cross-reference or link, a docstring griffe cannot read) fails it
docs: notebooks
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks examples docs
	$(BIN)/ruff check src tests benchmarks examples docs
	$(BIN)/mypy

clean:
	rm -rf $(VENV) out build *.egg-info
