"""Executions against ``flyteadmin/pkg/manager/impl/execution_manager.go`` and its validators, over gRPC."""

from __future__ import annotations

import re
from collections.abc import Callable

import grpc
import pytest
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.exceptions.user import FlyteEntityAlreadyExistsException, FlyteInvalidInputException
from flytekit.models.admin.common import Sort
from flytekit.models.core.identifier import WorkflowExecutionIdentifier
from flytekit.remote import FlyteRemote

from tests.conformance import executions_support as support

pytestmark = pytest.mark.conformance


def _create(
    client: SynchronousFlyteClient, project: str, lp_id: identifier_pb2.Identifier, name: str = "", **inputs: int
):
    request = execution_pb2.ExecutionCreateRequest(
        project=project, domain="development", name=name,
        spec=execution_pb2.ExecutionSpec(launch_plan=lp_id), inputs=support.int_map(**inputs),
    )  # fmt: skip
    return client._stub.CreateExecution(request, metadata=client._metadata).id


def _get(client: SynchronousFlyteClient, execution_id) -> execution_pb2.Execution:
    if not isinstance(execution_id, identifier_pb2.WorkflowExecutionIdentifier):
        execution_id = execution_id.to_flyte_idl()
    request = execution_pb2.WorkflowExecutionGetRequest(id=execution_id)
    return client._stub.GetExecution(request, metadata=client._metadata)


@pytest.fixture
def launch_plan(remote_for: Callable[[str], FlyteRemote], project: str) -> identifier_pb2.Identifier:
    return support.register_adder(remote_for("development"), project).id.to_flyte_idl()


def test_new_execution_is_queued_with_its_launch_plan(client, project, launch_plan) -> None:
    """execution_manager.go launchExecution: stored UNDEFINED, QUEUED once the engine accepts it."""
    execution_id = _create(client, project, launch_plan, name="first", a=1)
    execution = _get(client, execution_id)
    assert execution.closure.phase == support.WorkflowPhase.QUEUED
    assert execution.spec.launch_plan.name == support.adder.name
    assert execution.closure.workflow_id.name == support.adder.name
    assert execution.spec.metadata.system_metadata.namespace == f"{project}-development"


def test_empty_name_is_generated(client, project, launch_plan) -> None:
    """util/shared.go GetExecutionName: 'a' + 19 characters of k8s rand.String."""
    execution_id = _create(client, project, launch_plan, a=1)
    assert re.fullmatch(r"a[bcdfghjklmnpqrstvwxz2456789]{19}", execution_id.name)


def test_name_collision_is_already_exists(client, project, launch_plan) -> None:
    """repositories/errors/postgres.go: unique key violation → ALREADY_EXISTS."""
    _create(client, project, launch_plan, name="twice", a=1)
    with pytest.raises(FlyteEntityAlreadyExistsException) as raised:
        _create(client, project, launch_plan, name="twice", a=1)
    assert support.status_of(raised.value)[0] == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Bad_Name", "invalid name format: bad_name, does not match regex '^[a-z][a-z\\-0-9]*$'"),
        ("a" * 64, f"size of name exceeded length 63 : {'a' * 64}"),
    ],
)
def test_execution_name_is_validated(client, project, launch_plan, name, message) -> None:
    """validation/execution_validator.go CheckValidExecutionID."""
    with pytest.raises(FlyteInvalidInputException) as raised:
        _create(client, project, launch_plan, name=name, a=1)
    assert support.status_of(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, message)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "expected_inputs a missing"),
        ({"a": 1, "c": 2}, "invalid input c"),
    ],
)
def test_inputs_are_checked_against_the_launch_plan(client, project, launch_plan, inputs, message) -> None:
    """validation/execution_validator.go CheckAndFetchInputsForExecution."""
    with pytest.raises(FlyteInvalidInputException) as raised:
        _create(client, project, launch_plan, **inputs)
    assert support.status_of(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, message)


def test_input_of_wrong_type_is_refused(client, project, launch_plan) -> None:
    """validation/execution_validator.go: 'invalid %s input wrong type'."""
    request = execution_pb2.ExecutionCreateRequest(
        project=project, domain="development", spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan),
    )  # fmt: skip
    request.inputs.literals["a"].scalar.primitive.string_value = "five"
    with pytest.raises(FlyteInvalidInputException) as raised:
        client._stub.CreateExecution(request, metadata=client._metadata)
    assert support.status_of(raised.value)[1].startswith("invalid a input wrong type. Expected simple: INTEGER")


def test_fixed_inputs_are_not_inputs(client, remote_for, project) -> None:
    """validation/execution_validator.go: a fixed input is not expected, so passing it is 'invalid input'."""
    remote = remote_for("development")
    support.register_adder(remote, project)
    remote.register_launch_plan(support.fixed_adder, version="v1", project=project, domain="development")
    lp_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=project, domain="development", name="fixed_adder",
        version="v1",
    )  # fmt: skip
    with pytest.raises(FlyteInvalidInputException) as raised:
        _create(client, project, lp_id, a=1, b=3)
    assert support.status_of(raised.value)[1] == "invalid input b"
    execution_id = _create(client, project, lp_id, a=1)
    data = client.get_execution_data(WorkflowExecutionIdentifier.from_flyte_idl(execution_id))
    assert data.full_inputs.literals["b"].scalar.primitive.integer == 5


def test_unknown_project_is_invalid_argument(client, launch_plan) -> None:
    """validation/project_validator.go ValidateProjectAndDomain."""
    with pytest.raises(FlyteInvalidInputException) as raised:
        _create(client, "no-such-project", launch_plan, a=1)
    assert "failed to validate that project [no-such-project]" in support.status_of(raised.value)[1]


def test_inputs_are_offloaded_with_defaults(client, project, launch_plan, moto_server) -> None:
    """execution_manager.go: OffloadLiteralMap(<project>/<domain>/<name>/inputs); GetExecutionData reads it."""
    execution_id = _create(client, project, launch_plan, name="offload", a=7)
    data = client.get_execution_data(WorkflowExecutionIdentifier.from_flyte_idl(execution_id))
    assert data.full_inputs.literals["a"].scalar.primitive.integer == 7
    assert data.full_inputs.literals["b"].scalar.primitive.integer == 2  # the workflow default
    assert f"/metadata/{project}/development/offload/inputs" in data.inputs.url
    assert data.inputs.bytes > 0


def test_execution_config_precedence(client, project, launch_plan) -> None:
    """execution_manager.go getExecutionConfig: spec > launch plan > matchable (project-domain) > defaults."""
    from flyteidl.admin import matchable_resource_pb2 as mr
    from flyteidl.admin import project_domain_attributes_pb2 as pda

    config = mr.WorkflowExecutionConfig(max_parallelism=7)
    config.security_context.run_as.k8s_service_account = "from-matchable"
    attributes = pda.ProjectDomainAttributes(
        project=project,
        domain="development",
        matching_attributes=mr.MatchingAttributes(workflow_execution_config=config),
    )
    client._stub.UpdateProjectDomainAttributes(
        pda.ProjectDomainAttributesUpdateRequest(attributes=attributes), metadata=client._metadata
    )
    from_matchable = _get(client, _create(client, project, launch_plan, a=1))
    assert from_matchable.spec.max_parallelism == 7
    assert from_matchable.spec.security_context.run_as.k8s_service_account == "from-matchable"
    request = execution_pb2.ExecutionCreateRequest(
        project=project, domain="development",
        spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan, max_parallelism=3),
        inputs=support.int_map(a=1),
    )  # fmt: skip
    request.spec.security_context.run_as.k8s_service_account = "from-spec"
    execution_id = client._stub.CreateExecution(request, metadata=client._metadata).id
    from_spec = _get(client, execution_id)
    assert from_spec.spec.max_parallelism == 3
    assert from_spec.spec.security_context.run_as.k8s_service_account == "from-spec"


def test_default_max_parallelism(client, project, launch_plan) -> None:
    """runtime/application_config_provider.go: maxParallelism defaults to 25."""
    execution = _get(client, _create(client, project, launch_plan, a=1))
    assert execution.spec.max_parallelism == 25


def test_list_filters_sort_and_pages(client, project, launch_plan) -> None:
    """execution_manager.go ListExecutions: filters, sort_by, limit and next-page token."""
    for index in range(3):
        _create(client, project, launch_plan, name=f"listed-{index}", a=index)
    ascending = Sort("name", Sort.Direction.ASCENDING)
    first, token = client.list_executions_paginated(project, "development", limit=2, sort_by=ascending)
    assert [e.id.name for e in first] == ["listed-0", "listed-1"] and token == "2"
    rest, token = client.list_executions_paginated(project, "development", limit=2, token=token, sort_by=ascending)
    assert [e.id.name for e in rest] == ["listed-2"] and token == ""
    from flytekit.models.filters import Equal, ValueIn

    by_lp, _ = client.list_executions_paginated(
        project, "development", limit=10, filters=[Equal("launch_plan.name", support.adder.name)]
    )
    assert len(by_lp) == 3
    queued, _ = client.list_executions_paginated(
        project, "development", limit=10, filters=[ValueIn("phase", ["QUEUED", "RUNNING"]), Equal("name", "listed-1")]
    )
    assert [e.id.name for e in queued] == ["listed-1"]


def test_archived_executions_are_hidden_from_lists(client, project, launch_plan) -> None:
    """execution_manager.go UpdateExecution + addStateFilter: only ACTIVE executions are listed by default."""
    execution_id = _create(client, project, launch_plan, name="archived", a=1)
    client._stub.UpdateExecution(
        execution_pb2.ExecutionUpdateRequest(id=execution_id, state=execution_pb2.EXECUTION_ARCHIVED),
        metadata=client._metadata,
    )
    listed, _ = client.list_executions_paginated(project, "development", limit=10)
    assert "archived" not in [e.id.name for e in listed]
    from flytekit.models.filters import Equal

    archived, _ = client.list_executions_paginated(project, "development", limit=10, filters=[Equal("state", "1")])
    assert [e.id.name for e in archived] == ["archived"]
    fetched = _get(client, execution_id)
    assert fetched.closure.state_change_details.state == execution_pb2.EXECUTION_ARCHIVED


def test_terminate_aborts_with_cause(remote_for, client, project, launch_plan) -> None:
    """execution_manager.go TerminateExecution: abort metadata kept; terminal executions refuse."""
    remote = remote_for("development")
    execution_id = _create(client, project, launch_plan, name="stopme", a=1)
    execution = remote.fetch_execution(name="stopme")
    remote.terminate(execution, cause="no longer needed")
    closure = _get(client, execution_id).closure
    assert closure.phase == support.WorkflowPhase.ABORTED
    assert closure.abort_metadata.cause == "no longer needed"
    with pytest.raises(Exception) as raised:
        client._stub.TerminateExecution(
            execution_pb2.ExecutionTerminateRequest(id=execution_id, cause="again"), metadata=client._metadata
        )
    assert support.status_of(raised.value) == (
        grpc.StatusCode.FAILED_PRECONDITION, "Cannot abort an already terminated workflow execution"
    )  # fmt: skip


def test_relaunch_reuses_spec_and_user_inputs(client, project, launch_plan) -> None:
    """execution_manager.go RelaunchExecution: mode RELAUNCH, reference to the source execution."""
    source = _create(client, project, launch_plan, name="source", a=4)
    relaunched = client.relaunch_execution(WorkflowExecutionIdentifier.from_flyte_idl(source), name="again")
    execution = _get(client, relaunched)
    assert execution.spec.metadata.mode == execution_pb2.ExecutionMetadata.RELAUNCH
    assert execution.spec.metadata.reference_execution.name == "source"
    data = client.get_execution_data(relaunched)
    assert data.full_inputs.literals["a"].scalar.primitive.integer == 4


def test_recover_marks_recovered(client, project, launch_plan) -> None:
    """execution_manager.go RecoverExecution: mode RECOVERED."""
    source = _create(client, project, launch_plan, name="broken", a=4)
    recovered = client.recover_execution(WorkflowExecutionIdentifier.from_flyte_idl(source), name="fixed")
    execution = _get(client, recovered)
    assert execution.spec.metadata.mode == execution_pb2.ExecutionMetadata.RECOVERED


def test_execution_metrics_span(client, project, launch_plan) -> None:
    """metrics_manager.go GetExecutionMetrics: a span for the execution (empty of children here)."""
    execution_id = _create(client, project, launch_plan, name="measured", a=1)
    response = client.get_execution_metrics(WorkflowExecutionIdentifier.from_flyte_idl(execution_id))
    assert response.workflow_id.name == "measured"


def test_task_launch_wraps_the_task(remote_for, client, project) -> None:
    """util/single_task_execution.go: a task runs in a generated '.flytegen.<task>' workflow."""
    remote = remote_for("development")
    remote.register_task(support.add, serialization_settings=support.settings(project), version="v1")
    flyte_task = remote.fetch_task(name=support.add.name, version="v1")
    execution = remote.execute(flyte_task, inputs={"a": 1, "b": 2}, execution_name="single")
    fetched = _get(client, execution.id)
    assert fetched.spec.launch_plan.resource_type == identifier_pb2.TASK
    assert fetched.closure.workflow_id.name == f".flytegen.{support.add.name}"
    data = client.get_execution_data(execution.id)
    assert data.full_inputs.literals["b"].scalar.primitive.integer == 2


def test_flytekit_execute_is_idempotent_by_name(remote_for, project, launch_plan) -> None:
    """remote.py _execute: ALREADY_EXISTS for a named execution returns the existing one."""
    remote = remote_for("development")
    lp = remote.fetch_launch_plan(name=support.adder.name, version="v1")
    first = remote.execute(lp, inputs={"a": 1}, execution_name="idem")
    second = remote.execute(lp, inputs={"a": 1}, execution_name="idem")
    assert first.id == second.id
