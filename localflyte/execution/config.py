"""The execution-config precedence, resolved once when an execution is created.

Port of ``ExecutionManager.getExecutionConfig`` and ``util.MergeIntoExecConfig``
(``flyteadmin/pkg/manager/impl/execution_manager.go``, ``util/shared.go``): execution spec >
launch plan spec > most specific WORKFLOW_EXECUTION_CONFIG matchable attribute > project-level one >
deprecated auth role > application defaults. Merging only fills fields still unset.
"""

from __future__ import annotations

import logging
from typing import Any

from flyteidl.admin import common_pb2, execution_pb2, launch_plan_pb2, matchable_resource_pb2
from flyteidl.core import security_pb2

from localflyte.registration import repository
from localflyte.store import Store

log = logging.getLogger(__name__)

# flyteadmin's application defaults (runtime/application_config_provider.go): maxParallelism 25.
DEFAULT_MAX_PARALLELISM = 25

MatchableResource = matchable_resource_pb2.MatchableResource


def _has_identity(context: security_pb2.SecurityContext) -> bool:
    run_as = context.run_as
    return bool(run_as.k8s_service_account or run_as.iam_role or run_as.execution_identity)


def merge_into(config: matchable_resource_pb2.WorkflowExecutionConfig, source: Any) -> None:
    """``MergeIntoExecConfig``: copy from ``source`` (a spec or config) only what ``config`` lacks."""
    if config.max_parallelism == 0 and source.max_parallelism > 0:
        config.max_parallelism = source.max_parallelism
    has_context = source.HasField("security_context") and _has_identity(source.security_context)
    if not config.HasField("security_context") and has_context:
        config.security_context.CopyFrom(source.security_context)
    if not config.raw_output_data_config.output_location_prefix and (
        source.raw_output_data_config.output_location_prefix
    ):
        config.raw_output_data_config.CopyFrom(source.raw_output_data_config)
    if not config.labels.values and source.labels.values:
        config.labels.CopyFrom(source.labels)
    if not config.annotations.values and source.annotations.values:
        config.annotations.CopyFrom(source.annotations)
    if not config.HasField("interruptible") and source.HasField("interruptible"):
        config.interruptible.CopyFrom(source.interruptible)
    if not config.overwrite_cache and source.overwrite_cache:
        config.overwrite_cache = True
    if not config.envs.values and source.envs.values:
        config.envs.CopyFrom(source.envs)


def _auth_role(
    spec: execution_pb2.ExecutionSpec, launch_plan: launch_plan_pb2.LaunchPlan | None
) -> common_pb2.AuthRole:
    """``resolveAuthRole``: the deprecated auth fields, request first, then the launch plan's."""
    if spec.HasField("auth_role"):
        return spec.auth_role
    if launch_plan is None:
        return common_pb2.AuthRole()
    lp_spec = launch_plan.spec
    if lp_spec.HasField("auth_role"):
        return lp_spec.auth_role
    if lp_spec.HasField("auth"):
        return common_pb2.AuthRole(
            assumable_iam_role=lp_spec.auth.assumable_iam_role,
            kubernetes_service_account=lp_spec.auth.kubernetes_service_account,
        )
    if lp_spec.role:
        return common_pb2.AuthRole(assumable_iam_role=lp_spec.role)
    return common_pb2.AuthRole()


def _matchable(
    store: Store, project: str, domain: str, workflow: str
) -> matchable_resource_pb2.WorkflowExecutionConfig | None:
    attributes = repository.resolve_matchable(
        store, MatchableResource.WORKFLOW_EXECUTION_CONFIG, project, domain, workflow
    )
    if attributes is None or not attributes.HasField("workflow_execution_config"):
        return None
    return attributes.workflow_execution_config


def resolve_execution_config(
    store: Store,
    project: str,
    domain: str,
    spec: execution_pb2.ExecutionSpec,
    launch_plan: launch_plan_pb2.LaunchPlan | None,
) -> matchable_resource_pb2.WorkflowExecutionConfig:
    """``getExecutionConfig``: the effective settings of a new execution in project/domain."""
    config = matchable_resource_pb2.WorkflowExecutionConfig()
    merge_into(config, spec)
    workflow_name = ""
    if launch_plan is not None:
        merge_into(config, launch_plan.spec)
        workflow_name = launch_plan.spec.workflow_id.name
    most_specific = _matchable(store, project, domain, workflow_name)
    if most_specific is not None:
        merge_into(config, most_specific)
    project_level = _matchable(store, project, "", "")
    if project_level is not None:
        merge_into(config, project_level)
    auth_role = _auth_role(spec, launch_plan)
    if not config.HasField("security_context") and (
        auth_role.kubernetes_service_account or auth_role.assumable_iam_role
    ):
        config.security_context.run_as.k8s_service_account = auth_role.kubernetes_service_account
        config.security_context.run_as.iam_role = auth_role.assumable_iam_role
    if config.max_parallelism == 0:
        config.max_parallelism = DEFAULT_MAX_PARALLELISM
    # flyteadmin always hands the executor a security context with a (possibly empty) run_as.
    config.security_context.run_as.SetInParent()
    return config


def resolve_string_map(preferred: Any, default: Any) -> dict[str, str]:
    """``resolveStringMap``: the preferred labels/annotations when set, else the defaults."""
    if preferred is not None and preferred.values:
        return dict(preferred.values)
    if default is not None and default.values:
        return dict(default.values)
    return {}
