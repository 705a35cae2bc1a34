"""UI entry point for ``ci_pipeline``: build, register and validate the main branch of a pipeline from git.

Fill in ``git_url`` (and ``pipeline_dir`` for a monorepo) when launching from the Flyte UI; every
other input has a default. External CI runs the workflow itself with ``pyflyte run --remote``.
"""

from __future__ import annotations

from flytekit import LaunchPlan

from meta_workflows.ci import ci_pipeline

ci_from_git = LaunchPlan.get_or_create(
    ci_pipeline,
    name="taxiway.ci_from_git",
    default_inputs={
        "git_url": "",
        "git_ref": "main",
        "git_sha": "",
        "pipeline_dir": ".",
        "pr_number": 0,
        "config_path": "taxiway.yaml",
        # Validating in the first domain is what lets a release be promoted out of it.
        "validate": True,
    },
)
