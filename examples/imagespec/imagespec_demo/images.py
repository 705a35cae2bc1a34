"""The pipeline's two ImageSpecs. Everything the tag does not capture is pinned here.

``python_version`` and ``flytekit==...`` are set explicitly because flytekit's tag does not see the
interpreter or the flytekit version its builder would otherwise install; ``base_image`` is the local,
immutable Taxiway base image.
"""

from flytekit import ImageSpec

REGISTRY = "127.0.0.1:30000/taxiway-imagespec"
BASE_IMAGE = "taxiway/base:bookworm-py311"
FLYTEKIT = "flytekit==1.16.31"

light_image = ImageSpec(
    name="imagespec-light",
    registry=REGISTRY,
    base_image=BASE_IMAGE,
    python_exec="/usr/bin/python3",
    python_version="3.11",
    packages=[FLYTEKIT, "numpy==2.2.6"],
)

training_image = ImageSpec(
    name="imagespec-training",
    registry=REGISTRY,
    base_image=BASE_IMAGE,
    python_exec="/usr/bin/python3",
    python_version="3.11",
    packages=[FLYTEKIT, "numpy==2.2.6", "pandas==2.2.3"],
)
