"""Model store keys, object metadata and manifests (pure functions; S3 itself in tests/integration)."""

from __future__ import annotations

import json

import pytest

from tasks.core.errors import PermanentError
from tasks.core.model_store import ModelProvenance, build_manifest, model_prefix, numeric_metrics, object_metadata

pytestmark = pytest.mark.unit

SHA = "0f" * 32
PROVENANCE = ModelProvenance(
    "training", "abc123def456", "a" * 40, "val-abc123def456", {"accuracy": 0.91, "world_size": 2, "as_of": "2024"}
)


def test_prefix_is_versioned_and_content_addressed() -> None:
    assert model_prefix("training", "abc123def456", SHA) == f"training/abc123def456/{SHA}"


@pytest.mark.parametrize(("pipeline", "version"), [("", "v1"), ("training", ""), ("a/b", "v1"), ("training", "..")])
def test_prefix_refuses_names_that_would_escape_the_layout(pipeline: str, version: str) -> None:
    with pytest.raises(PermanentError, match="cannot store a model"):
        model_prefix(pipeline, version, SHA)


def test_object_metadata_carries_the_provenance() -> None:
    metadata = object_metadata(PROVENANCE, SHA)
    assert metadata["taxiway-sha256"] == SHA
    assert metadata["taxiway-git-sha"] == "a" * 40
    assert metadata["taxiway-execution-id"] == "val-abc123def456"
    assert json.loads(metadata["taxiway-metrics"]) == {"accuracy": 0.91, "as_of": "2024", "world_size": 2}
    assert all(value.isascii() for value in metadata.values())


def test_metrics_too_large_for_s3_metadata_stay_in_the_manifest_only() -> None:
    big = ModelProvenance("training", "v1", "a" * 40, "x", {f"metric_{i:04d}": 0.5 for i in range(200)})
    metadata = object_metadata(big, SHA)
    assert "taxiway-metrics" not in metadata
    assert sum(len(k) + len(v) for k, v in metadata.items()) <= 2048
    manifest = build_manifest(big, sha256=SHA, size=3, uri="s3://m/k", source_uri="s3://d/k")
    assert len(manifest["metrics"]) == 200


def test_manifest() -> None:
    manifest = build_manifest(PROVENANCE, sha256=SHA, size=42, uri="s3://taxiway-models/k", source_uri="s3://d/k")
    assert manifest["schema"] == "taxiway.dev/model-manifest/v1"
    assert manifest["checksum"] == {"sha256": SHA}
    assert (manifest["pipeline"], manifest["version"], manifest["size"]) == ("training", "abc123def456", 42)
    assert manifest["execution_id"] == "val-abc123def456"


def test_numeric_metrics_leave_out_strings_and_bools() -> None:
    assert numeric_metrics({"accuracy": 0.9, "world_size": 2, "as_of": "2024", "retrained": True}) == {
        "accuracy": 0.9,
        "world_size": 2.0,
    }
