"""What happened: the typed records passed between Taxiway's tasks (the release artifact and its history).

Records are frozen dataclasses so flytekit can pass them between tasks as dataclass literals and
so no step can change what an earlier one recorded. The *specs* (what to do) live in
:mod:`tasks.core.config`; these are the *records* (what was done).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks.core.validate import ValidationReport


@dataclass(frozen=True)
class SourceRef:
    """A pipeline's source at one commit.

    :param location: where the source was unpacked or cloned (a local path inside the task).
    :param git_sha: the full 40-hex commit SHA the release is built from.
    :param ref: the branch, tag or ref the caller asked for ("" for an uploaded directory).
    :param pr_number: the pull request number, 0 when the build is not for a PR.
    :param author: the commit's author email (its name when it has no email); "" when unknown.
    """

    location: str
    git_sha: str
    ref: str = ""
    pr_number: int = 0
    author: str = ""


@dataclass(frozen=True)
class ImageRef:
    """A container image pinned by digest.

    :param repository: registry host and path, e.g. ``127.0.0.1:30000/taxiway/training``.
    :param tag: the content-hash tag.
    :param digest: ``sha256:...`` of the pushed manifest.
    :param built: True when this run built and pushed it, False when the tag already existed.
    """

    repository: str
    tag: str
    digest: str
    built: bool = False

    @property
    def reference(self) -> str:
        """``repository:tag``: what registered tasks reference (the tag is content-addressed and never moves)."""
        return f"{self.repository}:{self.tag}"

    @property
    def pinned(self) -> str:
        """``repository@digest``: the immutable reference."""
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class PackageRef:
    """The serialized entity package of a release (``pyflyte package`` output), content-addressed.

    :param uri: where the package archive is stored (``s3://...``).
    :param content_hash: sha256 of the archive.
    :param entity_count: number of task, workflow and launch-plan specs in it.
    """

    uri: str
    content_hash: str
    entity_count: int


@dataclass(frozen=True)
class RegisteredEntity:
    """One entity registered into a domain, and whether this run created it or it already existed."""

    resource_type: str
    name: str
    created: bool


@dataclass(frozen=True)
class DomainRegistration:
    """A release registered into one domain (project, domain, version)."""

    project: str
    domain: str
    version: str
    entities: list[RegisteredEntity] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return sum(1 for entity in self.entities if entity.created)


@dataclass(frozen=True)
class Release:
    """The immutable artifact built from one commit, promoted unchanged from domain to domain.

    :param pipeline: the pipeline name from taxiway.yaml.
    :param project: the Flyte project it registers into.
    :param version: explicit, domain-independent: ``<sha12>`` on main, ``pr<N>-<sha12>`` for PRs.
    :param git_sha: the full commit SHA.
    :param pr_number: 0 unless this is a PR release (PR releases never activate launch plans).
    :param images: every image the release's tasks use, pinned by digest.
    :param package: the serialized entity package.
    :param registrations: the domains it is registered in so far.
    :param author: the commit's author email (its name when it has no email): the person approval policies
        keep from approving their own release. "" when unknown (records written before it was recorded).
    :param validation: the validation ``ci_pipeline`` ran in the first domain; None when it was skipped
        (``validate=False``) or for records written before ci validated.
    """

    pipeline: str
    project: str
    version: str
    git_sha: str
    pr_number: int
    images: list[ImageRef]
    package: PackageRef
    registrations: list[DomainRegistration] = field(default_factory=list)
    author: str = ""
    validation: ValidationReport | None = None

    @property
    def is_pr(self) -> bool:
        return self.pr_number > 0
