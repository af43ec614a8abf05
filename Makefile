# Every target that runs code sets itself up first, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make report RUN=<name> RESULTS=<dir>`: the run's directory (results/ by default; reference/ for the committed runs).
RESULTS ?= results

.PHONY: install test bench bench-quick report speed clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# --dist loadfile: each test file runs on one worker, so its module-scoped runs of real
# `wsbench bench` processes happen once. --no-loadscope-reorder: files are handed out in
# collection order, where tests/conftest.py puts the longest first; xdist would otherwise
# reorder them by their number of tests, and a long file with two tests started last.
# The second pass runs the tests that hold on every backend (-m backends) on JAX, one case
# per parameter value (--each-value-once; the full grid ran on TensorFlow), with its own
# "N passed" line. Its tiny functions cost more to compile than to run, so XLA emits them
# without LLVM's optimisations (the same operations, unoptimised machine code: 65 s instead of
# 100 s); the JAX runs of `wsbench bench`/`speed` in the first pass compile as users' do.
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder -q
	KERAS_BACKEND=jax XLA_FLAGS=--xla_backend_optimization_level=0 \
		$(BIN)/python -m pytest -n 2 -q -p no:cacheprovider -m backends --each-value-once

bench: install
	$(BIN)/wsbench bench --profile default

bench-quick: install
	$(BIN)/wsbench bench --profile quick

report: install
	$(BIN)/wsbench report --results-dir $(RESULTS) $(RUN)

speed: install
	$(BIN)/wsbench speed

clean:
	rm -rf $(VENV) build *.egg-info
