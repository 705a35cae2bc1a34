"""DataProxyService: presigned upload / download URLs on the local S3.

Port of ``flyteadmin/dataproxy/service.go``: uploads are content-addressed under
``<bucket>/<upload prefix>/<org>/<project>/<domain>/<base32(md5) | filename_root>/<filename>``, and
URLs are signed with s3v4 including Content-MD5 (what flytekit's ``upload_file`` PUT sends).
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any

from flyteidl.service import dataproxy_pb2

from localflyte.context import AppContext
from localflyte.errors import already_exists, invalid_argument, not_found
from localflyte.execution.common import timestamp
from localflyte.execution.nodes import NodeExecutionManager
from localflyte.storage import BlobLocation, BlobStore

Handler = Callable[[Any], Any]
# flyteadmin's defaults: upload.maxExpiresIn 1h, download.maxExpiresIn 1h, defaultFileNameLength 20.
MAX_EXPIRES_SECONDS = 3600
DEFAULT_FILENAME_LENGTH = 20


def _expires_in(request: Any, field: str = "expires_in") -> int:
    if not request.HasField(field):
        return MAX_EXPIRES_SECONDS
    seconds = getattr(request, field).ToTimedelta().total_seconds()
    if seconds < 0:
        raise invalid_argument(f"expiresIn [{seconds}s] should not less than 0")
    if seconds > MAX_EXPIRES_SECONDS:
        raise invalid_argument(
            f"expiresIn [{seconds:g}s] cannot exceed max allowed expiration [{MAX_EXPIRES_SECONDS // 60}m0s]"
        )
    return int(seconds) or MAX_EXPIRES_SECONDS


class DataProxy:
    def __init__(self, context: AppContext, blobs: BlobStore, nodes: NodeExecutionManager) -> None:
        self._context = context
        self._blobs = blobs
        self._nodes = nodes
        self._prefix = context.settings.upload_prefix

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "DataProxyService.CreateUploadLocation": self.create_upload_location,
            "DataProxyService.CreateDownloadLocation": self.create_download_location,
            "DataProxyService.CreateDownloadLink": self.create_download_link,
        }

    def location(self, *parts: str) -> BlobLocation:
        """``createStorageLocation``: empty parts are dropped."""
        return BlobLocation(self._blobs.bucket, "/".join(part for part in (self._prefix, *parts) if part))

    def create_upload_location(self, request: dataproxy_pb2.CreateUploadLocationRequest) -> Any:
        if not request.project or not request.domain:
            raise invalid_argument("project and domain are required parameters")
        if not request.filename_root and not request.content_md5:
            raise invalid_argument("content_md5 or filename_root is a required parameter")
        md5_b64 = base64.b64encode(request.content_md5).decode() if request.content_md5 else ""
        if request.filename and request.filename_root:
            known = self.location(request.org, request.project, request.domain, request.filename_root, request.filename)
            etag = self._blobs.head_md5(known.uri)
            if etag is not None and (not request.content_md5 or etag != request.content_md5.hex()):
                raise already_exists(
                    f"file already exists at location [{known.uri}], specify a matching hash if you wish to rewrite"
                )
        expires_in = _expires_in(request)
        filename = request.filename or "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(DEFAULT_FILENAME_LENGTH)
        )
        prefix = request.filename_root or base64.b32encode(request.content_md5).decode()
        location = self.location(request.org, request.project, request.domain, prefix, filename)
        headers = {"Content-MD5": md5_b64} if md5_b64 else {}
        return dataproxy_pb2.CreateUploadLocationResponse(
            signed_url=self._blobs.presign_put(location, md5_b64, expires_in),
            native_url=location.uri,
            expires_at=timestamp(self._context.clock.now() + expires_in),
            headers=headers,
        )

    def create_download_location(self, request: dataproxy_pb2.CreateDownloadLocationRequest) -> Any:
        expires_in = _expires_in(request)
        try:
            signed = self._blobs.presign_get(request.native_url, expires_in)
        except Exception as error:  # any unparsable URL is the caller's mistake
            raise invalid_argument(f"error while validating request: {error}") from None
        return dataproxy_pb2.CreateDownloadLocationResponse(
            signed_url=signed, expires_at=timestamp(self._context.clock.now() + expires_in)
        )

    def create_download_link(self, request: dataproxy_pb2.CreateDownloadLinkRequest) -> Any:
        """Signed URL for an execution artifact; flyteadmin supports the node's Deck only."""
        expires_in = _expires_in(request)
        if request.artifact_type == dataproxy_pb2.ARTIFACT_TYPE_UNDEFINED:
            raise invalid_argument(
                "error while validating request. Error: invalid artifact type [ARTIFACT_TYPE_UNDEFINED]"
            )
        if not request.HasField("node_execution_id"):
            raise invalid_argument("error while validating request. Error: source is required. Provided nil")
        node = self._nodes.to_admin(self._nodes.row(request.node_execution_id))
        deck_uri = node.closure.deck_uri
        if not deck_uri:
            raise not_found(f"no deckUrl found for request [{request}]")
        if self._blobs.size(deck_uri) is None:
            raise not_found("object not found")
        signed = self._blobs.presign_get(deck_uri, expires_in)
        expires_at = timestamp(self._context.clock.now() + expires_in)
        return dataproxy_pb2.CreateDownloadLinkResponse(
            signed_url=[signed],
            expires_at=expires_at,
            pre_signed_urls=dataproxy_pb2.PreSignedURLs(signed_url=[signed], expires_at=expires_at),
        )
