# nautilus-dydx: every target that needs the compiled package builds it first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BUILD_REQS := setuptools==80.9.0 wheel cython==3.1.8 nautilus_trader==1.221.0 picows==2.3.1
PYX := $(wildcard nautilus_dydx/_core/*.pyx nautilus_dydx/_core/*.pxd)
SO_STAMP := build/.core-stamp

.DEFAULT_GOAL := help
.PHONY: help install build proto test test-installed bench bench-compare dist check-dist fuzz annotate profile demo clean soak reliability

help:  #-- List the targets
	@grep -E '^[a-z-]+:.*#--' $(MAKEFILE_LIST) | sed -E 's/:.*#-- /\t/' | expand -t 18

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(BUILD_REQS)
	$(BIN)/python -m pip install -q --no-build-isolation -e ".[test]"
	mkdir -p build && touch $(SO_STAMP) $(STAMP)

install: $(STAMP)  #-- Create .venv, install the package with test extras, compile

$(SO_STAMP): $(STAMP) $(PYX)
	$(BIN)/python setup.py -q build_ext --inplace
	mkdir -p build && touch $(SO_STAMP)

build: $(SO_STAMP)  #-- Compile nautilus_dydx/_core (incremental)

proto: $(STAMP)  #-- Regenerate nautilus_dydx/_proto from proto/*.proto
	$(BIN)/python proto/generate.py

test: build  #-- Run the test suite (sets everything up on a fresh clone)
	$(BIN)/python -m pytest -q tests

test-installed: dist  #-- Install the wheel into a fresh venv and import _core from outside the tree
	bash .ci/smoke-wheel

bench: build  #-- Run benchmarks/ and save the JSON under .benchmarks/
	$(BIN)/python -m pytest -q benchmarks --benchmark-disable-gc --benchmark-autosave \
		--benchmark-group-by=group --benchmark-columns=min,median,mean,ops,rounds

bench-compare: build  #-- Run benchmarks/ and compare with the last saved run
	$(BIN)/python -m pytest -q benchmarks --benchmark-disable-gc --benchmark-autosave \
		--benchmark-compare --benchmark-group-by=group --benchmark-columns=min,median,mean,ops

dist: $(STAMP)  #-- Build the sdist and the wheel into dist/
	rm -rf dist
	$(BIN)/python -m build --no-isolation --sdist --wheel --outdir dist .

check-dist: dist  #-- twine check the sdist and wheel (README renders, classifiers, exact pins)
	$(BIN)/python -m twine check --strict dist/*

fuzz: build  #-- Differential fuzz: FUZZ_INPUTS mutated frames (default 1000000) through parser and twin
	$(BIN)/python -m tests.fuzz.run --inputs $(or $(FUZZ_INPUTS),1000000) --jobs $(or $(FUZZ_JOBS),1)

reliability: build  #-- Fault suite vs the sandbox: each fault FAULT_COUNT (100) times, invariants
	$(BIN)/python -m tests.reliability faults --faults all --count $(or $(FAULT_COUNT),100) --budget-minutes $(or $(FAULT_BUDGET_MINUTES),15) \
		--concurrency-rounds $(or $(FAULT_ROUNDS),20)

soak: build  #-- Soak vs a sandbox process (SOAK_SECONDS=300): RSS MB/hour, latency start/end
	$(BIN)/python -m tests.reliability soak --seconds $(or $(SOAK_SECONDS),300) \
		--orders-per-second $(or $(SOAK_RATE),2) --warmup $(or $(SOAK_WARMUP),60) $(SOAK_ARGS)

annotate: $(STAMP)  #-- Cython HTML annotation beside each .pyx (yellow = Python calls)
	ANNOTATION_MODE=1 $(BIN)/python setup.py -q build_ext --inplace --force

profile: $(STAMP)  #-- Build with line tracing for profilers (rebuild with `make build` after)
	PROFILE_MODE=1 $(BIN)/python setup.py -q build_ext --inplace --force
	rm -f $(SO_STAMP)

DEMO_SECONDS ?= 60

demo: build  #-- Trade against the sandbox (DEMO_SECONDS=60), check against the venue, chart it
	@$(BIN)/python -c "import matplotlib" 2>/dev/null || $(BIN)/python -m pip install -q "matplotlib>=3.8"
	$(BIN)/python -m nautilus_dydx.demo --seconds $(DEMO_SECONDS)

clean:  #-- Remove build products (keeps .venv)
	rm -rf build dist *.egg-info .pytest_cache
	find nautilus_dydx -name '*.so' -delete -o -name '*.c' -delete -o -name '*.html' -delete
