"""UI entry points for model rollout: serve a validated release's model, on its own or right after promoting it.

``taxiway.release_model`` takes the pipeline and the version; the domain defaults to taxiway.yaml's
``serving.domain`` (the last domain, ``production``, when unset). ``taxiway.promote_and_release`` promotes
into production first and rolls out only once that succeeded.
"""

from __future__ import annotations

from flytekit import LaunchPlan

from meta_workflows.release_model import promote_and_release_model, release_model

#: The domain ``promote_and_release`` promotes into and serves from.
RELEASE_DOMAIN = "production"

release = LaunchPlan.get_or_create(
    release_model, name="taxiway.release_model", default_inputs={"domain": "", "config": None}
)

promote_and_release = LaunchPlan.get_or_create(
    promote_and_release_model,
    name="taxiway.promote_and_release",
    default_inputs={"to_domain": RELEASE_DOMAIN, "override_reason": "", "config": None},
)
