"""Find a release and its taxiway.yaml in Flyte: the output of the ``ci_pipeline`` execution that built it.

Flyte is the system of record, so a release is whatever a succeeded ``ci_pipeline`` execution returned.
The fast path is the deterministic name ``ci-<version>`` (external CI and ``taxiway.ci_from_git`` use
it); a release built under another name (``pyflyte run --remote`` without ``--name``, a re-run after a
failed ``ci-<version>``) is found by scanning succeeded ``ci_pipeline`` executions for its version.

The taxiway.yaml is read from the execution's node outputs by their shape, never by node id (node ids
change with ``with_overrides(node_name=...)``): a ``ReleaseContext`` output carries the text itself
(``config_yaml``), a ``Checkout`` output the uploaded directory and the file's path in it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flytekit.exceptions.user import FlyteEntityNotExistException
from flytekit.models.admin.common import Sort
from flytekit.models.filters import Filter
from flytekit.remote import FlyteRemote
from flytekit.remote.executions import FlyteWorkflowExecution

from tasks.core.promote_outputs import literal_to_python
from tasks.core.records import Release

logger = logging.getLogger(__name__)

#: ``ci_pipeline`` executions are named ``ci-<version>`` (see meta_workflows/ci.py).
CI_EXECUTION_PREFIX = "ci-"
CI_WORKFLOW = "meta_workflows.ci.ci_pipeline"
#: How many succeeded ``ci_pipeline`` executions a scan reads at most (newest first).
SCAN_LIMIT = 100

FoundRelease = tuple[Release, str]


def find_release(remote: FlyteRemote, version: str) -> FoundRelease | None:
    """The release ``version`` and its taxiway.yaml text, or None when no succeeded ``ci_pipeline`` built it.

    :param remote: a remote whose default project/domain is where ``ci_pipeline`` runs.
    """
    try:
        named = remote.fetch_execution(name=f"{CI_EXECUTION_PREFIX}{version}")
    except FlyteEntityNotExistException:
        named = None
    if named is not None:
        found = _release_of(remote, named)
        if found is not None and found[0].version == version:
            return found
    for execution in _succeeded_ci_executions(remote):
        if named is not None and execution.id.name == named.id.name:
            continue
        found = _release_of(remote, execution, version=version)
        if found is not None:
            logger.info("release found by scan version=%s execution=%s", version, execution.id.name)
            return found
    return None


def find_latest_release(remote: FlyteRemote, pipeline: str) -> FoundRelease | None:
    """The newest release of ``pipeline`` built by a succeeded ``ci_pipeline`` execution, with its taxiway.yaml."""
    for execution in _succeeded_ci_executions(remote):
        found = _release_of(remote, execution, pipeline=pipeline)
        if found is not None:
            return found
    return None


def _succeeded_ci_executions(remote: FlyteRemote) -> Iterator[FlyteWorkflowExecution]:
    filters = [
        Filter.from_python_std(f"eq(workflow.name,{CI_WORKFLOW})"),
        Filter.from_python_std("eq(phase,SUCCEEDED)"),
    ]
    executions, _ = remote.client.list_executions_paginated(
        remote.default_project, remote.default_domain, limit=SCAN_LIMIT, filters=filters,
        sort_by=Sort("created_at", Sort.Direction.DESCENDING),
    )  # fmt: skip
    for execution in executions:
        yield FlyteWorkflowExecution.promote_from_model(execution)


def _release_of(
    remote: FlyteRemote, execution: FlyteWorkflowExecution, version: str = "", pipeline: str = ""
) -> FoundRelease | None:
    """The release an execution returned (if it succeeded and matches) and its taxiway.yaml."""
    synced = remote.sync_execution(execution)
    if not synced.is_successful:
        return None
    release = synced.outputs.get("o0", as_type=Release)
    if (version and release.version != version) or (pipeline and release.pipeline != pipeline):
        return None
    config_text = _config_text(remote, remote.sync_execution(synced, sync_nodes=True))
    if config_text is None:
        logger.warning("no taxiway.yaml among the outputs of execution=%s", synced.id.name)
        return None
    return release, config_text


def _node_outputs(execution: FlyteWorkflowExecution) -> Iterator[Any]:
    for node_id, node in sorted(execution.node_executions.items()):
        try:
            literals = node.outputs.literals if node.outputs is not None else {}
        except Exception as err:  # a node without outputs (start/end, failed) has nothing to offer
            logger.debug("no outputs for node=%s: %s", node_id, err)
            continue
        for literal in literals.values():
            yield literal_to_python(literal.to_flyte_idl())


def _config_text(remote: FlyteRemote, execution: FlyteWorkflowExecution) -> str | None:
    checkout: dict[str, Any] | None = None
    for value in _node_outputs(execution):
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("config_yaml"), str) and value["config_yaml"]:
            return str(value["config_yaml"])
        if checkout is None and "config_path" in value and "directory" in value:
            checkout = value
    if checkout is None:
        return None
    directory = checkout["directory"]
    uri = f"{directory['path'] if isinstance(directory, dict) else directory}/{checkout['config_path']}"
    with tempfile.TemporaryDirectory(prefix="taxiway-config-") as workdir:
        local = Path(workdir) / "taxiway.yaml"
        remote.file_access.get_data(uri, str(local))
        return local.read_text()
