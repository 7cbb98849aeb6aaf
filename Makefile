# Two commands for a fresh machine (Python 3.11 and pip):
#   make run    set up .venv if needed, run the workflow on the built-in dataset
#   make test   set up .venv if needed, lint, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all

.PHONY: run test lint format dryrun report clean-venv

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
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

test: lint
	$(BIN)/pytest

clean-venv:
	rm -rf $(VENV)
