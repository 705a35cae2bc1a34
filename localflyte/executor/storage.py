"""A small blob store over the local S3 (moto): what the executor reads and writes for each node."""

from __future__ import annotations

import logging
from typing import Any, TypeVar
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError
from google.protobuf.message import Message

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)


class BlobNotFoundError(LookupError):
    """No object at the given URI."""


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
        raise ValueError(f"expected an s3://bucket/key URI, got {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


class BlobStore:
    """Read and write protobufs and bytes at ``s3://`` URIs on one S3 endpoint."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1") -> None:
        self.endpoint = endpoint
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )

    def write(self, uri: str, data: bytes) -> None:
        bucket, key = split_uri(uri)
        self._client.put_object(Bucket=bucket, Key=key, Body=data)

    def read(self, uri: str) -> bytes:
        bucket, key = split_uri(uri)
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise BlobNotFoundError(f"no object at {uri}") from error
            raise
        data: bytes = response["Body"].read()
        return data

    def exists(self, uri: str) -> bool:
        bucket, key = split_uri(uri)
        try:
            self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def write_proto(self, uri: str, message: Message) -> None:
        self.write(uri, message.SerializeToString())

    def read_proto(self, uri: str, message_type: type[M]) -> M:
        message = message_type()
        message.ParseFromString(self.read(uri))
        return message
