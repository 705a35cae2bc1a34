"""Synthetic, seeded dataset: interleaved noisy spirals, one arm per class.

A spiral is not linearly separable, so a model has to learn something real to pass the
validation threshold; it is still small enough to train on two CPU cores in seconds.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import torch
from flytekit import Resources, task
from flytekit.types.directory import FlyteDirectory

logger = logging.getLogger(__name__)

TRAIN_FILE = "train.pt"
TEST_FILE = "test.pt"
META_FILE = "dataset.json"
N_FEATURES = 2


@dataclass(frozen=True)
class SpiralSpec:
    """How to generate a dataset; the same spec always yields the same tensors.

    ``noise`` is the standard deviation of Gaussian noise added to each coordinate; the spiral arms
    reach radius 1, so 0.06 gives about 95% attainable accuracy and 0.12 about 78%.
    """

    n_samples: int
    n_classes: int = 3
    noise: float = 0.06
    test_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {self.n_classes}")
        if self.n_samples < 10 * self.n_classes:
            raise ValueError(
                f"n_samples={self.n_samples} is too small for {self.n_classes} classes; "
                f"use at least {10 * self.n_classes}"
            )
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.noise < 0.0:
            raise ValueError(f"noise must be >= 0, got {self.noise}")


@dataclass(frozen=True)
class Split:
    """Features ``[N, 2]`` float32 and labels ``[N]`` int64."""

    features: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def make_spirals(spec: SpiralSpec) -> tuple[Split, Split]:
    """Generate the train and test splits for ``spec``.

    :param spec: dataset size, class count, noise and seed.
    :return: ``(train, test)``; every class is represented in both.
    """
    gen = torch.Generator().manual_seed(spec.seed)
    per_class = [spec.n_samples // spec.n_classes] * spec.n_classes
    for i in range(spec.n_samples % spec.n_classes):
        per_class[i] += 1

    xs, ys = [], []
    for cls, count in enumerate(per_class):
        # One full turn per arm: arms interleave, so no linear model separates them; the isotropic
        # noise makes neighbouring arms overlap, so even a perfect model stays below 100%.
        radius = torch.linspace(0.05, 1.0, count)
        start = cls * 2 * math.pi / spec.n_classes
        theta = torch.linspace(start, start + 2 * math.pi, count)
        clean = torch.stack([radius * torch.sin(theta), radius * torch.cos(theta)], dim=1)
        xs.append(clean + spec.noise * torch.randn(count, N_FEATURES, generator=gen))
        ys.append(torch.full((count,), cls, dtype=torch.int64))
    features = torch.cat(xs).to(torch.float32)
    labels = torch.cat(ys)

    order = torch.randperm(spec.n_samples, generator=gen)
    n_test = max(spec.n_classes, round(spec.n_samples * spec.test_fraction))
    test_idx, train_idx = order[:n_test], order[n_test:]
    return Split(features[train_idx], labels[train_idx]), Split(features[test_idx], labels[test_idx])


def save_dataset(directory: Path, train: Split, test: Split, spec: SpiralSpec, as_of: datetime) -> None:
    """Write the splits as tensor files plus a JSON description into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, split in ((TRAIN_FILE, train), (TEST_FILE, test)):
        torch.save({"features": split.features, "labels": split.labels}, directory / name)
    meta = {**asdict(spec), "n_features": N_FEATURES, "as_of": as_of.isoformat()}
    (directory / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))


def load_split(directory: Path, name: str) -> Split:
    """Read one split written by :func:`save_dataset`.

    :raises FileNotFoundError: if ``directory`` is not a dataset made by ``generate_dataset``.
    """
    path = directory / name
    if not path.is_file():
        raise FileNotFoundError(f"dataset file {path} is missing; pass the directory produced by generate_dataset")
    tensors = torch.load(path, weights_only=True)
    return Split(tensors["features"], tensors["labels"])


def load_meta(directory: Path) -> dict[str, object]:
    """Read the dataset description (spec, feature count, ``as_of``)."""
    meta: dict[str, object] = json.loads((directory / META_FILE).read_text())
    return meta


@task(requests=Resources(cpu="1", mem="1Gi"))
def generate_dataset(n_samples: int, n_classes: int, noise: float, seed: int, as_of: datetime) -> FlyteDirectory:
    """Generate a seeded spiral classification dataset.

    :param n_samples: total number of points, split 80/20 into train and test.
    :param n_classes: number of spiral arms (classes).
    :param noise: standard deviation of the Gaussian noise on each coordinate (arms have radius 1).
    :param seed: seed of the generator; the same inputs always give the same tensors.
    :param as_of: the data snapshot time, recorded in ``dataset.json`` (the schedule's kickoff time).
    :return: a directory with ``train.pt``, ``test.pt`` and ``dataset.json``.
    """
    spec = SpiralSpec(n_samples=n_samples, n_classes=n_classes, noise=noise, seed=seed)
    train, test = make_spirals(spec)
    out = Path(tempfile.mkdtemp(prefix="spirals-"))
    save_dataset(out, train, test, spec, as_of)
    logger.info("dataset generated n_train=%s n_test=%s path=%s", len(train), len(test), out)
    return FlyteDirectory(path=str(out))
