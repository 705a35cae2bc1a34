"""Register a release's package into one domain: hydrate, check, upload the code bundle, register.

The steps, each idempotent so that a retried task is harmless:

1. check the target: FlyteAdmin knows the project and the domain;
2. ask the domain's data proxy where the code bundle goes (content-addressed, nothing written yet) and
   hydrate the package for (project, domain, version) with the domain's launch-plan settings;
3. validate before the first write: every entity hydrates, every referenced entity is in the package
   or registered, and nothing planned is registered under this version with another structure
   (:class:`~tasks.core.errors.VersionConflict`). Bad input therefore changes nothing;
4. upload the code bundle into that domain's storage through its own ``FlyteRemote``;
5. register in dependency waves (the tasks, then workflows and launch plans by dependency depth), each
   wave concurrently on one channel, with ``FlyteRemote.raw_register`` semantics: ``ALREADY_EXISTS``
   counts as registered, not created. A failing wave stops the registration, naming every entity that
   failed (:mod:`tasks.core.register_concurrent`).

Activation is not part of registration: promotion activates launch plans; PR releases never do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tasks.core.config_models import DomainSpec
from tasks.core.errors import StorageUnavailable
from tasks.core.records import DomainRegistration, RegisteredEntity
from tasks.core.register_admin import AdminPort
from tasks.core.register_concurrent import DEFAULT_MAX_WORKERS, call_each
from tasks.core.register_existing import check_against_admin
from tasks.core.register_hydrate import HydratedEntity, LaunchPlanSettings, RegistrationTarget
from tasks.core.register_package import EntityPackage
from tasks.core.register_plan import RegistrationPlan, plan_registration
from tasks.core.vocabulary import Event

logger = logging.getLogger(__name__)

#: Where fast-registered tasks extract the code bundle (``pyflyte register``'s ``--destination-dir``).
DEFAULT_DESTINATION_DIR = "."


@dataclass(frozen=True)
class RegistrationRequest:
    """One release into one domain.

    :param pipeline: the pipeline name (for the ``taxiway.dev/pipeline`` label).
    :param project: the Flyte project.
    :param domain: the domain's section of taxiway.yaml (its launch-plan settings).
    :param version: the release version, the same in every domain.
    :param git_sha: the release's commit.
    :param content_hash: the package's content hash (recorded on launch plans).
    :param destination_dir: where tasks extract the code bundle.
    """

    pipeline: str
    project: str
    domain: DomainSpec
    version: str
    git_sha: str
    content_hash: str = ""
    destination_dir: str = DEFAULT_DESTINATION_DIR


def prepare_registration(
    package: EntityPackage, request: RegistrationRequest, admin: AdminPort, max_workers: int = DEFAULT_MAX_WORKERS
) -> RegistrationPlan:
    """Steps 1-3: the plan, validated against FlyteAdmin; writes nothing.

    :raises RegistrationRejected: unknown project or domain.
    :raises InvalidPackage: an entity does not hydrate.
    :raises SourceNotFound: a referenced entity is missing.
    :raises VersionConflict: an entity exists under this version with another structure.
    :raises AdminUnavailable: FlyteAdmin kept failing with transient errors.
    """
    admin.check_target(request.project, request.domain.name)
    bundle_uri = admin.bundle_location(package.code_bundle) if package.code_bundle else ""
    target = RegistrationTarget(
        request.project, request.domain.name, request.version, bundle_uri, request.destination_dir
    )
    settings = LaunchPlanSettings.for_domain(
        request.domain,
        pipeline=request.pipeline,
        version=request.version,
        git_sha=request.git_sha,
        content_hash=request.content_hash,
    )
    plan = plan_registration(package, target, settings)
    check_against_admin(plan, admin, max_workers=max_workers)
    return plan


def register_package(
    package: EntityPackage, request: RegistrationRequest, admin: AdminPort, max_workers: int = DEFAULT_MAX_WORKERS
) -> DomainRegistration:
    """Register ``package`` into ``request.domain``; see the module docstring for the steps.

    :param package: the release's entity package.
    :param request: project, domain settings and version.
    :param admin: FlyteAdmin for this (project, domain) (a :class:`FlyteAdminGateway` over that domain's remote).
    :param max_workers: concurrent FlyteAdmin calls (checks and writes).
    :returns: every entity with whether this call created it.
    :raises: see :func:`prepare_registration`; also ``RegistrationRejected`` if FlyteAdmin refuses an
        entity at write time.
    """
    plan = prepare_registration(package, request, admin, max_workers)
    if package.code_bundle is not None:
        uploaded = admin.upload_bundle(package.code_bundle)
        if uploaded != plan.target.code_bundle_uri:
            raise StorageUnavailable(
                f"the data proxy stored the code bundle at {uploaded}, not at {plan.target.code_bundle_uri} "
                "as it announced",
                where=f"{request.project}/{request.domain.name}",
                fix="check FlyteAdmin's data proxy configuration; uploads must be content-addressed",
            )
    created: dict[int, bool] = {}
    for wave in plan.waves():
        results = call_each(wave, admin.create, _label, what="register", max_workers=max_workers)
        created.update((id(entity), result) for entity, result in zip(wave, results, strict=True))
    registration = DomainRegistration(
        project=request.project,
        domain=request.domain.name,
        version=request.version,
        entities=[_record(entity, created[id(entity)]) for entity in plan.entities],
    )
    logger.info(
        "%s pipeline=%s project=%s domain=%s version=%s entities=%d created=%d",
        Event.RELEASE_REGISTERED, request.pipeline, request.project, request.domain.name, request.version,
        len(registration.entities), registration.created_count,
    )  # fmt: skip
    return registration


def _label(entity: HydratedEntity) -> str:
    return entity.label


def _record(entity: HydratedEntity, created: bool) -> RegisteredEntity:
    return RegisteredEntity(resource_type=entity.kind.value, name=entity.name, created=created)
