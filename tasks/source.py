"""Flyte task that resolves a pipeline's source at one commit (logic: :mod:`tasks.core.source`).

The source is either uploaded by the caller (a ``FlyteDirectory``: ``pyflyte run --remote`` uploads a
local path) or cloned from a git URL at a ref. The task also reads the pipeline's taxiway.yaml once
and derives the release version, so later steps receive typed values, not files to re-parse.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flytekit import task
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile

from tasks.clients import recoverable
from tasks.core import source as core_source
from tasks.core import versions
from tasks.core.config import load_pipeline_config
from tasks.core.config_models import DomainSpec
from tasks.core.records import SourceRef
from tasks.core.source_archive import unpack_source_archive

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainSettings:
    """A domain's launch-plan settings from taxiway.yaml, as a Flyte-serializable record."""

    name: str
    raw_data_prefix: str
    service_account: str = ""
    iam_role: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: DomainSpec) -> DomainSettings:
        return cls(
            spec.name, spec.raw_data_prefix, spec.service_account or "", spec.iam_role or "",
            dict(spec.labels), dict(spec.annotations),
        )  # fmt: skip

    def to_spec(self) -> DomainSpec:
        return DomainSpec(
            name=self.name, raw_data_prefix=self.raw_data_prefix, service_account=self.service_account or None,
            iam_role=self.iam_role or None, labels=self.labels, annotations=self.annotations,
        )  # fmt: skip


@dataclass
class Checkout:
    """A pipeline's source at one commit, with what its taxiway.yaml says about the release.

    :param directory: the pipeline directory (the ``pipeline_dir`` of the repository).
    :param source: the commit it was taken from.
    :param version: the release version: ``<sha12>`` on main, ``pr<N>-<sha12>`` for a PR.
    :param pipeline: the pipeline name.
    :param project: the Flyte project.
    :param config_path: taxiway.yaml's path inside ``directory``.
    :param domains: the domains in promotion order, with their launch-plan settings.
    """

    directory: FlyteDirectory
    source: SourceRef
    version: str
    pipeline: str
    project: str
    config_path: str
    domains: list[DomainSettings]


@task(retries=3, cache=False)
def fetch_source(
    upload: FlyteDirectory | None = None,
    git_url: str = "",
    git_ref: str = "",
    git_sha: str = "",
    pipeline_dir: str = ".",
    pr_number: int = 0,
    config_path: str = "taxiway.yaml",
    archive: FlyteFile | None = None,
) -> Checkout:
    """Resolve the pipeline's source: the uploaded directory or archive, or ``git_url`` cloned at ``git_ref``.

    :param upload: the source tree uploaded by the caller; leave empty to clone ``git_url``.
    :param git_url: the repository to clone when nothing is uploaded.
    :param git_ref: branch, tag or commit to clone (default: the remote's HEAD).
    :param git_sha: the commit an uploaded tree was taken from (needed when the upload has no ``.git``).
    :param pipeline_dir: the pipeline's directory inside the repository.
    :param pr_number: the pull request being built; 0 for the main branch.
    :param config_path: taxiway.yaml's path inside the pipeline directory.
    :param archive: the source as a ``.tar.gz`` (``git archive --format=tar.gz -o source.tar.gz HEAD``), which
        ``pyflyte run --remote`` uploads whole; its commit comes from the archive's header or ``git_sha``.
    """
    workdir = Path(tempfile.mkdtemp(prefix="taxiway-source-"))
    local = Path(upload.download()) if upload is not None else None
    if archive is not None:
        if local is not None:
            raise versions.InvalidReleaseInput(
                "both an uploaded directory and a source archive were given",
                where="upload, archive",
                fix="pass one source: `upload`, `archive` or `git_url`",
            )
        local, recorded_sha = unpack_source_archive(Path(archive.download()), workdir / "archive")
        git_sha = git_sha or recorded_sha
    with recoverable():
        source = core_source.resolve_source(
            workdir, upload=local, git_url=git_url, git_ref=git_ref, git_sha=git_sha, pr_number=pr_number
        )  # fmt: skip
    pipeline_root = core_source.pipeline_root(source, pipeline_dir)
    config = load_pipeline_config(core_source.resolve_inside(pipeline_root, config_path, what="config_path"))
    version = versions.release_version(source.git_sha, source.pr_number)
    logger.info("source resolved pipeline=%s sha=%s version=%s", config.pipeline, source.git_sha, version)
    return Checkout(
        directory=FlyteDirectory(str(pipeline_root)), source=source, version=version, pipeline=config.pipeline,
        project=config.project, config_path=config_path,
        domains=[DomainSettings.from_spec(domain) for domain in config.domains],
    )  # fmt: skip
