"""``release_model``: serve the model a release's validated execution produced; ``promote_and_release_model``:
promote a release, then serve its model from the domain it was promoted into.

Composition only; the steps are tasks in ``tasks/rollout.py``. Run on its own::

    pyflyte run --remote --name release-<version>-<domain> meta_workflows/release_model.py release_model \\
        --pipeline training --version 0123456789ab --domain production
"""

from __future__ import annotations

from flytekit import workflow
from flytekit.types.file import FlyteFile

from meta_workflows.promote import promote_pipeline
from tasks.core.rollout_records import RolloutRecord
from tasks.promote_locate import locate_release
from tasks.rollout import locate_model, release_model_failed, report_rollout, roll_out_model


@workflow(on_failure=release_model_failed)
def release_model(pipeline: str, version: str, domain: str = "", config: FlyteFile | None = None) -> RolloutRecord:
    """Roll the model of a release out to the serving target of its taxiway.yaml: take the model output of the
    release's passed validation execution in ``domain`` (refused if it was never validated there or did not
    pass), copy it into the model store under a content-addressed key with its provenance, deploy it, smoke-test
    it with the requests of ``serving.smoke``, then switch traffic to it. A failed smoke test keeps the previous
    model serving (outcome ``KEPT_PREVIOUS``); re-running a rollout that already serves changes nothing
    (``NO_OP``). Reported in the domain's Slack channel and in the Deck.

    :param pipeline: the pipeline name from taxiway.yaml.
    :param version: the release version, e.g. ``0123456789ab``.
    :param domain: where the release was validated; empty for taxiway.yaml's ``serving.domain`` (default: the
        last domain of the promotion order, e.g. ``production``).
    :param config: a taxiway.yaml to use instead of the one the release was built with.
    :returns: the rollout record: stored model, checksum, target, previous version, smoke results, outcome.
    """
    # Node names are what the failure handler's Slack message names (tasks.core.rollout_report.RELEASE_MODEL_NODES).
    context = locate_release(pipeline=pipeline, version=version, config=config).with_overrides(
        node_name="locate-release"
    )
    model = locate_model(context=context, domain=domain).with_overrides(node_name="locate-model")
    record = roll_out_model(context=context, model=model).with_overrides(node_name="roll-out")
    report_rollout(context=context, model=model, record=record).with_overrides(node_name="report-rollout")
    return record


@workflow
def promote_and_release_model(
    pipeline: str, version: str, to_domain: str = "production", override_reason: str = "",
    config: FlyteFile | None = None,
) -> RolloutRecord:  # fmt: skip
    """Promote a release into ``to_domain`` (``promote_pipeline``: gated, approved where required, validated,
    activated), and once that succeeded roll its model out from there (``release_model``). A failed or refused
    promotion fails this run before serving changes.

    :param pipeline: the pipeline name from taxiway.yaml.
    :param version: the release version, e.g. ``0123456789ab``.
    :param to_domain: the domain to promote into and serve from, e.g. ``production``.
    :param override_reason: allow skipping a domain or going backwards; the reason is recorded.
    :param config: a taxiway.yaml to use instead of the one the release was built with.
    :returns: the rollout record.
    """
    promoted = promote_pipeline(
        pipeline=pipeline, version=version, to_domain=to_domain, override_reason=override_reason, config=config
    )
    released = release_model(pipeline=pipeline, version=version, domain=to_domain, config=config)
    promoted >> released
    return released
