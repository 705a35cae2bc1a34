# Two entry points: run the lifecycle locally, run the tests. Both bring the local stack up first
# (scripts/stack up is idempotent and takes about a second when everything already runs).
#
#   make demo                                 the whole lifecycle on the local stack (python -m taxiway.demo):
#                                             stack, meta image + registration, ci_pipeline, nightly promotion,
#                                             production behind approval, model rollout + prediction, status
#   make demo DEMO_ARGS="--from nightly"      re-run from one step (logs: .stack/demo/<step>.log)
#   make test                                 stack up, lint, then every test except the slow end-to-end ones
#   make test E2E=1                           the same with the e2e tests too: what CI runs (.ci/run)
#   make test PYTEST_ARGS=...                 any pytest arguments instead, e.g. PYTEST_ARGS="tests/unit -x"
#   make down                                 stop what scripts/stack up started (data is kept)

SHELL := /bin/bash
PYTHON ?= python3
E2E ?=
# The e2e tests (marker e2e) take most of the run: CI runs them, a local run skips them unless E2E=1.
PYTEST_ARGS ?= $(if $(filter 1,$(E2E)),,-m "not e2e")
DEMO_ARGS ?=

.PHONY: demo test lint up down status

up:
	scripts/stack up

# `up` first installs what the driver imports (flytekit, ...); the driver's own first step is then a no-op.
demo: up
	$(PYTHON) -m taxiway.demo $(DEMO_ARGS)

# pytest's exit code passes through unchanged: 5 (no tests collected) fails the target, as it should.
test: up lint
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

down:
	scripts/stack down

status:
	scripts/stack status
