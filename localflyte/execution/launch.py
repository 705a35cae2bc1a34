"""Turning an ``ExecutionCreateRequest`` into a stored execution, as flyteadmin's launch paths do.

Ports ``validation.ValidateExecutionRequest``, ``ExecutionManager.launchExecution`` (launch plans)
and ``launchSingleTaskExecution`` (tasks, wrapped in a generated workflow and launch plan by
``util/single_task_execution.go``), and ``transformers.CreateExecutionModel``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable

from flyteidl.admin import execution_pb2, launch_plan_pb2, matchable_resource_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from localflyte.context import AppContext
from localflyte.errors import invalid_argument, missing_argument
from localflyte.execution import generated
from localflyte.execution.common import timestamp
from localflyte.execution.config import resolve_execution_config, resolve_string_map
from localflyte.execution.inputs import check_and_fetch_inputs
from localflyte.execution.records import ExecutionRecord
from localflyte.registration import repository
from localflyte.storage import BlobStore

ResourceType = identifier_pb2.ResourceType
EXECUTION_NAME = re.compile(r"^[a-z][a-z\-0-9]*$")
MAX_NAME_LENGTH = 63
# k8s.io/apimachinery rand.String's alphabet: no vowels, no confusable digits.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def generated_name() -> str:
    """``common.GetExecutionName``: ``a`` plus 19 random characters."""
    return "a" + "".join(random.choice(_NAME_ALPHABET) for _ in range(19))


def check_valid_execution_id(name: str, field: str = "name") -> None:
    """``validation.CheckValidExecutionID``."""
    if len(name) > MAX_NAME_LENGTH:
        raise invalid_argument(f"size of {field} exceeded length {MAX_NAME_LENGTH} : {name}")
    if not EXECUTION_NAME.match(name):
        raise invalid_argument(f"invalid {field} format: {name}, does not match regex '{EXECUTION_NAME.pattern}'")


def validate_request(context: AppContext, request: execution_pb2.ExecutionCreateRequest) -> None:
    """``validation.ValidateExecutionRequest``."""
    if not request.project:
        raise missing_argument("project")
    if not request.domain:
        raise missing_argument("domain")
    if request.name:
        check_valid_execution_id(request.name.lower())
    repository.validate_project_and_domain(context.store, context.settings.domains, request.project, request.domain)
    if not request.HasField("spec"):
        raise missing_argument("spec")
    reference = request.spec.launch_plan
    if not request.spec.HasField("launch_plan"):
        raise missing_argument("id")
    for field in ("project", "domain", "name", "version"):
        if not getattr(reference, field):
            raise missing_argument(field)
    if reference.resource_type not in (ResourceType.LAUNCH_PLAN, ResourceType.TASK):
        raise invalid_argument(
            f"Invalid reference entity resource type [{ResourceType.Name(reference.resource_type)}], "
            "only [map[LAUNCH_PLAN:<nil> TASK:<nil>]] allowed"
        )


class Launcher:
    """Builds the execution record for a create / relaunch / recover request."""

    def __init__(
        self,
        context: AppContext,
        blobs: BlobStore,
        registration_handler: Callable[[str], Callable[[object], object] | None],
    ) -> None:
        self._context = context
        self._blobs = blobs
        self._registration_handler = registration_handler

    def prepare(self, request: execution_pb2.ExecutionCreateRequest) -> ExecutionRecord:
        if not request.inputs.literals:
            request.inputs.CopyFrom(request.spec.inputs)
        validate_request(self._context, request)
        store = self._context.store
        reference = request.spec.launch_plan
        task_name = ""
        if reference.resource_type == ResourceType.TASK:
            task = repository.fetch_task(store, reference)
            launch_plan = generated.create_or_get(store, task, request.spec, self._registration_handler)
            task_name = reference.name
        else:
            launch_plan = repository.fetch_launch_plan(store, reference)
        inputs = check_and_fetch_inputs(
            request.inputs, launch_plan.spec.fixed_inputs, launch_plan.closure.expected_inputs
        )
        workflow = repository.fetch_workflow(store, launch_plan.spec.workflow_id)
        name = request.name or generated_name()
        inputs_uri = self._blobs.write_literal_map(inputs, request.project, request.domain, name, "inputs")
        user_inputs_uri = self._blobs.write_literal_map(
            request.inputs, request.project, request.domain, name, "user_inputs"
        )
        # flyteadmin resolves single-task executions without the (generated) launch plan's settings.
        lp_for_config = None if task_name else launch_plan
        config = resolve_execution_config(store, request.project, request.domain, request.spec, lp_for_config)
        labels = resolve_string_map(config.labels if config.labels.values else None, launch_plan.spec.labels)
        annotations = resolve_string_map(
            config.annotations if config.annotations.values else None, launch_plan.spec.annotations
        )
        return self._record(request, name, launch_plan, workflow.id, task_name, config, labels, annotations,
                            inputs_uri, user_inputs_uri)  # fmt: skip

    def _record(
        self,
        request: execution_pb2.ExecutionCreateRequest,
        name: str,
        launch_plan: launch_plan_pb2.LaunchPlan,
        workflow_id: identifier_pb2.Identifier,
        task_name: str,
        config: matchable_resource_pb2.WorkflowExecutionConfig,
        labels: dict[str, str],
        annotations: dict[str, str],
        inputs_uri: str,
        user_inputs_uri: str,
    ) -> ExecutionRecord:
        """``transformers.CreateExecutionModel``: the spec as requested plus what admin adds."""
        now = self._context.clock.now()
        spec = execution_pb2.ExecutionSpec()
        spec.CopyFrom(request.spec)
        if not task_name:
            spec.max_parallelism = config.max_parallelism
        spec.metadata.system_metadata.namespace = f"{request.project}-{request.domain}"
        spec.security_context.CopyFrom(config.security_context)
        created = timestamp(now)
        closure = execution_pb2.ExecutionClosure(created_at=created, updated_at=created, workflow_id=workflow_id)
        closure.state_change_details.state = execution_pb2.EXECUTION_ACTIVE
        closure.state_change_details.occurred_at.CopyFrom(created)
        closure.state_change_details.principal = spec.metadata.principal
        notifications = list(launch_plan.spec.entity_metadata.notifications)
        if spec.notifications.notifications:
            notifications = list(spec.notifications.notifications)
        elif spec.disable_all:
            notifications = []
        closure.notifications.extend(notifications)
        return ExecutionRecord(
            project=request.project,
            domain=request.domain,
            name=name,
            phase="UNDEFINED",
            spec=spec.SerializeToString(),
            closure=closure.SerializeToString(),
            resolved_config=config.SerializeToString(),
            launch_entity="task" if task_name else "launch_plan",
            launch_plan_name=launch_plan.id.name,
            workflow_name=workflow_id.name,
            task_name=task_name,
            labels=json.dumps(labels, sort_keys=True),
            annotations=json.dumps(annotations, sort_keys=True),
            inputs_uri=inputs_uri,
            user_inputs_uri=user_inputs_uri,
            user=spec.metadata.principal,
            mode=int(spec.metadata.mode),
            parent_node_execution=_text_or_empty(spec.metadata),
            created_at=now,
            updated_at=now,
        )


def _text_or_empty(metadata: execution_pb2.ExecutionMetadata) -> str:
    if not metadata.HasField("parent_node_execution"):
        return ""
    node = metadata.parent_node_execution
    return f"{node.execution_id.project}/{node.execution_id.domain}/{node.execution_id.name}/{node.node_id}"


def read_user_inputs(blobs: BlobStore, record: ExecutionRecord) -> literals_pb2.LiteralMap:
    """The inputs the user gave (relaunch and recover reuse them, not the defaults-filled ones)."""
    if record.user_inputs_uri:
        return blobs.read_literal_map(record.user_inputs_uri)
    return record.spec_proto().inputs
