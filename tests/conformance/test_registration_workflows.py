"""Workflows: flyteadmin ``pkg/manager/impl/workflow_manager.go`` (compile, digest, different structure)
and flytepropeller's ``pkg/compiler/workflow_compiler.go`` (start/end nodes, connections)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from flyteidl.admin import common_pb2, workflow_pb2
from flyteidl.core import identifier_pb2
from flytekit import task, workflow
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.remote import FlyteRemote
from flytekit.tools.translator import get_serializable

from tests.conformance.registration_support import admin, status_of

pytestmark = pytest.mark.conformance


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def doubled(x: int) -> int:
    return double(x=x)


@workflow
def pipeline(a: int, b: int = 3) -> int:
    total = add(a=a, b=b)
    return doubled(x=total)


def _settings(project: str, version: str = "v1") -> SerializationSettings:
    return SerializationSettings(
        project=project, domain="development", version=version, image_config=ImageConfig.auto_default_image()
    )


def test_register_and_fetch_workflow(remote_for: Callable[[str], FlyteRemote], project: str) -> None:
    """workflow_manager.go: CreateWorkflow compiles and GetWorkflow returns a closure FlyteRemote can promote."""
    remote = remote_for("development")
    remote.register_workflow(pipeline, serialization_settings=_settings(project), version="v1")
    fetched = remote.fetch_workflow(name=pipeline.name, version="v1")
    assert [node.id for node in fetched.flyte_nodes] == ["n0", "n1"]
    assert set(fetched.interface.inputs) == {"a", "b"}
    assert {task.id.name for task in fetched.flyte_tasks} == {add.name, double.name}
    assert fetched.flyte_nodes[1].upstream_nodes[0].id == "n0"


def test_compiled_closure_has_start_end_nodes_and_connections(
    remote_for: Callable[[str], FlyteRemote], client: SynchronousFlyteClient, project: str
) -> None:
    """workflow_compiler.go: ValidateWorkflow adds start-node/end-node and upstream/downstream edges."""
    remote_for("development").register_workflow(pipeline, serialization_settings=_settings(project), version="v1")
    workflow_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW, project=project, domain="development", name=pipeline.name, version="v1"
    )
    closure = admin(client).GetWorkflow(common_pb2.ObjectGetRequest(id=workflow_id)).closure.compiled_workflow
    primary = closure.primary
    assert [node.id for node in primary.template.nodes][:2] == ["start-node", "end-node"]
    assert list(primary.connections.upstream["n0"].ids) == ["start-node"]
    assert list(primary.connections.upstream["n1"].ids) == ["n0"]
    assert list(primary.connections.downstream["n1"].ids) == ["end-node"]
    assert len(closure.sub_workflows) == 1
    assert {task.template.id.name for task in closure.tasks} == {add.name, double.name}


def test_workflow_with_unregistered_task_is_refused(client: SynchronousFlyteClient, project: str) -> None:
    """workflow_manager.go: getCompiledWorkflow fails when a referenced task is not registered."""
    entities = get_serializable({}, _settings(project), pipeline)
    request = workflow_pb2.WorkflowCreateRequest(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.WORKFLOW, project=project, domain="development", name=pipeline.name,
            version="v1",
        ),
        spec=entities.to_flyte_idl(),
    )  # fmt: skip
    code, message = status_of(lambda: admin(client).CreateWorkflow(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith(f'failed to compile workflow for [resource_type:WORKFLOW project:"{project}"')
    assert "missing entity of type TASK" in message
    assert f'name:"{add.name}"' in message


def test_re_register_identical_is_no_op_and_changed_is_refused(
    remote_for: Callable[[str], FlyteRemote], client: SynchronousFlyteClient, project: str
) -> None:
    """errors.go: workflow with identical structure → ALREADY_EXISTS; different → INVALID_ARGUMENT + diff."""
    remote = remote_for("development")
    remote.register_workflow(pipeline, serialization_settings=_settings(project), version="v1")
    remote.register_workflow(pipeline, serialization_settings=_settings(project), version="v1")  # no-op
    workflow_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW, project=project, domain="development", name=pipeline.name, version="v1"
    )
    stored = admin(client).GetWorkflow(common_pb2.ObjectGetRequest(id=workflow_id))
    spec = get_serializable({}, _settings(project), pipeline).to_flyte_idl()
    code, message = status_of(
        lambda: admin(client).CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=workflow_id, spec=spec))
    )
    assert (code, message) == (grpc.StatusCode.ALREADY_EXISTS, "workflow with identical structure already exists")
    assert stored.closure.compiled_workflow.primary.template.id.name == pipeline.name
    spec.template.metadata_defaults.interruptible = True
    code, message = status_of(
        lambda: admin(client).CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=workflow_id, spec=spec))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith(f"{pipeline.name} workflow with different structure already exists.")
    assert "/primary/template/metadata_defaults/interruptible" in message


def test_list_workflows_and_ids(
    remote_for: Callable[[str], FlyteRemote], client: SynchronousFlyteClient, project: str
) -> None:
    """workflow_manager.go: ListWorkflows (without compiled closure) and ListWorkflowIds."""
    remote = remote_for("development")
    for version in ("v1", "v2"):
        remote.register_workflow(pipeline, serialization_settings=_settings(project, version), version=version)
    request = common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=project, domain="development", name=pipeline.name),
        limit=10,
        filters="eq(version,v2)",
    )
    listed = admin(client).ListWorkflows(request).workflows
    assert [w.id.version for w in listed] == ["v2"]
    assert not listed[0].closure.HasField("compiled_workflow")
    ids, _ = client.list_workflow_ids_paginated(project, "development", limit=10)
    assert sorted(entity.name for entity in ids) == sorted([pipeline.name, doubled.name])
