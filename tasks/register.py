"""Flyte tasks that register a release into a domain and record it (logic: :mod:`tasks.core.register`)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import flytekit
from flytekit import task

from tasks.build import BuildResult
from tasks.clients import recoverable, s3_client
from tasks.core import report
from tasks.core.errors import InvalidConfig
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.package_store import download_package
from tasks.core.records import DomainRegistration, PackageRef, Release
from tasks.core.register import RegistrationRequest, register_package
from tasks.core.register_admin import FlyteAdminGateway
from tasks.core.register_package import load_package
from tasks.core.source_author import commit_author
from tasks.core.vocabulary import Phase
from tasks.source import Checkout, DomainSettings

logger = logging.getLogger(__name__)


def _domain(checkout: Checkout, name: str) -> DomainSettings:
    for domain in checkout.domains:
        if domain.name == name or not name:
            return domain
    raise InvalidConfig(
        f"unknown domain {name!r}",
        where=f"pipeline {checkout.pipeline}",
        fix=f"use one of {', '.join(d.name for d in checkout.domains)} (the domains in its taxiway.yaml)",
    )


@task(retries=3, cache=False)
def register_release(checkout: Checkout, package: PackageRef, domain: str = "") -> DomainRegistration:
    """Register a release's package into one domain: code bundle uploaded into that domain's storage, its
    launch-plan settings applied, tasks then workflows then launch plans. Identical entities are a no-op;
    a version registered with a different structure fails with VersionConflict. Never activates.

    :param checkout: the release's source, version, project and domain settings.
    :param package: the release's entity package.
    :param domain: the target domain; "" for the first domain of the promotion order.
    """
    target = _domain(checkout, domain)
    remote = FlyteRemotes(FlyteSettings.from_env(os.environ)).for_domain(checkout.project, target.name)
    request = RegistrationRequest(
        checkout.pipeline, checkout.project, target.to_spec(), checkout.version, checkout.source.git_sha,
        content_hash=package.content_hash,
    )  # fmt: skip
    with recoverable(), tempfile.TemporaryDirectory(prefix="taxiway-register-") as workdir:
        archive = download_package(s3_client(), package.uri, Path(workdir) / "flyte-package.tgz")
        entities = load_package(archive, Path(workdir) / "package")
        registration = register_package(entities, request, FlyteAdminGateway(remote))
    logger.info(
        "release registered project=%s domain=%s version=%s created=%d",
        registration.project, registration.domain, registration.version, registration.created_count,
    )  # fmt: skip
    return registration


def release_author(checkout: Checkout) -> str:
    """The commit author: as the source step recorded it, else read from the checkout's git history
    ("" when the checkout carries no ``.git``, e.g. an upload, or a monorepo's sub-directory run remotely)."""
    if checkout.source.author:
        return checkout.source.author
    author = commit_author(Path(checkout.directory.download()), checkout.source.git_sha)
    if not author:
        logger.warning(
            "release author unknown version=%s sha=%s: the checkout has no git history here; approval "
            "policies cannot exclude the author's own approval",
            checkout.version, checkout.source.git_sha,
        )  # fmt: skip
    return author


@task(enable_deck=True, cache=False)
def record_release(
    checkout: Checkout, build: BuildResult, package: PackageRef, registration: DomainRegistration
) -> Release:
    """Assemble the typed release record and its Deck: images built or reused, the package, registrations.

    :param checkout: the release's source and version.
    :param build: the images, each pinned by digest and marked built or reused.
    :param package: the entity package.
    :param registration: the registration into the first domain.
    """
    release = Release(
        pipeline=checkout.pipeline, project=checkout.project, version=checkout.version,
        git_sha=checkout.source.git_sha, pr_number=checkout.source.pr_number, images=list(build.images),
        package=package, registrations=[registration], author=release_author(checkout),
    )  # fmt: skip
    page = report.report_page(
        f"release {release.version}",
        Phase.SUCCEEDED,
        report.build_table(release.images),
        report.registrations_table(release.registrations),
    )
    flytekit.Deck("release", page)
    logger.info(
        "release recorded pipeline=%s version=%s author=%s images_built=%d created=%d",
        release.pipeline, release.version, release.author or "-", sum(image.built for image in release.images),
        registration.created_count,
    )  # fmt: skip
    return release
