"""The one blob store of a localflyte instance: the local S3 (moto), for the control plane and the executor.

Two families of methods share one boto3 client:

- the executor's (``write``/``read``/``exists``/``write_proto``/``read_proto``) raise
  :class:`BlobNotFoundError` for a missing object and let other S3 errors through;
- the control plane's (``put_bytes``/``get_bytes``/``read_literal_map``/``size``/presigning) turn S3
  errors into ``AdminError(INTERNAL)`` with flyteadmin's messages, because they run inside RPCs.

Metadata layout follows flyteadmin's ``common.OffloadLiteralMap``: ``s3://<bucket>/metadata/<key parts...>``
(``flyteadmin/pkg/common/data_store.go``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import boto3
import grpc
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from flyteidl.core import literals_pb2
from google.protobuf.message import DecodeError, Message

from localflyte.errors import AdminError, invalid_argument
from localflyte.settings import ServerSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

# flyteadmin's remoteData.maxSizeInBytes default: larger data is returned as a URL only.
MAX_INLINE_BYTES = 2 * 1024 * 1024
_MISSING_CODES = ("NoSuchKey", "404", "NotFound")


class BlobNotFoundError(LookupError):
    """No object at the given URI."""


def internal(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.INTERNAL, message)


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
        raise ValueError(f"expected an s3://bucket/key URI, got {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


@dataclass(frozen=True)
class BlobLocation:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @staticmethod
    def parse(uri: str) -> BlobLocation:
        """For RPC handlers: an unusable URI is the caller's INVALID_ARGUMENT."""
        try:
            bucket, key = split_uri(uri)
        except ValueError:
            raise invalid_argument(f"unsupported data location [{uri}]: localflyte stores data on s3:// only") from None
        return BlobLocation(bucket, key)


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _MISSING_CODES


class BlobStore:
    """Protobufs and bytes at ``s3://`` URIs on one S3 endpoint, plus presigned URLs (s3v4, as moto needs).

    :param bucket: the metadata bucket (FlyteAdmin's ``storage.container``); only the control plane's
        ``metadata_location`` uses it.
    """

    def __init__(
        self, endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1", bucket: str = ""
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self._credentials = (access_key, secret_key, region)
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> BlobStore:
        return cls(
            settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, settings.s3_region, settings.bucket
        )

    @property
    def client(self) -> Any:
        # Created lazily: localflyte starts (and serves registration) before the S3 endpoint is needed.
        with self._lock:
            if self._client is None:
                access_key, secret_key, region = self._credentials
                self._client = boto3.client(
                    "s3",
                    endpoint_url=self.endpoint,
                    aws_access_key_id=access_key,
                    aws_secret_access_key=secret_key,
                    region_name=region,
                    config=BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
                )
            return self._client

    # The executor's methods --------------------------------------------------------------------------

    def write(self, uri: str, data: bytes) -> None:
        bucket, key = split_uri(uri)
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def read(self, uri: str) -> bytes:
        bucket, key = split_uri(uri)
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                raise BlobNotFoundError(f"no object at {uri}") from error
            raise
        data: bytes = response["Body"].read()
        return data

    def exists(self, uri: str) -> bool:
        bucket, key = split_uri(uri)
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return False
            raise
        return True

    def write_proto(self, uri: str, message: Message) -> None:
        self.write(uri, message.SerializeToString())

    def read_proto(self, uri: str, message_type: type[M]) -> M:
        message = message_type()
        message.ParseFromString(self.read(uri))
        return message

    # The control plane's methods ---------------------------------------------------------------------

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
            if _is_missing(error):
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
