"""S3 errors while storing a release's package and copying a model, through an HTTP fault proxy.

A moto server of this module's own stands behind :class:`S3FaultProxy`, which forwards every request
unchanged unless a fault is armed: then it answers ``503 SlowDown`` (what S3 answers when throttling)
for the next N writes, or for every write. The S3 client is the one the ``@task`` layer builds
(:func:`tasks.clients.s3_client`, endpoint from ``$AWS_ENDPOINT_URL``), so its real retry policy is
what is under test. Each test asserts the objects left in moto.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from localflyte.testing import MotoServer
from tasks.clients import s3_client
from tasks.core.errors import StorageUnavailable
from tasks.core.model_store import MODEL_BUCKET, ModelProvenance, store_model
from tasks.core.package_store import PACKAGE_PREFIX, store_package
from tests.reliability.http_stub import Answer, HttpStub, Request
from tests.unit.core.test_register_package import build_package

pytestmark = pytest.mark.integration

DATA = "taxiway-data"
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message><RequestId>fault-proxy</RequestId></Error>"
)
PROVENANCE = ModelProvenance("training", "abc123def456", "a" * 40, "val-1", {"accuracy": 0.9})
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "date", "server"}


class S3FaultProxy:
    """Forwards S3 requests to ``upstream``; answers 503 SlowDown to the next ``remaining`` writes when armed.

    :param upstream: the moto endpoint (``http://127.0.0.1:port``).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.remaining: int | None = 0  # None: every write fails
        self.faulted: list[tuple[float, str]] = []  # (time, path) of each write answered with SlowDown
        self._session = requests.Session()
        self._stub = HttpStub(self._answer)

    @property
    def endpoint(self) -> str:
        return f"http://{self._stub.address}"

    def arm(self, count: int | None) -> None:
        self.remaining, self.faulted = count, []

    def _answer(self, request: Request) -> Answer:
        if request.method in ("PUT", "POST") and (self.remaining is None or self.remaining > 0):
            if self.remaining is not None:
                self.remaining -= 1
            self.faulted.append((time.monotonic(), request.path))
            return Answer(503, {"Content-Type": "application/xml"}, SLOW_DOWN)
        # The Host header stays the proxy's: it is what the client signed.
        forwarded = self._session.request(
            request.method, self.upstream + request.path, headers=request.headers, data=request.body, timeout=30
        )
        headers = {k: v for k, v in forwarded.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Answer(forwarded.status_code, headers, forwarded.content)

    def stop(self) -> None:
        self._stub.stop()


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=(DATA, MODEL_BUCKET))
    yield server
    server.stop()


@pytest.fixture
def proxy(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3FaultProxy]:
    fault_proxy = S3FaultProxy(moto.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.endpoint)
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "FLYTE_AWS_ACCESS_KEY_ID",
        "FLYTE_AWS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.setenv(name, "testing")
    yield fault_proxy
    fault_proxy.stop()


@pytest.fixture
def direct(moto: MotoServer) -> Any:
    """A client straight to moto, to read the final state past the proxy."""
    return boto3.client("s3", endpoint_url=moto.endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("pkg"))


def keys(client: Any, bucket: str, prefix: str) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_package_upload_throttled_twice_is_retried_with_backoff_and_stored_once(
    proxy: S3FaultProxy, direct: Any, archive: Path
) -> None:
    pipeline = "throttled"
    proxy.arm(2)
    ref = store_package(s3_client(), archive, bucket=DATA, pipeline=pipeline)
    assert len(proxy.faulted) == 2 and proxy.remaining == 0
    assert proxy.faulted[1][0] > proxy.faulted[0][0], "the retry came after a pause"
    assert keys(direct, DATA, f"{PACKAGE_PREFIX}/{pipeline}/") == [ref.uri.split("/", 3)[3]]
    stored = direct.get_object(Bucket=DATA, Key=ref.uri.split("/", 3)[3])["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == ref.content_hash == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_package_upload_throttled_forever_is_storage_unavailable_and_writes_nothing(
    proxy: S3FaultProxy, direct: Any, archive: Path
) -> None:
    pipeline = "throttled-forever"
    proxy.arm(None)
    with pytest.raises(StorageUnavailable) as caught:
        store_package(s3_client(), archive, bucket=DATA, pipeline=pipeline)
    assert caught.value.retryable and "SlowDown" in str(caught.value)
    assert f"s3://{DATA}/{PACKAGE_PREFIX}/{pipeline}/" in str(caught.value), "names the object"
    assert len(proxy.faulted) > 1, "retried before giving up"
    assert keys(direct, DATA, f"{PACKAGE_PREFIX}/{pipeline}/") == []
    proxy.arm(0)  # the fault clears: a rerun stores it
    assert store_package(s3_client(), archive, bucket=DATA, pipeline=pipeline).uri


def _model_source(direct: Any, name: str) -> str:
    key = f"production/training/out/{name}/model.pt"
    direct.put_object(Bucket=DATA, Key=key, Body=b"weights " + name.encode() * 100)
    return f"s3://{DATA}/{key}"


def test_model_copy_throttled_is_retried_and_stored_with_its_manifest(proxy: S3FaultProxy, direct: Any) -> None:
    source = _model_source(direct, "throttled")
    proxy.arm(3)
    stored = store_model(s3_client(), source, PROVENANCE)
    assert len(proxy.faulted) == 3 and stored.created
    prefix = stored.uri.split("/", 3)[3].rsplit("/", 1)[0]
    assert sorted(keys(direct, MODEL_BUCKET, prefix)) == sorted(
        [stored.uri.split("/", 3)[3], stored.manifest_uri.split("/", 3)[3]]
    )
    body = direct.get_object(Bucket=MODEL_BUCKET, Key=stored.uri.split("/", 3)[3])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == stored.sha256


def test_model_copy_throttled_forever_is_storage_unavailable_and_writes_nothing(
    proxy: S3FaultProxy, direct: Any
) -> None:
    source = _model_source(direct, "forever")
    before = keys(direct, MODEL_BUCKET, "")
    proxy.arm(None)
    with pytest.raises(StorageUnavailable) as caught:
        store_model(s3_client(), source, PROVENANCE)
    assert caught.value.retryable and f"s3://{MODEL_BUCKET}/" in str(caught.value)
    assert keys(direct, MODEL_BUCKET, "") == before, "no model, no manifest"
