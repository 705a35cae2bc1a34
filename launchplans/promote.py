"""UI entry points for promotion and rollback: fill in the pipeline, the version and the domain."""

from __future__ import annotations

from flytekit import LaunchPlan

from meta_workflows.promote import promote_pipeline
from meta_workflows.rollback import rollback_pipeline

promote = LaunchPlan.get_or_create(
    promote_pipeline, name="taxiway.promote", default_inputs={"override_reason": "", "config": None}
)

rollback = LaunchPlan.get_or_create(
    rollback_pipeline, name="taxiway.rollback", default_inputs={"to_version": "", "config": None}
)
