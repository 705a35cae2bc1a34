"""The metadata blob store (the local S3): offloaded literal maps and presigned URLs.

Layout follows flyteadmin's ``common.OffloadLiteralMap``: ``s3://<bucket>/metadata/<key parts...>``
(``flyteadmin/pkg/common/data_store.go``), so inputs land at
``s3://<bucket>/metadata/<project>/<domain>/<name>/inputs``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
import grpc
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from flyteidl.core import literals_pb2
from google.protobuf.message import DecodeError

from localflyte.errors import AdminError, invalid_argument
from localflyte.settings import ServerSettings

log = logging.getLogger(__name__)

# flyteadmin's remoteData.maxSizeInBytes default: larger data is returned as a URL only.
MAX_INLINE_BYTES = 2 * 1024 * 1024


def internal(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.INTERNAL, message)


@dataclass(frozen=True)
class BlobLocation:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @staticmethod
    def parse(uri: str) -> BlobLocation:
        parsed = urlparse(uri)
        if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
            raise invalid_argument(f"unsupported data location [{uri}]: localflyte stores data on s3:// only")
        return BlobLocation(parsed.netloc, parsed.path.lstrip("/"))


class BlobStore:
    """Reads and writes protobufs on the local S3 and signs URLs for it (s3v4, as moto requires)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.bucket = settings.bucket
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = boto3.client(
                    "s3",
                    endpoint_url=self._settings.s3_endpoint,
                    aws_access_key_id=self._settings.s3_access_key,
                    aws_secret_access_key=self._settings.s3_secret_key,
                    region_name=self._settings.s3_region,
                    config=BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
                )
            return self._client

    def metadata_location(self, *parts: str) -> BlobLocation:
        return BlobLocation(self.bucket, "/".join(["metadata", *(part for part in parts if part)]))

    def write_literal_map(self, literal_map: literals_pb2.LiteralMap | None, *parts: str) -> str:
        """``OffloadLiteralMap``: write the map (empty when None) and return its s3:// URI."""
        location = self.metadata_location(*parts)
        self.put_bytes(location, (literal_map or literals_pb2.LiteralMap()).SerializeToString())
        return location.uri

    def put_bytes(self, location: BlobLocation, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=location.bucket, Key=location.key, Body=data)
        except (BotoCoreError, ClientError) as error:
            raise internal(f"Failed to write protobuf for [{location.uri}] with err: {error}") from error

    def get_bytes(self, uri: str) -> bytes:
        location = BlobLocation.parse(uri)
        try:
            response = self.client.get_object(Bucket=location.bucket, Key=location.key)
            return bytes(response["Body"].read())
        except (BotoCoreError, ClientError) as error:
            raise internal(f"failed to read data from [{uri}]: {error}") from error

    def read_literal_map(self, uri: str) -> literals_pb2.LiteralMap:
        literal_map = literals_pb2.LiteralMap()
        if not uri:
            return literal_map
        try:
            literal_map.ParseFromString(self.get_bytes(uri))
        except DecodeError as error:
            raise internal(f"data at [{uri}] is not a LiteralMap: {error}") from error
        return literal_map

    def size(self, uri: str) -> int | None:
        """Size in bytes, or None when nothing is stored there."""
        location = BlobLocation.parse(uri)
        try:
            head = self.client.head_object(Bucket=location.bucket, Key=location.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise internal(f"failed to check [{uri}]: {error}") from error
        except BotoCoreError as error:
            raise internal(f"failed to check [{uri}]: {error}") from error
        return int(head["ContentLength"])

    def head_md5(self, uri: str) -> str | None:
        """The object's ETag (moto: hex md5 for single-part uploads), or None when absent."""
        location = BlobLocation.parse(uri)
        try:
            head = self.client.head_object(Bucket=location.bucket, Key=location.key)
        except ClientError:
            return None
        return str(head.get("ETag", "")).strip('"')

    def presign_get(self, uri: str, expires_in: int) -> str:
        location = BlobLocation.parse(uri)
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": location.bucket, "Key": location.key}, ExpiresIn=expires_in
            )
        )

    def presign_put(self, location: BlobLocation, content_md5_b64: str, expires_in: int) -> str:
        params: dict[str, str] = {"Bucket": location.bucket, "Key": location.key}
        if content_md5_b64:
            params["ContentMD5"] = content_md5_b64
        return str(self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in))
