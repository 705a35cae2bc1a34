"""Launch plans: a fast validation run and the nightly retraining schedule."""

from __future__ import annotations

from flytekit import CronSchedule, LaunchPlan

from training.workflows import training_workflow

VALIDATION_INPUTS = {"n_samples": 2000, "epochs": 40, "seed": 7}

validation_lp = LaunchPlan.get_or_create(
    workflow=training_workflow,
    name="validation_lp",
    default_inputs=VALIDATION_INPUTS,
)
"""Small and fast (2k samples, about 5 s on 2 cores); Taxiway's validation expects ``metrics.accuracy >= 0.8``.

Defaults rather than fixed inputs, so that a validation case may still set them explicitly.
"""

nightly_retraining_lp = LaunchPlan.get_or_create(
    workflow=training_workflow,
    name="nightly_retraining_lp",
    default_inputs={"n_samples": 20000, "epochs": 60},
    schedule=CronSchedule(schedule="0 2 * * *", kickoff_time_input_arg="as_of"),
)
"""Every day at 02:00 UTC on a larger dataset; the kickoff time becomes ``as_of``."""
