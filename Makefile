# Two entry points: run the lifecycle locally, run the tests. Both bring the local stack up first
# (scripts/stack up is idempotent and takes about a second when everything already runs).
#
#   make demo                                 local stack up, then its status (the lifecycle demo comes later)
#   make test                                 stack up, then the whole test suite (what CI runs)
#   make test PYTEST_ARGS=...                 any pytest arguments, e.g. a fast local run without e2e:
#   make test PYTEST_ARGS="-m 'not e2e'"
#   make down                                 stop what scripts/stack up started (data is kept)

SHELL := /bin/bash
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: demo test lint up down status

up:
	scripts/stack up

demo: up
	scripts/stack status

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
