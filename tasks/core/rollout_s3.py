"""The few S3 calls the model store and the serving repository make, with errors translated once.

An unreachable store or a 5xx is :class:`~tasks.core.errors.StorageUnavailable` (botocore has already
retried it); a missing bucket or a refused call is a :class:`~tasks.core.errors.PermanentError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasks.core.errors import PermanentError, SourceNotFound, StorageUnavailable

logger = logging.getLogger(__name__)

_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict")


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``.

    :raises PermanentError: if ``uri`` is not an ``s3://bucket/key`` URI.
    """
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise PermanentError(f"expected an s3://bucket/key URI, got {uri!r}", fix="check the model output's URI")
    return bucket, key


def translate(err: Exception, where: str) -> Exception:
    """A boto error as a Taxiway error: unreachable or 5xx is transient; a missing bucket says which."""
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", ""))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
            return StorageUnavailable(f"blob store answered {code or status}", where=where)
        if code == "NoSuchBucket":
            bucket = where.removeprefix("s3://").split("/", 1)[0]
            return PermanentError(
                f"bucket {bucket} does not exist",
                where=where,
                fix=f"create the bucket {bucket} (scripts/stack up creates taxiway-models) or configure another one",
            )
        return PermanentError(f"blob store refused the request ({code or status})", where=where)
    return StorageUnavailable(f"blob store unreachable ({type(err).__name__})", where=where)


class S3Objects:
    """Head, get, put, delete and list over one boto3 S3 client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def _call(self, where: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except (ClientError, BotoCoreError) as err:
            raise translate(err, where) from err

    def check_bucket(self, bucket: str) -> None:
        """Raise a clear PermanentError if ``bucket`` does not exist."""
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in (*_NOT_FOUND, "NoSuchBucket"):
                err.response["Error"]["Code"] = "NoSuchBucket"
            raise translate(err, f"s3://{bucket}") from err
        except BotoCoreError as err:
            raise translate(err, f"s3://{bucket}") from err

    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        """The object's head (``Metadata``, ``ContentLength``, ...), or None when it does not exist."""
        try:
            return dict(self.client.head_object(Bucket=bucket, Key=key))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return None
            raise translate(err, f"s3://{bucket}/{key}") from err
        except BotoCoreError as err:
            raise translate(err, f"s3://{bucket}/{key}") from err

    def get(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        try:
            return bytes(self.client.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return None
            raise translate(err, f"s3://{bucket}/{key}") from err
        except BotoCoreError as err:
            raise translate(err, f"s3://{bucket}/{key}") from err

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
        create_only: bool = False,
    ) -> bool:
        """Write the object; with ``create_only`` an existing object wins. Returns whether this call wrote it."""
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data, "ContentType": content_type}
        if metadata:
            kwargs["Metadata"] = dict(metadata)
        if create_only:
            kwargs["IfNoneMatch"] = "*"
        try:
            self.client.put_object(**kwargs)
            return True
        except ClientError as err:
            if create_only and err.response.get("Error", {}).get("Code") in _CONFLICT:
                logger.info("object written meanwhile by another run uri=s3://%s/%s", bucket, key)
                return False
            raise translate(err, f"s3://{bucket}/{key}") from err
        except BotoCoreError as err:
            raise translate(err, f"s3://{bucket}/{key}") from err

    def delete(self, bucket: str, key: str) -> None:
        self._call(f"s3://{bucket}/{key}", "delete_object", Bucket=bucket, Key=key)

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield str(item["Key"])
        except (ClientError, BotoCoreError) as err:
            raise translate(err, f"s3://{bucket}/{prefix}") from err

    def read_uri(self, uri: str) -> bytes:
        """The bytes of a model output: ``s3://bucket/key``, ``file://path`` or a local path.

        :raises SourceNotFound: if nothing is there.
        """
        if uri.startswith("s3://"):
            bucket, key = split_uri(uri)
            data = self.get(bucket, key)
            if data is None:
                raise SourceNotFound("no model file at the model output's URI", where=uri)
            return data
        path = Path(uri.removeprefix("file://"))
        if not path.is_file():
            raise SourceNotFound("no model file at the model output's path", where=uri)
        return path.read_bytes()
