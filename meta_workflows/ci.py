"""``ci_pipeline``: source → image → package → register and validate in the first domain → a typed ``Release``.

Composition only; every step is a task in ``tasks/``. Launched from the Flyte UI
(``launchplans/ci.py``) or by external CI::

    pyflyte run --remote --wait --name ci-<version> meta_workflows/ci.py ci_pipeline \\
        --git_url https://github.com/org/repo.git --git_ref main --git_sha "$(git rev-parse HEAD)" \\
        --pipeline_dir examples/training --pr_number 0

Remotely, pass ``git_url`` or ``--source_archive source.tar.gz`` (``git archive``): ``pyflyte run --remote``
(flytekit 1.16) uploads a directory input file by file under each file's base name, so a ``--source`` tree
with sub-directories arrives flattened.
"""

from __future__ import annotations

from flytekit import workflow
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile

from tasks.build import build_images
from tasks.ci_report import ci_failed, ci_release_context, finish_ci, report_ci_release, report_ci_started
from tasks.core.records import Release
from tasks.package import package_release
from tasks.register import record_release, register_release
from tasks.source import fetch_source
from tasks.validate import validate_in_first_domain


@workflow(on_failure=ci_failed)
def ci_pipeline(
    source: FlyteDirectory | None = None,
    git_url: str = "",
    git_ref: str = "",
    git_sha: str = "",
    pipeline_dir: str = ".",
    pr_number: int = 0,
    config_path: str = "taxiway.yaml",
    validate: bool = True,
    source_archive: FlyteFile | None = None,
) -> Release:
    """Build a pipeline's release from one commit, register it into its first domain and validate it there.

    The image is rebuilt only when its content hash changed (Dockerfile, dependency files, build args);
    a code-only change is fast-registered. Running it again for the same commit changes nothing (the
    validation executions are reused). PR releases get the version ``pr<N>-<sha12>`` and never activate
    launch plans. A release whose validation does not pass fails the run, after reporting it. The run is
    reported as one threaded Slack message in the first domain's channel; a failed step is reported
    naming its node.

    :param source: the pipeline's source tree, uploaded by ``pyflyte run --remote`` from a local path;
        leave empty to clone ``git_url``.
    :param git_url: the repository to clone when no source is uploaded.
    :param git_ref: the branch, tag or commit to clone.
    :param git_sha: the commit an uploaded source was taken from (needed when the upload has no ``.git``).
    :param pipeline_dir: the pipeline's directory inside the source tree.
    :param pr_number: the pull request being built; 0 for the main branch.
    :param config_path: the pipeline's taxiway.yaml, relative to ``pipeline_dir``.
    :param validate: run taxiway.yaml's validation cases in the first domain; False (``--no-validate``)
        only registers, e.g. into a FlyteAdmin that does not execute.
    :param source_archive: the source as a ``.tar.gz`` (``git archive --format=tar.gz -o source.tar.gz HEAD``),
        uploaded whole by ``pyflyte run --remote``; its commit comes from the archive's header or ``git_sha``.
    :returns: the release: version, commit, author, images pinned by digest, package, registered domains
        and its validation in the first domain.
    """
    # Node names are what the failure handler's Slack message names (tasks.core.report_ci.CI_NODES).
    checkout = fetch_source(
        upload=source, git_url=git_url, git_ref=git_ref, git_sha=git_sha,
        pipeline_dir=pipeline_dir, pr_number=pr_number, config_path=config_path, archive=source_archive,
    ).with_overrides(node_name="fetch-source")  # fmt: skip
    started = report_ci_started(checkout=checkout, validate=validate).with_overrides(node_name="report-ci-started")
    build = build_images(checkout=checkout).with_overrides(node_name="build-images")
    package = package_release(checkout=checkout, build=build).with_overrides(node_name="package-release")
    registration = register_release(checkout=checkout, package=package).with_overrides(node_name="register-release")
    release = record_release(
        checkout=checkout, build=build, package=package, registration=registration
    ).with_overrides(node_name="record-release")  # fmt: skip
    registered = report_ci_release(report=started, release=release).with_overrides(node_name="report-ci-release")
    context = ci_release_context(checkout=checkout, release=release).with_overrides(node_name="ci-release-context")
    validation = validate_in_first_domain(context=context, enabled=validate).with_overrides(
        node_name="validate-in-first-domain"
    )
    # After the release report, so that the thread reads in order.
    registered >> validation
    return finish_ci(report=registered, release=release, validation=validation).with_overrides(node_name="finish-ci")
