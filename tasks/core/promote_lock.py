"""The promotion lock, expressed in Flyte: unfinished executions of the promotion meta-workflow.

One promotion per (pipeline, domain) at a time. A promotion execution is named
``promote-<version>-<domain>-<hash>`` (launching the same promotion twice yields one execution), and
before it changes anything it lists the promotion executions that are not finished yet: whoever was
created first (creation time, then name) holds the lock, every other one is refused with the
holder's name. Both sides of a race see each other once both exist, and agree on the order.

The executions are found by workflow name in the project/domain where Taxiway's meta-workflows run;
each one's ``pipeline``, ``version`` and ``to_domain`` inputs say what it promotes (this works for
launches from the UI, a schedule or the CLI alike, whatever their labels).
"""

from __future__ import annotations

import logging

from flyteidl.admin import common_pb2
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.core import literals_pb2
from flytekit.clients.raw import RawSynchronousFlyteClient
from flytekit.remote import FlyteRemote

from tasks.core.promote_decide import PromotionExecution
from tasks.core.promote_flyte import admin_errors, execution_id, phase_of
from tasks.core.promote_outputs import literal_to_python
from tasks.core.validate import ExecutionRef
from tasks.core.vocabulary import Phase

logger = logging.getLogger(__name__)

#: The registered name of ``meta_workflows.promote.promote_pipeline`` (names are API).
PROMOTE_WORKFLOW = "meta_workflows.promote.promote_pipeline"


class FlytePromotions:
    """:class:`tasks.core.promote.LockPort` over the meta-workflows' project and domain.

    :param remote: a remote whose default project and domain are where the meta-workflows run.
    :param workflow: the promotion workflow's registered name.
    """

    def __init__(self, remote: FlyteRemote, workflow: str = PROMOTE_WORKFLOW) -> None:
        self.remote = remote
        self.workflow = workflow

    def running(self, pipeline: str, domain: str) -> list[PromotionExecution]:
        """Unfinished promotions of ``pipeline`` into ``domain``."""
        return [item for item in self.promotions(pipeline, domain) if not Phase(item.phase).is_terminal]

    def promotions(self, pipeline: str, domain: str, limit: int = 200) -> list[PromotionExecution]:
        """The latest promotion executions of ``pipeline`` into ``domain``, newest first, any phase."""
        project, meta_domain = self.remote.default_project, self.remote.default_domain
        request = common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=project, domain=meta_domain),
            limit=limit,
            filters=f"eq(workflow.name,{self.workflow})",
            sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING),
        )
        with admin_errors("ListExecutions", f"{project}/{meta_domain}"):
            page = RawSynchronousFlyteClient.list_executions_paginated(self.remote.client, request)
        found = []
        for execution in page.executions:
            ref = ExecutionRef(execution.id.project, execution.id.domain, execution.id.name)
            inputs = self._inputs(ref)
            if inputs.get("pipeline") == pipeline and inputs.get("to_domain") == domain:
                created = (
                    execution.closure.created_at.ToJsonString() if execution.closure.HasField("created_at") else ""
                )
                found.append(
                    PromotionExecution(str(ref), str(inputs.get("version", "")), created, phase_of(execution).value)
                )
        logger.debug("promotions pipeline=%s domain=%s found=%s", pipeline, domain, [f.execution for f in found])
        return found

    def _inputs(self, ref: ExecutionRef) -> dict[str, object]:
        request = admin_execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(ref))
        with admin_errors("GetExecutionData", str(ref)):
            data = RawSynchronousFlyteClient.get_execution_data(self.remote.client, request)
        literals: dict[str, literals_pb2.Literal] = dict(data.full_inputs.literals)
        return {name: literal_to_python(literal) for name, literal in literals.items()}
