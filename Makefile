# Entry points for people and CI. Every target that needs Python creates the
# project's virtual environment (.venv) first, so a fresh machine needs only
# python3.11, go and make.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv demo test test-unit test-e2e lint codegen cluster-up cluster-down tools emulator clean

help:
	@echo "make demo         run the operator against the emulator on a local control plane"
	@echo "make test         run every check and test (what CI runs)"
	@echo "make test-unit    run the tests that need no server"
	@echo "make lint         ruff and the import layering contract"
	@echo "make codegen      regenerate crds/ and the API model from the OpenAPI document"
	@echo "make cluster-up   start a local control plane; prints the kubeconfig path"
	@echo "make cluster-down stop it and remove its data"
	@echo "make tools        build the cached Kubernetes, etcd and helm binaries"
	@echo "make emulator     run the ARM emulator on 127.0.0.1:8080"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

tools: $(STAMP)
	$(BIN)/python tests/cluster/build.py

demo: $(STAMP)
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check operator tests scripts benchmarks
	$(BIN)/lint-imports

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test: $(STAMP) lint tools
	$(BIN)/pytest -q -ra

codegen: $(STAMP)
	$(BIN)/python -m acr_operator.codegen

cluster-up: $(STAMP)
	$(BIN)/python tests/cluster/controlplane.py up

cluster-down: $(STAMP)
	$(BIN)/python tests/cluster/controlplane.py down

emulator: $(STAMP)
	$(BIN)/acr-operator emulator --host 127.0.0.1 --port 8080

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .cluster
