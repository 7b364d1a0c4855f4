# dealerflow developer entry points (`make help`).
# Infrastructure runs natively (no Docker needed): see docs/operations.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

export UV_PYTHON_DOWNLOADS ?= never

UV ?= uv
# --frozen everywhere: use uv.lock exactly as committed, never rewrite it.
RUN := $(UV) run --frozen
INFRA := $(RUN) dealerflow-infra
SERVICES_HOOK := deploy/local/services.sh
PYTEST_ARGS ?=
BENCH_ARGS ?=
CHAOS_ARGS ?=
LINT_PATHS := .
MYPY_PATHS := contracts/src $(wildcard libs/*/src) $(wildcard services/*/src)

.PHONY: help sync up down status test lint fmt contracts bench demo chaos chaos-short

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

sync: ## install the workspace from uv.lock
	$(UV) sync --frozen

up: sync ## start Kafka + PostgreSQL (dev profile) and the services, print URLs
	$(INFRA) up
	@if [ -f $(SERVICES_HOOK) ]; then bash $(SERVICES_HOOK) up; fi

DEMO_CLOCK_SPEED ?= 3600

demo: sync ## start everything with an accelerated clock and play a dealer's day
	$(INFRA) up
	bash $(SERVICES_HOOK) down
	DEALERFLOW_CLOCK_SPEED=$(DEMO_CLOCK_SPEED) bash $(SERVICES_HOOK) up
	$(RUN) python -m dealerflow.devinfra.demo

down: ## stop the services and the infrastructure (dev and test profiles)
	@if [ -f $(SERVICES_HOOK) ]; then bash $(SERVICES_HOOK) down; fi
	$(INFRA) down --all-profiles

status: ## show what infrastructure runs
	$(INFRA) status --profile dev || true
	$(INFRA) status --profile test || true

test: sync ## run every test against real Kafka + PostgreSQL (test profile)
	$(INFRA) up --profile test --no-topics
	env_lines="$$($(INFRA) env --profile test)"; eval "$$env_lines"; \
	$(RUN) pytest $(PYTEST_ARGS)

lint: sync ## ruff check, ruff format --check, mypy
	$(RUN) ruff check $(LINT_PATHS)
	$(RUN) ruff format --check $(LINT_PATHS)
	$(RUN) mypy $(MYPY_PATHS)

fmt: sync ## apply ruff fixes and formatting
	$(RUN) ruff check --fix $(LINT_PATHS)
	$(RUN) ruff format $(LINT_PATHS)

contracts: sync ## regenerate the JSON Schemas, AsyncAPI and docs/events.md from the models
	$(RUN) python -m dealerflow.contracts.tools.generate

bench: sync ## run the benchmarks (bench/) against the dev infrastructure
	$(INFRA) up
	env_lines="$$($(INFRA) env)"; eval "$$env_lines"; \
	if [ -f bench/__main__.py ]; then $(RUN) python -m bench $(BENCH_ARGS); \
	elif [ -f bench/run.py ]; then $(RUN) python bench/run.py $(BENCH_ARGS); \
	else echo "no benchmarks yet (bench/run.py)"; fi

chaos: sync ## every chaos scenario at full scale (docs/reliability.md; CHAOS_ARGS="kill9 --seed N")
	$(INFRA) up --profile test --no-topics
	env_lines="$$($(INFRA) env --profile test)"; eval "$$env_lines"; \
	$(RUN) python -m chaos --scale full $(CHAOS_ARGS)

chaos-short: sync ## every chaos scenario at short scale (CI runs each as a test)
	$(INFRA) up --profile test --no-topics
	env_lines="$$($(INFRA) env --profile test)"; eval "$$env_lines"; \
	$(RUN) python -m chaos --scale short $(CHAOS_ARGS)
