# Two entry points: run the lifecycle locally, run the tests. Both bring the local stack up first
# (scripts/stack up is idempotent and takes about a second when everything already runs).
#
#   make demo                                 the whole lifecycle on the local stack (python -m taxiway.demo):
#                                             stack, meta image + registration, ci_pipeline, nightly promotion,
#                                             production behind approval, model rollout + prediction, status
#   make demo DEMO_ARGS="--from nightly"      re-run from one step (logs: .stack/demo/<step>.log)
#   make test                                 stack up, then the whole test suite (what CI runs)
#   make test PYTEST_ARGS=...                 any pytest arguments, e.g. a fast local run without e2e:
#   make test PYTEST_ARGS="-m 'not e2e'"
#   make down                                 stop what scripts/stack up started (data is kept)

SHELL := /bin/bash
PYTHON ?= python3
PYTEST_ARGS ?=
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
