"""Deterministic Flyte execution names: the dedup keys that make validation and promotion idempotent.

FlyteAdmin answers ``ALREADY_EXISTS`` when an execution name is taken in a (project, domain), and
flytekit then hands back the existing execution. Deriving the name from what the execution *is*
(release version, validation case, its launch plan and inputs) therefore makes a re-run reuse the
earlier execution instead of duplicating it, and lets anyone find it again later without a database.

Names obey FlyteAdmin's rule ``^[a-z][a-z0-9-]*$``, at most 63 characters.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

#: FlyteAdmin's execution-name limit and pattern (``validation/execution_validator.go``).
MAX_EXECUTION_NAME = 63
EXECUTION_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: Kubernetes label values: at most 63 characters of ``[A-Za-z0-9._-]``, alphanumeric at both ends.
MAX_LABEL_VALUE = 63
_HASH_CHARS = 8


def slug(text: str, limit: int) -> str:
    """``text`` lowercased, every run of other characters turned into ``-``, cut to ``limit``, no edge dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:limit].rstrip("-")


def short_hash(*parts: Any) -> str:
    """The first 8 hex characters of sha256 over the canonical JSON of ``parts``."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:_HASH_CHARS]


def _name(prefix: str, version: str, middle: str, digest: str) -> str:
    # Budget: prefix + version (up to 24) + middle (what remains) + hash, each joined by "-".
    version_part = slug(version, 24) or "v"
    room = MAX_EXECUTION_NAME - len(prefix) - len(version_part) - len(digest) - 3
    middle_part = slug(middle, max(room, 0))
    parts = [prefix, version_part, *([middle_part] if middle_part else []), digest]
    name = "-".join(parts)
    if len(name) > MAX_EXECUTION_NAME or not EXECUTION_NAME.match(name):  # pragma: no cover - guarded by slugs
        raise ValueError(f"execution name {name!r} breaks FlyteAdmin's rule {EXECUTION_NAME.pattern} (<= 63)")
    return name


def validation_execution_name(
    pipeline: str, version: str, case: str, launch_plan: str, inputs: Mapping[str, Any], attempt: int = 0
) -> str:
    """``val-<version>-<case>-<hash>``: the execution of one validation case of one release in a domain.

    The hash covers everything that makes it a different check (pipeline, version, case, launch plan,
    inputs, attempt), so editing a case's inputs in taxiway.yaml runs it again while an unchanged case
    reuses its execution. The domain is not in the name: it is part of the execution's identifier.

    :param attempt: bump it to run a case again deliberately (e.g. after an infrastructure failure).
    """
    digest = short_hash(pipeline, version, case, launch_plan, dict(inputs), attempt)
    return _name("val", version, case, digest)


def promotion_execution_name(pipeline: str, version: str, domain: str) -> str:
    """``promote-<version>-<domain>-<hash>``: the promotion meta-workflow execution of one release into one domain.

    Launching it twice yields one execution (``ALREADY_EXISTS``), so a retried promotion never interleaves
    with itself; different versions into one domain are serialized by the promotion lock.
    """
    return _name("promote", version, domain, short_hash(pipeline, version, domain))


def rollback_execution_name(pipeline: str, domain: str, to_version: str, nonce: str) -> str:
    """``rollback-<version>-<domain>-<hash>``; ``nonce`` (e.g. the time) makes repeated rollbacks distinct."""
    return _name("rollback", to_version or "previous", domain, short_hash(pipeline, domain, to_version, nonce))


def label_value(text: str) -> str:
    """``text`` as a valid Kubernetes label value (``[A-Za-z0-9._-]``, <= 63, alphanumeric ends)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:MAX_LABEL_VALUE]
    return cleaned.strip("-._")
