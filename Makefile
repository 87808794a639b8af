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
# The uid the Dagster containers run as (docker-compose.yml's build arg): .env's DAGSTER_UID, else the owner of this
# folder, which they must be able to write (root included). GNU stat, else BSD stat (macOS).
export DAGSTER_UID := $(or $(DAGSTER_UID),$(shell stat -c %u . 2>/dev/null || stat -f %u .))
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

# The dbt manifest Dagster loads its assets from: prepared ahead of time, when missing or older than a dbt file (the
# one rule, dagster_project/project.py's stale_reason; the code location applies it too when it loads).
.PHONY: prepare
prepare: $(INSTALLED) ## Prepare the dbt manifest (dbt parse) when a dbt file changed
	$(BIN)/python -m tooling.dbt_manifest

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
# -m "" replaces pyproject's default filter (the quick set): every group runs, services and browser included.
# TEST_WORKERS processes share the tests (pytest-xdist), a test module on one process (its module fixtures, e.g. a
# Docker stack, start once); the Podman modules start first (tests/conftest.py).
TEST_WORKERS ?= 2
test: $(INSTALLED) prepare lint ## Install if needed, lint, then run the whole suite (every group) on TEST_WORKERS processes
	$(BIN)/pytest -m "" -n $(TEST_WORKERS) --dist loadfile --durations=25

.PHONY: run
run: $(INSTALLED) prepare ## The main job: local S3 + sample data, every Chapter 2 asset for the 39 days up to yesterday in one run
	$(BIN)/python -m tooling.run

.PHONY: start-local
start-local: $(INSTALLED) prepare ## Dagster UI without Docker on 127.0.0.1:3000 (DAGSTER_PORT); local S3, SQLite instance
	$(BIN)/python -m tooling.local_stack start

.PHONY: stop-local
stop-local: ## Stop what start-local / run started (dagster dev, local S3)
	$(BIN)/python -m tooling.local_stack stop

# dbt's docs site from the DuckDB warehouse `make run` builds (column types); before that, without column types.
.PHONY: dbt-docs
dbt-docs: $(INSTALLED) ## dbt's docs (lineage, models, columns, tests) on 127.0.0.1:8580 (DBT_DOCS_PORT); Ctrl-C stops
	$(BIN)/python -m tooling.dbt_docs

# The pictures of the docs (docs/images/, or SCREENSHOTS_DIR): make run's data, start-local, Chromium.
.PHONY: screenshots
screenshots: $(INSTALLED) prepare ## Take docs/images/ from the real UI in Chromium (SCREENSHOTS_DIR to write elsewhere)
	$(BIN)/python docs/screenshots.py

# --- Workshop hands-on mode (tooling/workshop.py): one check and one reference solution per "Try it" ---------------
# ASSIGNMENT is an exercise id: ch1-<section> for Chapter 1, 1..6 for Chapter 2's assignments, or a whole chapter
# (ch1, ch2); make check alone lists them.
ASSIGNMENT ?=

.PHONY: check
check: $(INSTALLED) ## Check an exercise: make check ASSIGNMENT=ch1-1 or =3 (OK, or what is missing); no ASSIGNMENT lists them
	@$(BIN)/python -m tooling.workshop $(if $(ASSIGNMENT),check $(ASSIGNMENT),list)

.PHONY: solution
solution: $(INSTALLED) ## Apply an exercise's reference solution: make solution ASSIGNMENT=ch1-1 or =3 (keeps your edits)
	@$(BIN)/python -m tooling.workshop solution $(ASSIGNMENT)

.PHONY: workshop
workshop: $(INSTALLED) ## Chapter 2 to do: a git branch `workshop` where each assignment's solution is a stub (clean tree only)
	@$(BIN)/python -m tooling.workshop workshop

.PHONY: workshop-reset
workshop-reset: $(INSTALLED) ## Back from `make workshop` to the full reference; your work stays on the branch `workshop`
	@$(BIN)/python -m tooling.workshop workshop-reset

# --- Docker: docker-compose.yml (Postgres, LocalStack S3, dagster-webserver, dagster-daemon) -------------------
# `docker compose` (the Compose plugin of the Docker CLI) when present, else a standalone `docker-compose`.
# Override with `make start-dev COMPOSE=...`.
ifeq ($(origin COMPOSE),undefined)
COMPOSE := $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; \
	elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; fi)
endif
# The image docker-compose.yml builds for its three Dagster services (its `image:`).
DAGSTER_IMAGE := dagster-dbt-workshop/dagster:dev
# Compose commands that only make sense when an engine answers (clean works without Docker too).
DOCKER_UP = test -n "$(COMPOSE)" && docker info >/dev/null 2>&1

# Printed once a stack is healthy: $(call STACK_INFO,<compose command>,<stop target>).
define STACK_INFO
	@echo ""
	@echo "Dagster UI  http://127.0.0.1:$(or $(DAGSTER_PORT),3000)  (start with the asset group retailer_kpis)"
	@echo "S3          http://127.0.0.1:$(or $(LOCALSTACK_PORT),4566)  bucket $(or $(S3_BUCKET),dagster)"
	@echo "Postgres    127.0.0.1:$(or $(DAGSTER_POSTGRES_PORT),5432)  databases dagster_metadata, workshop_assets"
	@echo "Logs: $(1) logs -f    Stop: make $(2)"
endef

.PHONY: deps
deps: ## Check that Docker and Docker Compose are installed and the Docker engine runs
	@command -v docker >/dev/null 2>&1 || { \
	  echo "Docker is not installed: get Docker Desktop (macOS, Windows) or Docker Engine (Linux) from"; \
	  echo "https://docs.docker.com/get-docker/ -- or open the dev container, or run make start-local (no Docker)."; \
	  exit 1; }
	@test -n "$(COMPOSE)" || { \
	  echo "Docker Compose is missing: install the Compose plugin (docker compose) or docker-compose,"; \
	  echo "https://docs.docker.com/compose/install/"; exit 1; }
	@docker info >/dev/null 2>&1 || { \
	  echo "The Docker engine does not answer: start Docker Desktop (or: sudo systemctl start docker), and check"; \
	  echo "that your user may use it (docker info)."; exit 1; }
	@echo "Docker $$(docker version --format '{{.Server.Version}}'), $$($(COMPOSE) version)"
	@echo "The Dagster containers run as uid $(DAGSTER_UID) (DAGSTER_UID)."

.PHONY: start-dev
start-dev: deps ## Docker: build and start Postgres, LocalStack S3, the Dagster UI (127.0.0.1:3000) and daemon
	$(COMPOSE) up --build --detach --wait --wait-timeout 600
	$(call STACK_INFO,$(COMPOSE),stop-dev)

.PHONY: start-dev-nocache
start-dev-nocache: deps ## Docker: like start-dev, rebuilding the image from scratch (new pins, Dockerfile edits)
	$(COMPOSE) build --no-cache --pull dagster_webserver
	$(COMPOSE) up --detach --wait --wait-timeout 600
	$(call STACK_INFO,$(COMPOSE),stop-dev)

.PHONY: stop-dev
stop-dev: deps ## Docker: stop and remove the containers; the data stays in the Docker volumes
	$(COMPOSE) down --remove-orphans

# --- Docker, the standard Dagster deployment: docker-compose.prod.yml (docs/deploy.md) ----------------------------
PROD_COMPOSE = $(COMPOSE) -f docker-compose.prod.yml

.PHONY: start-prod
start-prod: deps ## Docker, deployed: code servers, UI and daemon over gRPC, each run in its own container
	$(PROD_COMPOSE) up --build --detach --wait --wait-timeout 600
	$(call STACK_INFO,$(PROD_COMPOSE),stop-prod)

.PHONY: stop-prod
stop-prod: deps ## Docker, deployed: stop and remove start-prod's containers; the data stays in its volumes
	$(PROD_COMPOSE) down --remove-orphans

.PHONY: clean
clean: ## Remove the Docker containers and image, and local build artefacts (dbt target/logs, caches)
	-@if $(DOCKER_UP); then $(COMPOSE) down --remove-orphans && docker image rm --force $(DAGSTER_IMAGE); fi
	rm -rf dbt_project/target dbt_project/logs dbt_project/dbt_packages .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

.PHONY: clean-full
clean-full: clean ## clean, plus the Docker volumes and the local data (data/, the local Dagster instance)
	-@if $(DOCKER_UP); then $(COMPOSE) down --volumes --remove-orphans; fi
	rm -rf data
	find dagster_home -mindepth 1 -maxdepth 1 ! -name dagster.yaml -exec rm -rf {} +
# Benchmark sizes (benchmarks/README.md): small (default, a few minutes), year, 10m; a comma-separated list also works.
SIZE ?= small

.PHONY: bench
bench: $(INSTALLED) prepare ## Benchmark the pipeline against its anchors on generated data (SIZE=small|year|10m)
	$(BIN)/python -m benchmarks --size $(SIZE)
