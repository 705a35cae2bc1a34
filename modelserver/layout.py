"""The serving repository on S3: what the model server loads, written by Taxiway, read by the server.

This module is the contract between both sides, so it uses the standard library only (it is imported
by ``tasks.core.serving_oip`` in Taxiway's environment and by :mod:`modelserver.repository` in the
model server's own venv). Like Triton's S3 model repository in explicit model-control mode, the
deployer writes the repository and then asks the server to load a model by name over the Open
Inference Protocol's repository extension (``POST /v2/repository/models/<name>/load``); the server
then serves exactly what the repository lists for that name and unloads the rest.

Layout under the repository URI (``s3://taxiway-models/serving`` on the local stack)::

    <model_name>/versions/<version>.json   one loaded version: {model_name, version, uri, sha256}
    <model_name>/default.json              the stable alias: {active: {...}, previous: {...} | null}

Every listed version is served at ``/v2/models/<name>/versions/<version>/...``. The alias is the
model loaded *without* a version under the same name, so ``/v2/models/<name>/infer`` (what clients
call) answers with the active version; MLServer always prefers an unversioned model as the default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

#: The MLServer runtime that loads a TorchScript file (imported by the server, never by Taxiway).
RUNTIME = "modelserver.runtime.TorchScriptModel"

POINTER_FILE = "default.json"
VERSIONS_DIR = "versions"

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")`` (the prefix without slashes at the ends).

    :raises ValueError: if ``uri`` is not an ``s3://`` URI with a bucket.
    """
    if not uri.startswith("s3://"):
        raise ValueError(f"expected an s3://bucket/prefix URI, got {uri!r}")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"expected an s3://bucket/prefix URI with a bucket, got {uri!r}")
    return bucket, prefix.strip("/")


def check_version(version: str) -> str:
    """Return ``version`` if it can be a URL path segment and an S3 key part, else raise ValueError."""
    if not _VERSION.fullmatch(version):
        raise ValueError(f"expected a model version of letters, digits, '.', '_' or '-' (at most 128), got {version!r}")
    return version


@dataclass(frozen=True)
class ServedModel:
    """One model version as the server loads it.

    :param model_name: the name on the server (the alias and every version share it).
    :param version: the release version the model belongs to.
    :param uri: where the TorchScript file is (``s3://...`` in the model store, or a local path).
    :param sha256: the file's checksum; the server refuses a file that does not match it.
    """

    model_name: str
    version: str
    uri: str
    sha256: str

    def __post_init__(self) -> None:
        check_version(self.version)
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"expected a lowercase hex sha256, got {self.sha256!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServedModel:
        return cls(str(data["model_name"]), str(data["version"]), str(data["uri"]), str(data["sha256"]))


@dataclass(frozen=True)
class ServingPointer:
    """The stable alias: which version answers unversioned requests, and the one before it (for rollback)."""

    active: ServedModel
    previous: ServedModel | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ServingPointer:
        data = json.loads(text)
        previous = data.get("previous")
        return cls(ServedModel.from_dict(data["active"]), ServedModel.from_dict(previous) if previous else None)


def version_to_json(model: ServedModel) -> str:
    return json.dumps(asdict(model), indent=2, sort_keys=True)


def version_from_json(text: str | bytes) -> ServedModel:
    return ServedModel.from_dict(json.loads(text))


def _join(prefix: str, *parts: str) -> str:
    return "/".join(part for part in (prefix.strip("/"), *parts) if part)


def pointer_key(prefix: str, model_name: str) -> str:
    """``<prefix>/<model_name>/default.json``."""
    return _join(prefix, model_name, POINTER_FILE)


def version_key(prefix: str, model_name: str, version: str) -> str:
    """``<prefix>/<model_name>/versions/<version>.json``."""
    return _join(prefix, model_name, VERSIONS_DIR, f"{check_version(version)}.json")


def parse_key(prefix: str, key: str) -> tuple[str, str | None] | None:
    """``(model_name, version)`` for a version file, ``(model_name, None)`` for a pointer, else None."""
    base = prefix.strip("/")
    if base:
        if not key.startswith(base + "/"):
            return None
        key = key[len(base) + 1 :]
    parts = key.split("/")
    if len(parts) == 2 and parts[1] == POINTER_FILE:
        return parts[0], None
    if len(parts) == 3 and parts[1] == VERSIONS_DIR and parts[2].endswith(".json"):
        return parts[0], parts[2].removesuffix(".json")
    return None


def model_settings(
    model_name: str, versions: Iterable[ServedModel], pointer: ServingPointer | None
) -> list[dict[str, Any]]:
    """MLServer model settings for one name: the alias first, then each version sorted by version.

    The alias must come first: MLServer resolves an unversioned load against its current default,
    and only an unversioned default keeps later versioned loads from taking that place. With
    versions but no pointer yet (the first rollout, before its smoke test) the alias is a
    placeholder the runtime reports as not ready, so nothing unverified answers unversioned calls.
    """
    entries: list[dict[str, Any]] = []
    listed = sorted(versions, key=lambda model: model.version)
    if pointer is None and not listed:
        return entries
    alias_params: dict[str, Any] = {"extra": {}}
    if pointer is not None:
        active = pointer.active
        alias_params = {"uri": active.uri, "extra": {"sha256": active.sha256, "release_version": active.version}}
    entries.append({"name": model_name, "implementation": RUNTIME, "parameters": alias_params})
    for model in listed:
        entries.append(
            {
                "name": model_name,
                "implementation": RUNTIME,
                "parameters": {"uri": model.uri, "version": model.version, "extra": {"sha256": model.sha256}},
            }
        )
    return entries
