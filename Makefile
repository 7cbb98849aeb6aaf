# Two commands for a fresh machine (Python 3.11 and pip):
#   make run    set up .venv if needed, run the workflow on the built-in dataset
#   make test   set up .venv if needed, lint, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
# pytest workers (pytest-xdist): one more than the cores, as the end-to-end tests spend much of
# their time waiting (on SLURM's scheduling, on the session's tiny run another worker builds).
# Test files are handed to them in tests/conftest.py's order, a file's tests stay together (their
# module fixtures are runs shared by the file); `make test TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=20

.PHONY: run test test-fast lint format dryrun report bundle clean-venv

# The pinned requirements, then this folder's yoloshrink package, editable (code changes need no
# reinstall; setuptools comes with the requirements, so no build environment is downloaded).
# uv (its version pinned in requirements.txt) installs them in parallel: 45 s from nothing on 2
# cores where pip takes 2 min 40 s. Both compile the bytecode at install (uv when asked): where
# PYTHONDONTWRITEBYTECODE is set, every job would otherwise compile torch again at each import.
# uv reads no pip.conf: where pip must use a private index or proxy, or uv fails, pip installs
# them instead (`make INSTALLER=pip` forces it).
INSTALLER ?= uv
UV_VERSION := $(shell sed -n 's/^uv==//p' requirements.txt)
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if [ "$(INSTALLER)" = uv ] && $(PIP) "uv==$(UV_VERSION)" \
		&& $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt; then \
		echo "requirements.txt installed with uv $(UV_VERSION)"; \
	else \
		echo "installing requirements.txt with pip"; $(PIP) -r requirements.txt; \
	fi
	$(PIP) --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $@

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

dryrun: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --dry-run

report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --report results/report.html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/snakefmt Snakefile workflow/rules

# The full suite (what CI runs): unit, dry-run, end-to-end and SLURM tests.
test: lint
	$(PYTEST)

# The development loop: unit and dry-run tests only (no end-to-end run, no SLURM, no real
# training: tests/test_resume.py), about 75 s on 2 cores.
test-fast: $(STAMP)
	$(PYTEST) -m "not e2e and not slurm and not training"

clean-venv:
	rm -rf $(VENV)

# The deployment bundle: every exported model, inputs, reference outputs, timing settings
# (results/bundle/yoloshrink-bundle.tar); time it on another machine with
# python -m yoloshrink.hostbench (README, "Timing on your deployment machine").
bundle: $(STAMP)
	$(BIN)/snakemake --cores all bundle
