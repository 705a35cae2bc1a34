"""The entity package as a content-addressed artifact: normalized, hashed, stored once, read back.

``pyflyte package`` writes the same entities for the same commit, but stamps the archive with the
time, writes protobuf maps in hash-seed order and lists upstream nodes in set order. So
:func:`normalize_archive` re-packs it (sorted members, zero mtimes and owners, no gzip timestamp,
protos re-serialized deterministically with sorted upstream ids): one commit serialized twice gives
one sha256. :func:`store_package` uploads it to
``s3://<bucket>/taxiway/packages/<pipeline>/<sha256>.tgz`` unless that key exists, with a
conditional write so two runs never clobber each other.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import re
import tarfile
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from google.protobuf.message import DecodeError, Message

from tasks.core.errors import PermanentError, SourceNotFound, StorageUnavailable
from tasks.core.records import PackageRef
from tasks.core.register_package import load_package

logger = logging.getLogger(__name__)

PACKAGE_PREFIX = "taxiway/packages"
_ENTITY_FILE = re.compile(r"^\d+_.+_(?P<type>[123])\.pb$")
_ENTITY_TYPES: dict[str, type[Message]] = {
    "1": task_pb2.TaskSpec,
    "2": workflow_pb2.WorkflowSpec,
    "3": launch_plan_pb2.LaunchPlan,
}


class EntityKind(StrEnum):
    """What a ``.pb`` file in a package holds (pyflyte's numbering: 1 task, 2 workflow, 3 launch plan)."""

    TASK = "task"
    WORKFLOW = "workflow"
    LAUNCH_PLAN = "launch_plan"


def normalize_archive(archive: Path, destination: Path) -> Path:
    """Re-pack ``archive`` deterministically into ``destination`` (regular files only, sorted by name).

    :raises PermanentError: if ``archive`` is not a readable tar archive.
    """
    try:
        with tarfile.open(archive, "r:*") as source:
            members = sorted((m for m in source.getmembers() if m.isfile()), key=lambda m: m.name)
            files = [(m.name, source.extractfile(m).read()) for m in members]  # type: ignore[union-attr]
        files = [(name, _deterministic(name, data)) for name, data in files]
    except (tarfile.TarError, OSError, DecodeError) as err:
        raise PermanentError(f"pyflyte wrote an unreadable package ({err})", where=str(archive)) from err
    with (
        destination.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as target,
    ):
        for name, data in files:
            info = tarfile.TarInfo(Path(name).name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            target.addfile(info, io.BytesIO(data))
    return destination


def _deterministic(name: str, data: bytes) -> bytes:
    """Entity protos re-serialized with sorted map keys (their map order depends on Python's hash seed)."""
    match = _ENTITY_FILE.match(Path(name).name)
    if match is None:
        return data
    message = _ENTITY_TYPES[match["type"]]()
    message.ParseFromString(data)
    _sort_upstream_ids(message)
    return message.SerializeToString(deterministic=True)


def _sort_upstream_ids(message: Message) -> None:
    """Sort every node's ``upstream_node_ids``: flytekit builds them from a set of nodes hashed by identity."""
    for field, value in message.ListFields():
        if field.name == "upstream_node_ids":
            ordered = sorted(value)
            del value[:]
            value.extend(ordered)
        elif field.type == field.TYPE_MESSAGE:
            if field.is_repeated:
                is_map = field.message_type.GetOptions().map_entry
                for item in value.values() if is_map else value:
                    if isinstance(item, Message):
                        _sort_upstream_ids(item)
            else:
                _sort_upstream_ids(value)


def package_key(pipeline: str, content_hash: str) -> str:
    """The object key of a package: ``taxiway/packages/<pipeline>/<sha256>.tgz``."""
    return f"{PACKAGE_PREFIX}/{pipeline}/{content_hash}.tgz"


def store_package(s3_client: Any, archive: Path, *, bucket: str, pipeline: str) -> PackageRef:
    """Upload ``archive`` under its sha256 unless that object exists; return its :class:`PackageRef`.

    :raises StorageUnavailable: if the blob store does not answer.
    :raises PermanentError: if the bucket does not exist or the write is refused.
    """
    data = archive.read_bytes()
    content_hash = hashlib.sha256(data).hexdigest()
    key = package_key(pipeline, content_hash)
    uri = f"s3://{bucket}/{key}"
    count = len(read_package(archive))
    if _exists(s3_client, bucket, key):
        logger.info("package exists uri=%s entities=%d", uri, count)
    else:
        _put(s3_client, bucket, key, data)
        logger.info("package stored uri=%s entities=%d bytes=%d", uri, count, len(data))
    return PackageRef(uri=uri, content_hash=content_hash, entity_count=count)


def read_package(path: Path) -> list[tuple[EntityKind, Message]]:
    """The entities of a package archive in package order: ``(kind, TaskSpec | WorkflowSpec | LaunchPlan)``.

    A thin view over :func:`tasks.core.register_package.load_package`, which registration uses.
    """
    with tempfile.TemporaryDirectory(prefix="taxiway-read-package-") as workdir:
        package = load_package(path, Path(workdir))
        entities: list[tuple[EntityKind, Message]] = [(EntityKind.TASK, t.spec) for t in package.tasks]
        entities += [(EntityKind.WORKFLOW, w.spec) for w in package.workflows]
        entities += [(EntityKind.LAUNCH_PLAN, lp.launch_plan) for lp in package.launch_plans]
    return entities


def download_package(s3_client: Any, uri: str, destination: Path) -> Path:
    """Download a stored package (``s3://bucket/key``) to ``destination`` and check its content hash.

    :raises SourceNotFound: if the object does not exist.
    :raises PermanentError: if its bytes do not hash to the name it is stored under.
    """
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
            raise SourceNotFound("entity package not found", where=uri) from err
        raise _translate(err, uri) from err
    except (BotoCoreError, EndpointConnectionError) as err:
        raise _translate(err, uri) from err
    expected = Path(key).name.removesuffix(".tgz")
    if hashlib.sha256(body).hexdigest() != expected:
        raise PermanentError("stored package does not match its content hash", where=uri, fix="rebuild the release")
    destination.write_bytes(body)
    return destination


def _exists(s3_client: Any, bucket: str, key: str) -> bool:
    try:
        s3_client.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise _translate(err, f"s3://{bucket}/{key}") from err
    except (BotoCoreError, EndpointConnectionError) as err:
        raise _translate(err, f"s3://{bucket}/{key}") from err


def _put(s3_client: Any, bucket: str, key: str, data: bytes) -> None:
    try:
        # If-None-Match: another run storing the same bytes first is fine, overwriting is never needed.
        s3_client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/gzip", IfNoneMatch="*")
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
            logger.info("package stored meanwhile by another run uri=s3://%s/%s", bucket, key)
            return
        raise _translate(err, f"s3://{bucket}/{key}") from err
    except (BotoCoreError, EndpointConnectionError) as err:
        raise _translate(err, f"s3://{bucket}/{key}") from err


def _translate(err: Exception, where: str) -> Exception:
    """Blob-store errors as Taxiway errors: unreachable or 5xx is transient, the rest permanent."""
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", ""))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
            return StorageUnavailable(f"blob store answered {code or status}", where=where)
        if code == "NoSuchBucket":
            return PermanentError(
                "the package bucket does not exist", where=where, fix="create the bucket or configure another one"
            )
        return PermanentError(f"blob store refused the request ({code or status})", where=where)
    return StorageUnavailable(f"blob store unreachable ({type(err).__name__})", where=where)
