# The two README commands: `make compare` (main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out
JOBS ?= 2

.PHONY: setup compare test test-fast bench clean

setup: $(VENV)/.installed

# torch==2.13.0 first: on our machines pip finds it as the CPU build (README: elsewhere install
# it from the CPU index first), so the later `torch` requirement installs nothing.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[all]'
	touch $@

# Main job: compare the planners on the bundled health-intervention example (rollout is left
# out: at 30-50 ms a period it adds a minute or two; add it with PLANNERS=...,rollout).
PLANNERS ?= no-action,random,round-robin,belief-threshold,myopic,whittle,whittle-multi,lagrangian
compare: setup
	$(VENV)/bin/rmab compare data/health_example.npz --planners $(PLANNERS) --episodes 40 \
		--seed 0 --n-jobs $(JOBS) --out $(OUT)/compare.csv --plot $(OUT)/compare.png

test: setup
	$(PY) -m pytest -n $(JOBS) -q

test-fast: setup
	$(PY) -m pytest -n $(JOBS) -q -m "not slow"

# Every benchmark's --quick figures (minutes); BENCH_ARGS= runs the full ones (the SEQUOIA
# quality table alone takes hours: 20 training runs).
BENCH_ARGS ?= --quick
bench: setup
	for f in benchmarks/bench_*.py; do $(PY) $$f $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis .numba_cache
