"""``python -m taxiway.demo``: the whole lifecycle on the local stack, one line per step.

Stack up → meta image + registration into the platform project → ``ci_pipeline`` from git → the
nightly launch plan promotes to staging → production through the approval gate → ``release_model``
and a prediction → ``taxiway status``, the Slack messages and the console links. Each step's
subprocess output goes to ``.stack/demo/<step>.log``; every step reuses what exists, so a second run
is fast. ``make demo`` runs it.
"""
