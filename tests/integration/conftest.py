"""Fixtures for integration tests: names of what ``scripts/stack up`` provides."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def base_image(stack_env: dict[str, str]) -> str:
    """The local Python 3.11 base image (``taxiway/base:bookworm-py311``), present in the engine."""
    return stack_env["TAXIWAY_BASE_IMAGE"]
