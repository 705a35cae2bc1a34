"""Flyte tasks that roll a validated model out to serving (logic: :mod:`tasks.core.rollout` and friends).

Clients are built here from the task's environment (:mod:`tasks.clients`); transient errors (S3, the
model server or FlyteAdmin briefly unavailable) become ``FlyteRecoverableException`` so ``retries=``
applies to them only. Every step is idempotent: a retried or re-run rollout of a model that already
serves changes nothing (``NO_OP``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import boto3
import flytekit
from flytekit import task
from flytekit.types.error import FlyteError
from flytekit.types.file import FlyteFile

from tasks.clients import recoverable, s3_client
from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.config_models import OipServing, SageMakerServing
from tasks.core.notify import Delivery, SlackThread
from tasks.core.notify_records import RunInfo
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.promote_releases import find_release
from tasks.core.promote_report import run_failure
from tasks.core.rollout import roll_out
from tasks.core.rollout_records import RolloutRecord
from tasks.core.rollout_report import RELEASE_MODEL_NODES, rollout_deck, rollout_run, rollout_step
from tasks.core.rollout_source import ValidatedModel, locate_validated_model, rollout_domain, serving_spec
from tasks.core.rollout_targets import serving_target
from tasks.core.vocabulary import Event
from tasks.notify import DEFAULT_TOKEN_SECRET, SlackTarget, execution_link, notifier
from tasks.validate import ReleaseContext, meta_remote, remotes

logger = logging.getLogger(__name__)


def _model_name(spec: OipServing | SageMakerServing) -> str:
    return spec.model_name if isinstance(spec, OipServing) else spec.endpoint_name


def _run(model: ValidatedModel) -> RunInfo:
    return rollout_run(model.pipeline, model.version, model.domain, execution_link(), model.git_sha)


@task(retries=3, cache=False)
def locate_model(context: ReleaseContext, domain: str = "") -> ValidatedModel:
    """Find the model output of the release's passed validation execution in ``domain`` (reads Flyte only).
    Refused when the release was never validated there or did not pass.

    :param context: the release and its taxiway.yaml.
    :param domain: where the release was validated; "" for taxiway.yaml's ``serving.domain`` (default: the last).
    """
    config = context.config()
    all_remotes = remotes()
    executions = FlyteExecutions(lambda name: all_remotes.for_domain(config.project, name))
    with recoverable():
        return locate_validated_model(config, context.release, domain, executions)


@task(retries=3, cache=False, enable_deck=True)
def roll_out_model(context: ReleaseContext, model: ValidatedModel) -> RolloutRecord:
    """Copy the model into the model store (content-addressed, with its provenance), deploy it to the serving
    target of taxiway.yaml, smoke-test it, then switch traffic to it, or keep the previous model serving.

    :param context: the release and its taxiway.yaml (serving section).
    :param model: the validated model output, from ``locate_model``.
    """
    spec = serving_spec(context.config())
    s3 = s3_client()
    with recoverable():
        target = serving_target(spec, s3_client=s3, aws_session=boto3.Session())
        record = roll_out(model.request(), s3_client=s3, target=target, smoke=spec.smoke, bucket=spec.model_store)
    flytekit.Deck("rollout", rollout_deck(_run(model), record, model, _model_name(spec)))
    return record


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_rollout(context: ReleaseContext, model: ValidatedModel, record: RolloutRecord) -> Delivery:
    """Post the rollout to the domain's Slack channel: one message, the outcome in its thread. Never fails
    because of Slack.

    :param context: the release and its taxiway.yaml (notifications section).
    :param model: the validated model output that was rolled out.
    :param record: what the rollout did.
    """
    slack = notifier(SlackTarget.for_domain(context.config(), model.domain))
    run = _run(model)
    started = slack.started(run)
    return slack.step(started.thread, run, rollout_step(record, model))


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def release_model_failed(
    pipeline: str, version: str, domain: str = "", config: FlyteFile | None = None, err: FlyteError | None = None
) -> None:
    """``release_model``'s failure handler: post a failure message naming the failed step and node. Never raises
    (the run fails with its own error anyway).

    :param pipeline: the workflow's input.
    :param version: the workflow's input.
    :param domain: the workflow's input.
    :param config: the workflow's input.
    :param err: the error of the node that failed (Flyte binds it).
    """
    failed_node, message = (err.failed_node_id, err.message) if err is not None else ("", "")
    try:
        link = execution_link()
        taxiway = _config(pipeline, version, config)
        where = rollout_domain(taxiway, domain)
        failure = run_failure(failed_node, message, RELEASE_MODEL_NODES, link)
        run = rollout_run(pipeline, version, where, link)
        delivery = notifier(SlackTarget.for_domain(taxiway, where)).failed(SlackThread(), run, failure)
        logger.info("%s reported failed_node=%s status=%s", Event.RUN_FAILED, failed_node, delivery.status)
    except Exception as error:  # a failure handler must not add a second error to the execution
        logger.warning("the failure of node %s was not reported to Slack: %s: %s", failed_node,
                       type(error).__name__, error)  # fmt: skip


def _config(pipeline: str, version: str, config: FlyteFile | None) -> PipelineConfig:
    """taxiway.yaml: the one given, else the release's."""
    if config is not None:
        return parse_pipeline_config(Path(config.download()).read_text(), str(config.remote_source or config.path))
    found = find_release(meta_remote(remotes()), version)
    if found is None or found[0].pipeline != pipeline:
        raise LookupError(f"no succeeded ci_pipeline execution of {pipeline} {version} to read taxiway.yaml from")
    return parse_pipeline_config(found[1], f"ci-{version}:taxiway.yaml")
