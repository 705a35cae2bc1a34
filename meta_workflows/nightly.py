"""``nightly_promotion``: promote the newest release validated in the previous domain that the target lacks."""

from __future__ import annotations

from flytekit import dynamic, workflow
from flytekit.types.file import FlyteFile

from meta_workflows.promote import promote_pipeline
from tasks.promote import choose_nightly
from tasks.promote_locate import locate_pipeline
from tasks.promote_report import nightly_failed, report_nightly_choice
from tasks.validate import ReleaseContext


@dynamic
def promote_if_chosen(context: ReleaseContext, version: str, to_domain: str) -> str:
    """Run ``promote_pipeline`` for ``version`` unless it is empty (nothing new to promote).

    :param context: the pipeline's newest release and its taxiway.yaml.
    :param version: the chosen release, or "".
    :param to_domain: the target domain.
    """
    if not version:
        return ""
    promote_pipeline(pipeline=context.release.pipeline, version=version, to_domain=to_domain)
    return version


@workflow(on_failure=nightly_failed)
def nightly_promotion(pipeline: str, to_domain: str = "staging", config: FlyteFile | None = None) -> str:
    """Pick the newest release validated in the domain before ``to_domain`` that ``to_domain`` does not
    have yet, and promote it (with approval where the domain requires it). Does nothing when there is none.
    Its Slack message names the chosen release; the promotion itself reports in its own thread.

    :param pipeline: the pipeline name from taxiway.yaml.
    :param to_domain: the domain to promote into.
    :param config: a taxiway.yaml to use instead of the newest release's.
    :returns: the promoted version, or "" when there was nothing to promote.
    """
    # Node names are what the failure handler's Slack message names (tasks.promote_report.NIGHTLY_NODES).
    context = locate_pipeline(pipeline=pipeline, config=config).with_overrides(node_name="locate-pipeline")
    version = choose_nightly(context=context, to_domain=to_domain).with_overrides(node_name="choose-nightly")
    chosen = report_nightly_choice(context=context, to_domain=to_domain, version=version).with_overrides(
        node_name="report-choice"
    )
    promoted = promote_if_chosen(context=context, version=version, to_domain=to_domain).with_overrides(
        node_name="promote-if-chosen"
    )
    chosen >> promoted
    return promoted
