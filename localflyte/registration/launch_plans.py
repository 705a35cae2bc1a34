"""Launch plans: flyteadmin ``pkg/manager/impl/launch_plan_manager.go``.

Created INACTIVE against an existing workflow, inputs checked against its interface. Activating a version
deactivates the previously active version of the same (project, domain, name) in the same transaction,
so exactly one version is ever active; the scheduler reads the active ones
(:func:`localflyte.registration.repository.active_scheduled_launch_plans`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flyteidl.admin import common_pb2, launch_plan_pb2
from flyteidl.core import identifier_pb2

from localflyte import filters
from localflyte.context import AppContext
from localflyte.errors import invalid_argument, missing_argument, not_found
from localflyte.registration import entities
from localflyte.registration.digests import digest
from localflyte.registration.launch_plan_validation import validate_launch_plan_spec
from localflyte.registration.repository import (
    EntityRecord,
    fetch_entity,
    fetch_launch_plan,
    fetch_workflow,
    launch_plan_from_record,
    record_from_row,
    validate_project_and_domain,
)
from localflyte.registration.validation import (
    require,
    validate_identifier,
    validate_limit,
    validate_named_entity_identifier,
    validate_registration_identifier,
)
from localflyte.server import Handler

log = logging.getLogger(__name__)
LAUNCH_PLAN = identifier_pb2.LAUNCH_PLAN
ACTIVE = launch_plan_pb2.ACTIVE
INACTIVE = launch_plan_pb2.INACTIVE


def _old_spec(record: EntityRecord) -> launch_plan_pb2.LaunchPlanSpec:
    return launch_plan_pb2.LaunchPlanSpec.FromString(record.spec)


class LaunchPlanManager:
    """Registers, activates and lists launch plans."""

    def __init__(self, context: AppContext) -> None:
        self._context = context

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.CreateLaunchPlan": self.create,
            "AdminService.GetLaunchPlan": self.get,
            "AdminService.UpdateLaunchPlan": self.update,
            "AdminService.GetActiveLaunchPlan": self.get_active,
            "AdminService.ListLaunchPlans": self.list,
            "AdminService.ListActiveLaunchPlans": self.list_active,
            "AdminService.ListLaunchPlanIds": self.list_ids,
        }

    def create(self, request: launch_plan_pb2.LaunchPlanCreateRequest) -> launch_plan_pb2.LaunchPlanCreateResponse:
        context = self._context
        workflow_id = request.spec.workflow_id
        validate_identifier(workflow_id, identifier_pb2.WORKFLOW, request.spec.HasField("workflow_id"))
        workflow = fetch_workflow(context.store, workflow_id)
        validate_registration_identifier(request.id, LAUNCH_PLAN, request.HasField("id"))
        validate_project_and_domain(context.store, context.settings.domains, request.id.project, request.id.domain)
        if not request.HasField("spec"):
            raise missing_argument("spec")
        interface = workflow.closure.compiled_workflow.primary.template.interface
        spec = launch_plan_pb2.LaunchPlanSpec()
        spec.CopyFrom(request.spec)
        validate_launch_plan_spec(spec, interface)
        launch_plan = launch_plan_pb2.LaunchPlan(
            id=request.id,
            spec=spec,
            closure=launch_plan_pb2.LaunchPlanClosure(
                expected_inputs=spec.default_inputs, expected_outputs=interface.outputs
            ),
        )
        fingerprint = digest(launch_plan)
        now = context.clock.now()
        launch_plan.closure.created_at.CopyFrom(entities.timestamp(now))
        launch_plan.closure.updated_at.CopyFrom(entities.timestamp(now))
        entities.register(
            context.store,
            "launch plan",
            entities.NewEntity(
                identifier=request.id,
                spec=spec.SerializeToString(),
                closure=launch_plan.closure.SerializeToString(),
                digest=fingerprint,
                created_at=now,
                state=INACTIVE,
            ),
            spec,
            _old_spec,
        )
        log.info("registered launch plan id=%s", entities.urn(request.id))
        return launch_plan_pb2.LaunchPlanCreateResponse()

    def get(self, request: common_pb2.ObjectGetRequest) -> launch_plan_pb2.LaunchPlan:
        validate_identifier(request.id, LAUNCH_PLAN, request.HasField("id"))
        return fetch_launch_plan(self._context.store, request.id)

    def update(self, request: launch_plan_pb2.LaunchPlanUpdateRequest) -> launch_plan_pb2.LaunchPlanUpdateResponse:
        """``UpdateLaunchPlan``: ACTIVE swaps the active version atomically; INACTIVE deactivates."""
        if request.state not in (ACTIVE, INACTIVE):
            raise invalid_argument(
                f"Unrecognized launch plan state {request.state} for update for launch plan [{request.id}]"
            )
        identifier = identifier_pb2.Identifier()
        identifier.CopyFrom(request.id)
        identifier.resource_type = LAUNCH_PLAN
        store = self._context.store
        now = self._context.clock.now()
        with store.transaction():
            fetch_entity(store, identifier)
            if request.state == ACTIVE:
                store.execute(
                    "UPDATE entities SET state = ? WHERE resource_type = ? AND project = ? AND domain = ? "
                    "AND name = ? AND state = ? AND version != ?",
                    (INACTIVE, LAUNCH_PLAN, identifier.project, identifier.domain, identifier.name, ACTIVE,
                     identifier.version),
                )  # fmt: skip
            store.execute(
                "UPDATE entities SET state = ?, closure = ? WHERE resource_type = ? AND project = ? AND domain = ? "
                "AND name = ? AND version = ?",
                (request.state, self._touched_closure(identifier, now), LAUNCH_PLAN, identifier.project,
                 identifier.domain, identifier.name, identifier.version),
            )  # fmt: skip
        log.info(
            "launch plan id=%s state=%s", entities.urn(identifier), launch_plan_pb2.LaunchPlanState.Name(request.state)
        )
        return launch_plan_pb2.LaunchPlanUpdateResponse()

    def _touched_closure(self, identifier: identifier_pb2.Identifier, now: float) -> bytes:
        closure = launch_plan_pb2.LaunchPlanClosure.FromString(fetch_entity(self._context.store, identifier).closure)
        closure.updated_at.CopyFrom(entities.timestamp(now))
        return closure.SerializeToString()

    def get_active(self, request: launch_plan_pb2.ActiveLaunchPlanRequest) -> launch_plan_pb2.LaunchPlan:
        named = request.id
        validate_named_entity_identifier(named.project, named.domain, named.name)
        row = self._context.store.query_one(
            "SELECT * FROM entities WHERE resource_type = ? AND project = ? AND domain = ? AND name = ? AND state = ?",
            (LAUNCH_PLAN, named.project, named.domain, named.name, ACTIVE),
        )
        if row is None:
            raise not_found(f"No active launch plan could be found: {named.project}:{named.domain}:{named.name}")
        return launch_plan_from_record(record_from_row(row))

    def list(self, request: common_pb2.ResourceListRequest) -> launch_plan_pb2.LaunchPlanList:
        records, token = entities.list_records(
            self._context.store, LAUNCH_PLAN, request, "ListLaunchPlans", "launch_plan", entities.LAUNCH_PLAN_COLUMNS
        )
        return launch_plan_pb2.LaunchPlanList(
            launch_plans=[launch_plan_from_record(record) for record in records], token=token
        )

    def list_active(self, request: launch_plan_pb2.ActiveLaunchPlanListRequest) -> launch_plan_pb2.LaunchPlanList:
        require(request.project, "project")
        require(request.domain, "domain")
        validate_limit(request.limit)
        columns = entities.LAUNCH_PLAN_COLUMNS
        order = filters.order_by(request.sort_by if request.HasField("sort_by") else None, columns, "name ASC, seq ASC")
        limit, offset = filters.page(request.limit, request.token, "ListActiveLaunchPlans")
        rows = self._context.store.query(
            f"SELECT * FROM entities WHERE resource_type = ? AND project = ? AND domain = ? AND state = ? "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            (LAUNCH_PLAN, request.project, request.domain, ACTIVE, limit, offset),
        )
        plans = [launch_plan_from_record(record_from_row(row)) for row in rows]
        return launch_plan_pb2.LaunchPlanList(launch_plans=plans, token=filters.next_token(offset, limit, plans))

    def list_ids(self, request: common_pb2.NamedEntityIdentifierListRequest) -> common_pb2.NamedEntityIdentifierList:
        return entities.identifier_list(self._context.store, LAUNCH_PLAN, request, "ListLaunchPlanIds", "launch_plan")
