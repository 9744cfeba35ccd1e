# The verbs a newcomer needs. Every target installs what it uses on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
ENV ?= dev
CDK_CLI := npx --no-install cdk

.DEFAULT_GOAL := help
.PHONY: help install browser demo local test lint format typecheck unit integration infra e2e pages bench chaos fuzz synth diff deploy requirements clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced ## create .venv with the locked dependencies (uv.lock)

CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser: ## Debian's chromium for the page tests (Playwright drives it; it never downloads a browser)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Debian's chromium for the page tests"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
		|| { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends chromium; }; \
	fi

demo: install ## run the pipeline end to end on embedded AWS (moto) and print a summary
	$(BIN)/python -m infra.local.demo

local: install ## keep the local stack running on 127.0.0.1 to write orders and open links by hand
	$(BIN)/python -m infra.local.serve

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy (strict) on the shared invoicing package
	$(BIN)/mypy

TEST_WORKERS ?= 2

test: lint typecheck browser ## install everything, lint, type-check and run every test (pages in chromium too)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

unit: install ## only the unit tests
	$(BIN)/pytest tests/unit

integration: install ## only the handler/adapter tests on moto
	$(BIN)/pytest tests/integration

infra: install ## only the CDK assertion tests
	$(BIN)/pytest tests/infrastructure

e2e: install ## only the end-to-end test of the local demo
	$(BIN)/pytest tests/e2e

pages: install browser ## only the page tests, in a real browser (screenshots in out/screenshots/)
	$(BIN)/pytest tests/pages

bench: install ## render, cold-start and handler benchmarks (medians)
	$(BIN)/python -m bench.run

chaos: install ## chaos run at scale: faults, crashes, redeliveries over 10,000 orders (CHAOS_ORDERS=...)
	$(BIN)/python -m bench.chaos --orders $${CHAOS_ORDERS:-10000}

fuzz: install ## seeded mutations of the sample orders through the generator at scale (FUZZ_ORDERS=..., FUZZ_SEED=...)
	FUZZ_ORDERS=$${FUZZ_ORDERS:-20000} $(BIN)/pytest tests/integration/test_fuzz_orders.py -q -s

requirements: install ## re-export the Lambda dependency layer's requirements from uv.lock
	$(UV) export --frozen --no-dev --no-emit-project --no-hashes --no-header \
		--no-emit-package boto3 --no-emit-package botocore --no-emit-package s3transfer \
		-o layers/dependencies/requirements.txt

synth: install ## synthesize every environment into cdk.out/ (cdk-nag runs; builds the layer with pip, no Docker)
	PATH="$(CURDIR)/.tools/bin:$$PATH" $(BIN)/python -m infra.app

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

diff: install node_modules/.installed ## what a deploy of ENV would change (needs AWS credentials)
	PATH="$(CURDIR)/.tools/bin:$$PATH" $(CDK_CLI) diff -c env=$(ENV)

deploy: install node_modules/.installed ## deploy one environment: make deploy ENV=staging (AWS credentials for its account)
	PATH="$(CURDIR)/.tools/bin:$$PATH" $(CDK_CLI) deploy -c env=$(ENV) --require-approval broadening

clean: ## remove generated files (keeps .venv)
	rm -rf cdk.out .build out .pytest_cache .mypy_cache .ruff_cache
