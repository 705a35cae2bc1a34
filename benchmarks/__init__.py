"""Taxiway's benchmarks: its fast paths against what a Flyte user would do instead, side by side.

Run ``python -m benchmarks`` (``--quick`` for fewer repeats). Not part of the test run.
"""
