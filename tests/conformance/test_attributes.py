"""Matchable attributes: flyteadmin ``pkg/manager/impl/resources/resource_manager.go``,
``validation/attributes_validator.go`` and ``repositories/gormimpl/resource_repo.go``."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import (
    matchable_resource_pb2 as mr,
)
from flyteidl.admin import (
    project_attributes_pb2 as pa,
)
from flyteidl.admin import (
    project_domain_attributes_pb2 as pda,
)
from flyteidl.admin import (
    workflow_attributes_pb2 as wa,
)
from flytekit.clients.friendly import SynchronousFlyteClient

from tests.conformance.registration_support import admin, status_of

pytestmark = pytest.mark.conformance
R = mr.MatchableResource


def _queue(*tags: str) -> mr.MatchingAttributes:
    return mr.MatchingAttributes(execution_queue_attributes=mr.ExecutionQueueAttributes(tags=list(tags)))


def test_most_specific_level_wins(client: SynchronousFlyteClient, project: str) -> None:
    """resource_repo.go: Get returns the highest-priority row (workflow > project-domain > project)."""
    stub = admin(client)
    stub.UpdateProjectAttributes(
        pa.ProjectAttributesUpdateRequest(
            attributes=pa.ProjectAttributes(project=project, matching_attributes=_queue("p"))
        )
    )
    workflow_get = wa.WorkflowAttributesGetRequest(
        project=project, domain="development", workflow="wf", resource_type=R.EXECUTION_QUEUE
    )
    assert list(
        stub.GetWorkflowAttributes(workflow_get).attributes.matching_attributes.execution_queue_attributes.tags
    ) == ["p"]
    stub.UpdateProjectDomainAttributes(
        pda.ProjectDomainAttributesUpdateRequest(
            attributes=pda.ProjectDomainAttributes(
                project=project, domain="development", matching_attributes=_queue("pd")
            )
        )
    )
    stub.UpdateWorkflowAttributes(
        wa.WorkflowAttributesUpdateRequest(
            attributes=wa.WorkflowAttributes(
                project=project, domain="development", workflow="wf", matching_attributes=_queue("w")
            )
        )
    )
    found = stub.GetWorkflowAttributes(workflow_get).attributes
    assert (found.workflow, list(found.matching_attributes.execution_queue_attributes.tags)) == ("wf", ["w"])
    domain_get = pda.ProjectDomainAttributesGetRequest(
        project=project, domain="development", resource_type=R.EXECUTION_QUEUE
    )
    assert list(
        stub.GetProjectDomainAttributes(domain_get).attributes.matching_attributes.execution_queue_attributes.tags
    ) == ["pd"]
    listed = stub.ListMatchableAttributes(mr.ListMatchableAttributesRequest(resource_type=R.EXECUTION_QUEUE))
    mine = [(c.domain, c.workflow) for c in listed.configurations if c.project == project]
    assert mine == [("development", "wf"), ("development", ""), ("", "")]


def test_delete_then_get_is_not_found(client: SynchronousFlyteClient, project: str) -> None:
    """resource_manager.go: Delete*Attributes, then Get* answers NOT_FOUND."""
    stub = admin(client)
    labels = mr.MatchingAttributes(execution_cluster_label=mr.ExecutionClusterLabel(value="gpu"))
    stub.UpdateProjectDomainAttributes(
        pda.ProjectDomainAttributesUpdateRequest(
            attributes=pda.ProjectDomainAttributes(project=project, domain="staging", matching_attributes=labels)
        )
    )
    get = pda.ProjectDomainAttributesGetRequest(
        project=project, domain="staging", resource_type=R.EXECUTION_CLUSTER_LABEL
    )
    assert stub.GetProjectDomainAttributes(get).attributes.matching_attributes.execution_cluster_label.value == "gpu"
    stub.DeleteProjectDomainAttributes(
        pda.ProjectDomainAttributesDeleteRequest(
            project=project, domain="staging", resource_type=R.EXECUTION_CLUSTER_LABEL
        )
    )
    code, message = status_of(lambda: stub.GetProjectDomainAttributes(get))
    assert code == grpc.StatusCode.NOT_FOUND
    assert message.startswith(f"Resource [{{Project:{project} Domain:staging")


@pytest.mark.parametrize(
    "attributes",
    [
        mr.MatchingAttributes(workflow_execution_config=mr.WorkflowExecutionConfig(max_parallelism=7)),
        mr.MatchingAttributes(
            task_resource_attributes=mr.TaskResourceAttributes(defaults=mr.TaskResourceSpec(cpu="1", memory="1Gi"))
        ),
        mr.MatchingAttributes(
            plugin_overrides=mr.PluginOverrides(
                overrides=[mr.PluginOverride(task_type="python-task", plugin_id=["k8s"])]
            )
        ),
    ],
    ids=["workflow_execution_config", "task_resource", "plugin_override"],
)
def test_project_attributes_round_trip(
    client: SynchronousFlyteClient, project: str, attributes: mr.MatchingAttributes
) -> None:
    """resource_manager.go: UpdateProjectAttributes / GetProjectAttributes for each supported type."""
    stub = admin(client)
    stub.UpdateProjectAttributes(
        pa.ProjectAttributesUpdateRequest(
            attributes=pa.ProjectAttributes(project=project, matching_attributes=attributes)
        )
    )
    kind = {
        "workflow_execution_config": R.WORKFLOW_EXECUTION_CONFIG,
        "task_resource_attributes": R.TASK_RESOURCE,
        "plugin_overrides": R.PLUGIN_OVERRIDE,
    }[attributes.WhichOneof("target")]
    got = stub.GetProjectAttributes(pa.ProjectAttributesGetRequest(project=project, resource_type=kind))
    assert got.attributes.matching_attributes == attributes


def test_plugin_overrides_merge(client: SynchronousFlyteClient, project: str) -> None:
    """resource_manager.go: createOrMergeUpdate… keeps overrides for other task types."""
    stub = admin(client)
    for task_type, plugin in (("spark", "spark-a"), ("ray", "ray-a"), ("spark", "spark-b")):
        overrides = mr.PluginOverrides(overrides=[mr.PluginOverride(task_type=task_type, plugin_id=[plugin])])
        stub.UpdateWorkflowAttributes(
            wa.WorkflowAttributesUpdateRequest(
                attributes=wa.WorkflowAttributes(
                    project=project, domain="development", workflow="wf",
                    matching_attributes=mr.MatchingAttributes(plugin_overrides=overrides),
                )
            )
        )  # fmt: skip
    got = stub.GetWorkflowAttributes(
        wa.WorkflowAttributesGetRequest(
            project=project, domain="development", workflow="wf", resource_type=R.PLUGIN_OVERRIDE
        )
    )
    overrides = got.attributes.matching_attributes.plugin_overrides.overrides
    assert {(o.task_type, tuple(o.plugin_id)) for o in overrides} == {("ray", ("ray-a",)), ("spark", ("spark-b",))}


def test_attribute_validation(client: SynchronousFlyteClient, project: str) -> None:
    """attributes_validator.go: missing attributes, unknown project/domain, empty matching attributes."""
    stub = admin(client)
    assert status_of(lambda: stub.UpdateProjectDomainAttributes(pda.ProjectDomainAttributesUpdateRequest())) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "missing attributes",
    )
    bad_domain = pda.ProjectDomainAttributes(project=project, domain="qa", matching_attributes=_queue("x"))
    assert status_of(
        lambda: stub.UpdateProjectDomainAttributes(pda.ProjectDomainAttributesUpdateRequest(attributes=bad_domain))
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "domain [qa] is unrecognized by system")
    empty = wa.WorkflowAttributes(
        project=project, domain="development", workflow="wf", matching_attributes=mr.MatchingAttributes()
    )
    assert status_of(lambda: stub.UpdateWorkflowAttributes(wa.WorkflowAttributesUpdateRequest(attributes=empty))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"Unrecognized matching attributes type for request {project}-development-wf",
    )
    code, message = status_of(
        lambda: stub.GetProjectAttributes(
            pa.ProjectAttributesGetRequest(project="nobody", resource_type=R.TASK_RESOURCE)
        )
    )
    assert (code, message) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "failed to validate that project [nobody] exists, err: [project [nobody] not found]",
    )
