"""``promote_pipeline``: move one release into the next domain, gated, validated, then activated.

Composition only; the steps are tasks in ``tasks/promote.py``. Launch it with a deterministic name so
that launching the same promotion twice yields one execution (``taxiway promote`` does)::

    pyflyte run --remote --name promote-<version>-<domain>-<hash> meta_workflows/promote.py promote_pipeline \\
        --pipeline training --version 0123456789ab --to_domain staging
"""

from __future__ import annotations

from flytekit import workflow
from flytekit.types.file import FlyteFile

from tasks.core.promote import PromotionRecord
from tasks.promote import apply_promotion_task, await_approval, check_promotion_gate
from tasks.promote_approval import request_promotion_approval
from tasks.promote_locate import locate_release
from tasks.promote_report import promotion_failed, report_approval, report_promotion, report_promotion_started


@workflow(on_failure=promotion_failed)
def promote_pipeline(
    pipeline: str, version: str, to_domain: str, override_reason: str = "", config: FlyteFile | None = None
) -> PromotionRecord:
    """Promote a release into ``to_domain``: refused unless it passed validation in the previous domain of
    the configured order (no skipping, no going backwards, one promotion per pipeline and domain at a time);
    waits for approval where the domain requires it; registers the same package and version there with the
    domain's settings, validates there, and only then activates its launch plans (deactivating the previous
    release's). On failure the previously active release stays active. The run is reported as one threaded
    Slack message in ``to_domain``'s channel; a failed step is reported naming its node.

    :param pipeline: the pipeline name from taxiway.yaml.
    :param version: the release version, e.g. ``0123456789ab``.
    :param to_domain: the domain to promote into, e.g. ``staging``.
    :param override_reason: allow skipping a domain or going backwards; the reason is recorded.
    :param config: a taxiway.yaml to use instead of the one the release was built with.
    :returns: the promotion record: validation report, activated launch plans, approver.
    """
    # Node names are what the failure handler's Slack message names (tasks.promote_report.PROMOTE_NODES).
    context = locate_release(pipeline=pipeline, version=version, config=config).with_overrides(
        node_name="locate-release"
    )
    started = report_promotion_started(context=context, to_domain=to_domain).with_overrides(node_name="report-started")
    check = check_promotion_gate(context=context, to_domain=to_domain, override_reason=override_reason).with_overrides(
        node_name="check-promotion-gate"
    )
    # Posts the Slack message with Approve / Reject buttons and records the request, where approval applies.
    requested = request_promotion_approval(context=context, check=check).with_overrides(node_name="request-approval")
    approval = await_approval(check=check).with_overrides(node_name="await-approval")
    requested >> approval
    approved = report_approval(report=started, check=check, approval=approval).with_overrides(
        node_name="report-approval"
    )
    record = apply_promotion_task(context=context, check=check, approval=approval).with_overrides(
        node_name="apply-promotion"
    )
    # After the approval report, so that the thread reads in order.
    approved >> record
    report_promotion(report=approved, record=record).with_overrides(node_name="report-promotion")
    return record
