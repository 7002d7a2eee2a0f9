# Switchboard — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SANDBOX_PORT ?= 8081

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# The Cloud Tasks emulator pins an old client; its own deps would pull a release
	@# that fails to import beside google-cloud-tasks 2.26, so it goes in without them.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps 'gcloud-tasks-emulator==0.6.2' pyyaml
	@touch $(STAMP)

.PHONY: venv
venv: $(STAMP) ## Create .venv and install the project with its dev tools

.PHONY: dev
dev: venv ## Run Switchboard locally: sandbox (or real bots), routing on SQLite, delivery, ingress, admin, demo data
	$(PY) -m deploy.local.dev

.PHONY: sandbox
sandbox: venv ## Run only the Bot API sandbox with the demo scenario
	$(PY) -m sandbox.demo --port $(SANDBOX_PORT)

.PHONY: proto
proto: venv ## Regenerate switchboard/ (Python contracts) from protos/
	$(PY) protos/generate.py

.PHONY: docs
docs: venv ## Regenerate docs/configuration.md from the settings classes (a test fails when stale)
	$(PY) -m deploy.settings_reference

.PHONY: lint
lint: venv ## ruff check and format check, import contracts, mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

.PHONY: fmt
fmt: venv ## Format the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: test
test: $(DEPLOY_STAMP) ## Lint and check-deploy side by side, then run every test (unit, integration, end-to-end)
	@# lint and check-deploy share only the venv, installed above before either starts;
	@# each one's output is printed whole when it ends.
	$(MAKE) --no-print-directory -j2 --output-sync=target lint check-deploy
	@# The tests on two workers (pytest-xdist; each has its own sandbox, databases and
	@# ports), then the few marked `alone` (tests/e2e/conftest.py) one at a time: they
	@# hold the services to a bar in time. Both runs go to the end; either failing, or
	@# collecting nothing (exit 5), fails the target.
	status=0; \
	$(VENV)/bin/pytest -n 2 -m 'not alone' || status=$$?; \
	$(VENV)/bin/pytest -m alone || status=$$?; \
	exit $$status

.PHONY: test-fast
test-fast: venv ## The inner loop: the unit tests only (no sandbox, database or services; seconds)
	$(VENV)/bin/pytest -q tests/unit

.PHONY: bench
bench: venv ## Benchmarks (not tests): sandbox sendMessage throughput
	$(PY) bench/sandbox_throughput.py

.PHONY: bench-pipeline
bench-pipeline: venv ## Benchmarks (not tests): pipeline ack latency and end-to-end latency on SQLite
	$(PY) bench/pipeline_ack.py latency --backend sqlite
	$(PY) bench/pipeline_e2e.py --backend sqlite

# --- The image and the Kubernetes manifests -------------------------------------------
DEPLOY_STAMP := $(VENV)/.deploy-check-stamp
# For the image: CPython 3.11 on Linux, whatever this machine runs.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform linux \
	--custom-compile-command 'make lock' --quiet

$(DEPLOY_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,deploy-check]'
	@touch $(DEPLOY_STAMP)

# checkov pins packaging<24, aiohttp<3.15 and more: its own venv, not ours.
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := .venv-checkov/.installed-$(CHECKOV_VERSION)

$(CHECKOV_STAMP):
	rm -rf .venv-checkov
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'
	@touch $(CHECKOV_STAMP)

.PHONY: check-deploy
check-deploy: $(DEPLOY_STAMP) $(CHECKOV_STAMP) ## Dockerfile (hadolint, checkov), deploy/k8s overlays (kustomize, kubernetes-validate, checkov), the image's lock installed in a scratch venv
	$(PY) -m deploy.check_deploy

.PHONY: lock
lock: $(DEPLOY_STAMP) ## Re-lock the image's dependencies (requirements*.lock) after pyproject.toml changes; LOCK_ARGS=--upgrade takes new releases
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements.lock
	@# The build lock: the setuptools that builds the project's wheel in the image.
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
		| $(VENV)/bin/uv pip compile - $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements-build.lock

.PHONY: clean
clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .venv-checkov .pytest_cache .ruff_cache
