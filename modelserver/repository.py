"""An MLServer model repository read from S3 (the layout in :mod:`modelserver.layout`).

Configured in the server's ``settings.json``::

    "model_repository_implementation": "modelserver.repository.S3ModelRepository",
    "model_repository_implementation_args": {"uri": "s3://taxiway-models/serving"}

MLServer's load handler (``POST /v2/repository/models/<name>/load``) loads every settings entry
``find(name)`` returns and unloads the versions of that name it no longer returns, so the server
follows what the repository lists.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections import defaultdict
from typing import Any

import boto3
from botocore.exceptions import ClientError
from mlserver.errors import ModelNotFound
from mlserver.repository import ModelRepository
from mlserver.settings import ModelSettings

from modelserver.layout import (
    ServedModel,
    ServingPointer,
    model_settings,
    parse_key,
    split_s3_uri,
    version_from_json,
)

logger = logging.getLogger(__name__)


class S3ModelRepository(ModelRepository):
    """Model settings built from the serving repository at ``uri``.

    :param root: MLServer passes its settings folder; unused (the repository lives on S3).
    :param uri: ``s3://bucket/prefix`` of the serving repository.
    """

    def __init__(self, root: str = "", uri: str = "", **_: Any) -> None:
        if not uri:
            raise ValueError("S3ModelRepository needs model_repository_implementation_args.uri (s3://bucket/prefix)")
        self._bucket, self._prefix = split_s3_uri(uri)
        self._uri = uri

    def _read(self) -> dict[str, list[dict[str, Any]]]:
        client = boto3.client("s3")
        versions: dict[str, list[ServedModel]] = defaultdict(list)
        pointers: dict[str, ServingPointer] = {}
        paginator = client.get_paginator("list_objects_v2")
        prefix = f"{self._prefix}/" if self._prefix else ""
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    parsed = parse_key(self._prefix, item["Key"])
                    if parsed is None:
                        continue
                    body = client.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
                    name, version = parsed
                    if version is None:
                        pointers[name] = ServingPointer.from_json(body)
                    else:
                        versions[name].append(version_from_json(body))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "NoSuchBucket":
                logger.warning("serving repository %s: bucket does not exist; serving nothing", self._uri)
                return {}
            raise
        names = set(versions) | set(pointers)
        return {name: model_settings(name, versions.get(name, ()), pointers.get(name)) for name in sorted(names)}

    async def list(self) -> builtins.list[ModelSettings]:
        found = await asyncio.to_thread(self._read)
        return [ModelSettings.model_validate(entry) for entries in found.values() for entry in entries]

    async def find(self, name: str) -> builtins.list[ModelSettings]:
        found = await asyncio.to_thread(self._read)
        if not found.get(name):
            raise ModelNotFound(name)
        return [ModelSettings.model_validate(entry) for entry in found[name]]
