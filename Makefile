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
# per parameter value (--each-value-once; the full grid runs on TensorFlow), with its own
# "N passed" line. It runs in one process beside the first (its log printed after it, its own
# --basetemp), filling the time the first pass's workers spend waiting on the wsbench
# processes they start; the target fails if either pass fails.
JAX_LOG := $(VENV)/jax-pass.log
test: install
	@KERAS_BACKEND=jax $(BIN)/python -m pytest -q -p no:cacheprovider --basetemp=$(VENV)/jax-pass-tmp \
		-m backends --each-value-once > $(JAX_LOG) 2>&1 & jax=$$!; trap 'kill $$jax 2>/dev/null' INT TERM; \
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder -q; tf=$$?; \
	wait $$jax; jx=$$?; echo "--- JAX pass (KERAS_BACKEND=jax, -m backends --each-value-once):"; \
	cat $(JAX_LOG); test $$tf -eq 0 && test $$jx -eq 0

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
