"""A tiny pipeline: prepare data in the light image, fit a line in the training image."""

from flytekit import task, workflow

from imagespec_demo.images import light_image, training_image


@task(container_image=light_image)
def prepare(n: int) -> list[float]:
    """Evenly spaced points on y = 2x + 1.

    :param n: how many points.
    """
    import numpy as np

    xs = np.linspace(0.0, 1.0, n)
    return [float(v) for v in 2 * xs + 1]


@task(container_image=training_image)
def fit(ys: list[float]) -> float:
    """The slope of a least-squares line through ``ys`` (x evenly spaced on [0, 1]).

    :param ys: the points.
    """
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"x": np.linspace(0.0, 1.0, len(ys)), "y": ys})
    slope, _ = np.polyfit(frame["x"], frame["y"], 1)
    return float(slope)


@workflow
def slope_pipeline(n: int = 5) -> float:
    """Prepare points, then fit their slope.

    :param n: how many points.
    """
    return fit(ys=prepare(n=n))
