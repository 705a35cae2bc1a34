"""``ci_pipeline``: source → image → package → register into the first domain → a typed ``Release``.

Composition only; every step is a task in ``tasks/``. Launched from the Flyte UI
(``launchplans/ci.py``) or by external CI::

    pyflyte run --remote --wait --name ci-<version> meta_workflows/ci.py ci_pipeline \\
        --git_url https://github.com/org/repo.git --git_ref main --git_sha "$(git rev-parse HEAD)" \\
        --pipeline_dir examples/training --pr_number 0

Remotely, prefer ``git_url``: ``pyflyte run --remote`` (flytekit 1.16) uploads a directory input file
by file under each file's base name, so a ``--source`` tree with sub-directories arrives flattened.
"""

from __future__ import annotations

from flytekit import workflow
from flytekit.types.directory import FlyteDirectory

from tasks.build import build_images
from tasks.core.records import Release
from tasks.package import package_release
from tasks.register import record_release, register_release
from tasks.source import fetch_source


@workflow
def ci_pipeline(
    source: FlyteDirectory | None = None,
    git_url: str = "",
    git_ref: str = "",
    git_sha: str = "",
    pipeline_dir: str = ".",
    pr_number: int = 0,
    config_path: str = "taxiway.yaml",
) -> Release:
    """Build a pipeline's release from one commit and register it into its first domain.

    The image is rebuilt only when its content hash changed (Dockerfile, dependency files, build args);
    a code-only change is fast-registered. Running it again for the same commit changes nothing. PR
    releases get the version ``pr<N>-<sha12>`` and never activate launch plans.

    :param source: the pipeline's source tree, uploaded by ``pyflyte run --remote`` from a local path;
        leave empty to clone ``git_url``.
    :param git_url: the repository to clone when no source is uploaded.
    :param git_ref: the branch, tag or commit to clone.
    :param git_sha: the commit an uploaded source was taken from (needed when the upload has no ``.git``).
    :param pipeline_dir: the pipeline's directory inside the source tree.
    :param pr_number: the pull request being built; 0 for the main branch.
    :param config_path: the pipeline's taxiway.yaml, relative to ``pipeline_dir``.
    :returns: the release: version, commit, images pinned by digest, package, registered domains.
    """
    checkout = fetch_source(
        upload=source, git_url=git_url, git_ref=git_ref, git_sha=git_sha,
        pipeline_dir=pipeline_dir, pr_number=pr_number, config_path=config_path,
    )  # fmt: skip
    build = build_images(checkout=checkout)
    package = package_release(checkout=checkout, build=build)
    registration = register_release(checkout=checkout, package=package)
    return record_release(checkout=checkout, build=build, package=package, registration=registration)
