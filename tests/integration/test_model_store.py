"""The model store on a real moto S3 server: content-addressed keys, metadata, manifest, idempotence."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localflyte.testing import MotoServer
from tasks.core.errors import PermanentError, SourceNotFound
from tasks.core.model_store import ModelProvenance, store_model

pytestmark = pytest.mark.integration

PROVENANCE = ModelProvenance("training", "abc123def456", "a" * 40, "val-1", {"accuracy": 0.9, "as_of": "2024"})


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-models", "taxiway-data"))
    yield boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    server.stop()


def test_store_then_store_again_is_a_no_op(s3: Any) -> None:
    data = b"torchscript archive bytes"
    sha = hashlib.sha256(data).hexdigest()
    s3.put_object(Bucket="taxiway-data", Key="production/training/out/model.pt", Body=data)
    source = "s3://taxiway-data/production/training/out/model.pt"

    first = store_model(s3, source, PROVENANCE)

    key = f"training/abc123def456/{sha}/model.pt"
    assert first.uri == f"s3://taxiway-models/{key}"
    assert first.created and first.sha256 == sha and first.size == len(data)
    head = s3.head_object(Bucket="taxiway-models", Key=key)
    assert head["Metadata"]["taxiway-sha256"] == sha
    assert head["Metadata"]["taxiway-execution-id"] == "val-1"
    manifest = json.loads(
        s3.get_object(Bucket="taxiway-models", Key=key.replace("model.pt", "manifest.json"))["Body"].read()
    )
    assert manifest["checksum"]["sha256"] == sha and manifest["source_uri"] == source
    modified = head["LastModified"]

    second = store_model(s3, source, PROVENANCE)
    assert not second.created and second.uri == first.uri
    assert s3.head_object(Bucket="taxiway-models", Key=key)["LastModified"] == modified


def test_local_file_source(s3: Any, tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"local model")
    stored = store_model(s3, f"file://{path}", PROVENANCE)
    assert s3.get_object(Bucket="taxiway-models", Key=stored.uri.split("/", 3)[3])["Body"].read() == b"local model"


def test_missing_model_and_missing_bucket_change_nothing(s3: Any) -> None:
    before = s3.list_objects_v2(Bucket="taxiway-models").get("KeyCount", 0)
    with pytest.raises(SourceNotFound, match="no model file"):
        store_model(s3, "s3://taxiway-data/nothing/model.pt", PROVENANCE)
    with pytest.raises(SourceNotFound, match="no model output"):
        store_model(s3, "", PROVENANCE)
    with pytest.raises(PermanentError, match="bucket missing-models does not exist") as caught:
        store_model(s3, "s3://taxiway-data/production/training/out/model.pt", PROVENANCE, bucket="missing-models")
    assert "create the bucket" in str(caught.value)
    assert s3.list_objects_v2(Bucket="taxiway-models").get("KeyCount", 0) == before
