"""Restart durability: everything registered survives a restart (flyteadmin keeps it in Postgres; localflyte
in SQLite). Also checks the repository read API the scheduler and executions use
(``launch_plan_manager.go`` active versions, ``resource_repo.go`` priority lookup)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2, matchable_resource_pb2, project_domain_attributes_pb2
from flytekit import CronSchedule, LaunchPlan, task, workflow
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import Config, ImageConfig, PlatformConfig, SerializationSettings
from flytekit.models.common import NamedEntityIdentifier
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote

from localflyte.registration.repository import active_scheduled_launch_plans, resolve_matchable
from localflyte.store import Store
from localflyte.testing import LocalFlyteProcess, MotoServer
from tests.conformance.conftest import restart
from tests.conformance.registration_support import admin

pytestmark = pytest.mark.conformance


@task
def tick(n: int) -> int:
    return n + 1


@workflow
def ticker(n: int) -> int:
    return tick(n=n)


def test_registrations_survive_restart(tmp_path: Path, moto_server: MotoServer) -> None:
    """Projects, tasks, workflows, launch plans with their state, and attributes survive a restart."""
    process = LocalFlyteProcess(tmp_path / "state", s3_endpoint=moto_server.endpoint)
    try:
        config = Config(platform=PlatformConfig(endpoint=process.endpoint, insecure=True))
        SynchronousFlyteClient(config.platform).register_project(Project(id="durable", name="durable", description=""))
        remote = FlyteRemote(config, default_project="durable", default_domain="development")
        settings = SerializationSettings(
            project="durable", domain="development", version="v1", image_config=ImageConfig.auto_default_image()
        )
        plan = LaunchPlan.get_or_create(ticker, name="ticker_nightly", fixed_inputs={"n": 1},
                                        schedule=CronSchedule(schedule="0 3 * * *"))  # fmt: skip
        remote.register_launch_plan(plan, version="v1", serialization_settings=settings)
        lp = remote.fetch_launch_plan(name="ticker_nightly", version="v1")
        remote.client.update_launch_plan(lp.id, launch_plan_pb2.ACTIVE)
        queue = matchable_resource_pb2.MatchingAttributes(
            execution_queue_attributes=matchable_resource_pb2.ExecutionQueueAttributes(tags=["gpu"])
        )
        admin(remote.client).UpdateProjectDomainAttributes(
            project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest(
                attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
                    project="durable", domain="development", matching_attributes=queue
                )
            )
        )

        process = restart(process)
        config = Config(platform=PlatformConfig(endpoint=process.endpoint, insecure=True))
        client = SynchronousFlyteClient(config.platform)
        remote = FlyteRemote(config, default_project="durable", default_domain="development")
        assert remote.fetch_workflow(name=ticker.name, version="v1").flyte_nodes[0].id == "n0"
        assert remote.fetch_task(name=tick.name, version="v1").id.version == "v1"
        active = client.get_active_launch_plan(NamedEntityIdentifier("durable", "development", "ticker_nightly"))
        assert active.id.version == "v1"
        got = admin(client).GetProjectDomainAttributes(
            project_domain_attributes_pb2.ProjectDomainAttributesGetRequest(
                project="durable", domain="development", resource_type=matchable_resource_pb2.EXECUTION_QUEUE
            )
        )
        assert list(got.attributes.matching_attributes.execution_queue_attributes.tags) == ["gpu"]
    finally:
        process.stop()

    store = Store(tmp_path / "state" / "localflyte.sqlite3")
    try:
        scheduled = active_scheduled_launch_plans(store)
        assert [(p.id.name, p.spec.entity_metadata.schedule.cron_schedule.schedule) for p in scheduled] == [
            ("ticker_nightly", "0 3 * * *")
        ]
        resolved = resolve_matchable(
            store, matchable_resource_pb2.EXECUTION_QUEUE, "durable", "development", ticker.name
        )
        assert resolved is not None
        assert list(resolved.execution_queue_attributes.tags) == ["gpu"]
        assert (
            resolve_matchable(store, matchable_resource_pb2.EXECUTION_QUEUE, "durable", "staging", ticker.name) is None
        )
    finally:
        store.close()
