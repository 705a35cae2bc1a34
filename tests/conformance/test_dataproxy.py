"""DataProxyService against flyteadmin's ``flyteadmin/dataproxy/service.go``, through a real FlyteRemote."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
import requests
from flyteidl.service import dataproxy_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import Config
from flytekit.exceptions.user import FlyteEntityAlreadyExistsException, FlyteInvalidInputException
from flytekit.remote import FlyteRemote
from google.protobuf.duration_pb2 import Duration

pytestmark = pytest.mark.conformance


@pytest.fixture
def remote(flyte_config: Config) -> FlyteRemote:
    # The data proxy does not check that the project exists (flyteadmin does not either).
    return FlyteRemote(flyte_config, default_project="dataproxy", default_domain="development")


def test_upload_file_is_content_addressed(remote: FlyteRemote, tmp_path: Path) -> None:
    """service.go CreateUploadLocation: <prefix>/<project>/<domain>/<base32(md5)>/<filename>, PUT accepted."""
    payload = tmp_path / "bundle.txt"
    payload.write_bytes(b"taxiway release bundle\n")
    md5_bytes, native_url = remote.upload_file(payload)
    digest = hashlib.md5(payload.read_bytes()).digest()
    assert md5_bytes == digest
    prefix = base64.b32encode(digest).decode()
    assert native_url == f"s3://taxiway-data/uploads/dataproxy/development/{prefix}/bundle.txt"
    again_md5, again_url = remote.upload_file(payload)
    assert (again_md5, again_url) == (md5_bytes, native_url)


def test_fast_package_then_download(remote: FlyteRemote, tmp_path: Path) -> None:
    """service.go CreateUploadLocation + CreateDownloadLocation: a fast-register bundle round-trips."""
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "__init__.py").write_text("")
    (source / "pkg" / "wf.py").write_text("VALUE = 42\n")
    (tmp_path / "out").mkdir()
    _, native_url = remote.fast_package(source, output=str(tmp_path / "out"))
    assert native_url.startswith("s3://taxiway-data/uploads/dataproxy/development/")
    assert native_url.endswith(".tar.gz")
    response = remote.client.get_download_signed_url(native_url)
    downloaded = requests.get(response.signed_url, timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content[:2] == b"\x1f\x8b"  # a gzip stream


def test_upload_location_requires_md5_or_filename_root(client: SynchronousFlyteClient) -> None:
    """service.go CreateUploadLocation: content_md5 or filename_root is a required parameter."""
    with pytest.raises(FlyteInvalidInputException, match="content_md5 or filename_root"):
        client.create_upload_location(
            dataproxy_pb2.CreateUploadLocationRequest(project="p", domain="development", filename="x")
        )


def test_upload_location_requires_project_and_domain(client: SynchronousFlyteClient) -> None:
    """service.go CreateUploadLocation: project and domain are required parameters."""
    with pytest.raises(FlyteInvalidInputException, match="project and domain are required"):
        client.create_upload_location(dataproxy_pb2.CreateUploadLocationRequest(content_md5=b"x" * 16))


def test_upload_location_expiry_is_bounded(client: SynchronousFlyteClient) -> None:
    """service.go CreateUploadLocation: expiresIn cannot exceed the configured maximum (1h)."""
    with pytest.raises(FlyteInvalidInputException, match="cannot exceed max allowed expiration"):
        client.create_upload_location(
            dataproxy_pb2.CreateUploadLocationRequest(
                project="p", domain="development", content_md5=b"x" * 16, expires_in=Duration(seconds=7200)
            )
        )


def test_named_upload_refuses_different_content(client: SynchronousFlyteClient, tmp_path: Path) -> None:
    """service.go CreateUploadLocation: an existing filename_root/filename with another hash → ALREADY_EXISTS."""
    content = b"first version"
    md5 = hashlib.md5(content).digest()
    response = client.get_upload_signed_url(
        project="p", domain="development", content_md5=md5, filename="a.txt", filename_root="fixed"
    )
    headers = {"Content-MD5": base64.b64encode(md5).decode(), "Content-Length": str(len(content))}
    assert requests.put(response.signed_url, data=content, headers=headers, timeout=10).status_code in (200, 201)
    same = client.get_upload_signed_url(
        project="p", domain="development", content_md5=md5, filename="a.txt", filename_root="fixed"
    )
    assert same.native_url == response.native_url
    with pytest.raises(FlyteEntityAlreadyExistsException, match="file already exists"):
        client.create_upload_location(
            dataproxy_pb2.CreateUploadLocationRequest(
                project="p", domain="development", content_md5=hashlib.md5(b"other").digest(),
                filename="a.txt", filename_root="fixed",
            )
        )  # fmt: skip


def test_download_link_needs_an_artifact_type(client: SynchronousFlyteClient) -> None:
    """service.go CreateDownloadLink: ARTIFACT_TYPE_UNDEFINED is invalid."""
    with pytest.raises(FlyteInvalidInputException, match="invalid artifact type"):
        client._dataproxy_stub.CreateDownloadLink(dataproxy_pb2.CreateDownloadLinkRequest())
