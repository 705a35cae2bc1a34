"""Which missing images the docker runtime may pull: only from a registry on the loopback interface."""

from __future__ import annotations

import pytest

from localflyte.executor.runtimes import loopback_registry, split_reference

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("127.0.0.1:30000/taxiway/meta:51077531a7d94d16", ("127.0.0.1:30000/taxiway/meta", "51077531a7d94d16")),
        ("127.0.0.1:30000/taxiway/meta", ("127.0.0.1:30000/taxiway/meta", "latest")),
        ("localhost:5000/x@sha256:" + "a" * 64, ("localhost:5000/x", "sha256:" + "a" * 64)),
        ("taxiway/meta:dev", ("taxiway/meta", "dev")),
        ("python", ("python", "latest")),
    ],
)
def test_split_reference(image: str, expected: tuple[str, str]) -> None:
    assert split_reference(image) == expected


@pytest.mark.parametrize(
    ("image", "pullable"),
    [
        ("127.0.0.1:30000/taxiway/meta:dev", True),
        ("localhost:5000/x:1", True),
        ("localhost/x:1", True),
        ("taxiway/meta:dev", False),  # Docker Hub
        ("python:3.11-slim", False),
        ("ghcr.io/flyteorg/flytekit:py3.11", False),
        ("127.0.0.2:30000/x:1", False),
        ("127.0.0.1.example.com/x:1", False),
    ],
)
def test_only_loopback_registries_are_pulled_from(image: str, pullable: bool) -> None:
    assert loopback_registry(image) is pullable
