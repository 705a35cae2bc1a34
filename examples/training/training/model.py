"""The spiral classifier: a small MLP, plus the settings that make training reproducible."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ModelSpec:
    """The architecture; stored next to the weights so evaluation can rebuild the model."""

    n_features: int
    n_classes: int
    hidden_size: int = 64

    def __post_init__(self) -> None:
        if min(self.n_features, self.n_classes, self.hidden_size) < 1:
            raise ValueError(f"model sizes must be positive, got {self}")


def build_classifier(spec: ModelSpec) -> nn.Module:
    """Build the MLP that maps ``[N, n_features]`` float32 to ``[N, n_classes]`` logits."""
    return nn.Sequential(
        nn.Linear(spec.n_features, spec.hidden_size),
        nn.Tanh(),
        nn.Linear(spec.hidden_size, spec.hidden_size),
        nn.Tanh(),
        nn.Linear(spec.hidden_size, spec.n_classes),
    )


def make_reproducible(seed: int) -> None:
    """Seed torch, force deterministic kernels and use one thread per process.

    One intra-op thread per process keeps two DDP ranks from oversubscribing a 2-core machine, and a
    single thread also removes run-to-run variation from parallel reductions.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
