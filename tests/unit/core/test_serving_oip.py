"""The serving repository contract (modelserver.layout) and the OIP target's pure helpers."""

from __future__ import annotations

import pytest

from modelserver.layout import (
    RUNTIME,
    ServedModel,
    ServingPointer,
    model_settings,
    parse_key,
    pointer_key,
    split_s3_uri,
    version_from_json,
    version_key,
    version_to_json,
)
from tasks.core.rollout_errors import redact_url

pytestmark = pytest.mark.unit

SHA = "12" * 32
V1 = ServedModel("clf", "v1", "s3://m/training/v1/x/model.pt", SHA)
V2 = ServedModel("clf", "v2", "s3://m/training/v2/x/model.pt", SHA)


def test_keys_round_trip() -> None:
    assert pointer_key("serving", "clf") == "serving/clf/default.json"
    assert version_key("serving/", "clf", "v1") == "serving/clf/versions/v1.json"
    assert parse_key("serving", "serving/clf/default.json") == ("clf", None)
    assert parse_key("serving", "serving/clf/versions/v1.json") == ("clf", "v1")
    assert parse_key("", "clf/versions/v1.json") == ("clf", "v1")
    assert parse_key("serving", "other/clf/default.json") is None
    assert parse_key("serving", "serving/clf/notes.txt") is None


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "v 1", "x" * 129])
def test_versions_must_be_path_safe(bad: str) -> None:
    with pytest.raises(ValueError, match="model version"):
        version_key("serving", "clf", bad)


def test_split_s3_uri() -> None:
    assert split_s3_uri("s3://taxiway-models/serving/") == ("taxiway-models", "serving")
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        split_s3_uri("http://x")


def test_documents_round_trip() -> None:
    pointer = ServingPointer(V2, V1)
    assert ServingPointer.from_json(pointer.to_json()) == pointer
    assert version_from_json(version_to_json(V1)) == V1
    with pytest.raises(ValueError, match="sha256"):
        ServedModel("clf", "v1", "s3://x", "nothex")


def test_alias_comes_first_and_is_unversioned() -> None:
    settings = model_settings("clf", [V2, V1], ServingPointer(V1))
    assert [s["parameters"].get("version") for s in settings] == [None, "v1", "v2"]
    alias = settings[0]["parameters"]
    assert alias["uri"] == V1.uri and alias["extra"] == {"sha256": SHA, "release_version": "v1"}
    assert {s["implementation"] for s in settings} == {RUNTIME}


def test_before_the_first_switch_the_alias_is_a_placeholder() -> None:
    settings = model_settings("clf", [V1], None)
    assert settings[0]["parameters"] == {"extra": {}}
    assert model_settings("clf", [], None) == []


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("http://user:s3cret@127.0.0.1:30092/v2?token=abc", "http://127.0.0.1:30092/v2"),
        ("https://models.example.com", "https://models.example.com"),
    ],
)
def test_redact_url(url: str, safe: str) -> None:
    assert redact_url(url) == safe
