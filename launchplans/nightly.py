"""Scheduled promotions: nightly development → staging at 02:00, weekly staging → production.

Production requires approval (taxiway.yaml ``requires_approval``), so the weekly run waits at its
gate until someone approves. Both launch plans name the example pipeline; a platform team registers
one pair per pipeline by copying these with its own ``pipeline`` default.
"""

from __future__ import annotations

from flytekit import CronSchedule, LaunchPlan

from meta_workflows.nightly import nightly_promotion

#: The pipeline the schedules promote (the example pipeline in examples/training).
PIPELINE = "training"

nightly_staging = LaunchPlan.get_or_create(
    nightly_promotion,
    name="taxiway.nightly_staging",
    schedule=CronSchedule(schedule="0 2 * * *"),
    default_inputs={"pipeline": PIPELINE, "to_domain": "staging", "config": None},
)

weekly_production = LaunchPlan.get_or_create(
    nightly_promotion,
    name="taxiway.weekly_production",
    schedule=CronSchedule(schedule="0 3 * * 1"),
    default_inputs={"pipeline": PIPELINE, "to_domain": "production", "config": None},
)
