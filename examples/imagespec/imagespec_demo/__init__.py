"""Example pipeline whose images are flytekit ImageSpecs (a light one and a training one)."""
