# Dagster + dbt workshop: `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The project's settings: .env when it exists, else the working defaults of .env.example.
ENV_FILE := $(firstword $(wildcard .env) .env.example)
include $(ENV_FILE)
export $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' $(ENV_FILE))
# Dagster wants an absolute DAGSTER_HOME.
export DAGSTER_HOME := $(abspath $(DAGSTER_HOME))

# The venv's tools (dbt, dagster, dagster-dbt) first, without having to activate it.
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Written after a successful install; newer pins make it stale, so `make install` re-runs only when needed.
INSTALLED := $(VENV)/.installed

.PHONY: help
help: ## List every target with what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(INSTALLED): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $@

.PHONY: install
install: $(INSTALLED) ## Create .venv and install the project with its test extras (pinned; no-op when up to date)

# The dbt manifest Dagster loads its assets from: prepared once, never parsed when the code location loads.
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -name '*.sql' -o -name '*.yml' | grep -v -e /target/ -e /logs/)
$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	$(BIN)/dagster-dbt project prepare-and-package --file dagster_project/project.py

.PHONY: prepare
prepare: $(MANIFEST) ## Prepare the dbt manifest (dbt parse) when a dbt file changed

.PHONY: lock
lock: ## Re-pin constraints.txt from a fresh install of pyproject.toml
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet -e ".[test]"
	{ echo '# Every package of the environment, pinned: `make install` passes this file as pip constraints.'; \
	  echo '# Regenerate after changing pyproject.toml: make lock'; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt
	@touch $(INSTALLED)

.PHONY: lint
lint: $(INSTALLED) ## Ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: format
format: $(INSTALLED) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: test
test: $(INSTALLED) $(MANIFEST) lint ## Install if needed, lint, then run the whole pytest suite
	$(BIN)/pytest

.PHONY: run
run: $(INSTALLED) $(MANIFEST) ## The main job: local S3 + sample data, every Chapter 2 asset for 39 days in one run
	$(BIN)/python -m dagster_project.run

.PHONY: start-local
start-local: $(INSTALLED) $(MANIFEST) ## Dagster UI without Docker on 127.0.0.1:3000 (DAGSTER_PORT); local S3, SQLite instance
	$(BIN)/python -m dagster_project.local_stack start

.PHONY: stop-local
stop-local: ## Stop what start-local / run started (dagster dev, local S3)
	$(BIN)/python -m dagster_project.local_stack stop
