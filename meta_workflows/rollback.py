"""``rollback_pipeline``: re-activate an earlier validated release in one domain."""

from __future__ import annotations

from flytekit import workflow
from flytekit.types.file import FlyteFile

from tasks.core.promote_rollback import RollbackRecord
from tasks.promote import rollback_task
from tasks.promote_locate import locate_pipeline
from tasks.promote_report import report_rollback, report_rollback_started, rollback_failed


@workflow(on_failure=rollback_failed)
def rollback_pipeline(
    pipeline: str, domain: str, to_version: str = "", config: FlyteFile | None = None
) -> RollbackRecord:
    """Re-activate the launch plans of the release active before the current one in ``domain`` (or of
    ``to_version``); only releases that passed validation in that domain qualify, PR releases never.
    Reported as one threaded Slack message in ``domain``'s channel; a failed step is reported naming its node.

    :param pipeline: the pipeline name from taxiway.yaml.
    :param domain: the domain to roll back, e.g. ``production``.
    :param to_version: the release to re-activate; empty for the previous validated one.
    :param config: a taxiway.yaml to use instead of the newest release's.
    :returns: the rollback record: from and to versions, launch plans activated and deactivated.
    """
    # Node names are what the failure handler's Slack message names (tasks.promote_report.ROLLBACK_NODES).
    context = locate_pipeline(pipeline=pipeline, config=config).with_overrides(node_name="locate-pipeline")
    started = report_rollback_started(context=context, domain=domain, to_version=to_version).with_overrides(
        node_name="report-started"
    )
    record = rollback_task(context=context, domain=domain, to_version=to_version).with_overrides(node_name="rollback")
    report_rollback(report=started, record=record).with_overrides(node_name="report-rollback")
    return record
