"""Held-out metrics and the TorchScript export that serving loads."""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from flytekit import Resources, task
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile
from torch import nn

from training.data import TEST_FILE, Split, load_meta, load_split
from training.model import build_classifier, make_reproducible
from training.train import TrainedModel

logger = logging.getLogger(__name__)

MODEL_FILE = "model.pt"


@dataclass(frozen=True)
class EvaluationMetrics:
    """Metrics on the held-out split; Taxiway's validation checks ``accuracy``.

    :param accuracy: fraction of test points classified correctly.
    :param loss: mean cross-entropy on the test split.
    :param n_test: number of test points.
    :param world_size: processes that trained the model.
    :param data_as_of: the dataset's snapshot time (ISO 8601).
    """

    accuracy: float
    loss: float
    n_test: int
    world_size: int
    data_as_of: str


class EvaluationOutputs(NamedTuple):
    metrics: EvaluationMetrics
    model: FlyteFile


@torch.no_grad()
def score(model: nn.Module, split: Split) -> tuple[float, float]:
    """Return ``(accuracy, mean cross-entropy)`` of ``model`` on ``split``."""
    model.eval()
    logits = model(split.features)
    loss = nn.functional.cross_entropy(logits, split.labels).item()
    accuracy = (logits.argmax(dim=1) == split.labels).double().mean().item()
    return accuracy, loss


def export_torchscript(model: nn.Module, path: Path) -> None:
    """Save ``model`` as TorchScript: loadable by ``torch.jit.load`` without this package."""
    model.eval()
    with warnings.catch_warnings():
        # torch 2.13 marks TorchScript deprecated; it remains the format the serving runtime loads.
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(model)
        torch.jit.save(scripted, str(path))


@task(requests=Resources(cpu="1", mem="1Gi"), environment={"OMP_NUM_THREADS": "1"})
def evaluate(dataset: FlyteDirectory, trained: TrainedModel) -> EvaluationOutputs:
    """Score the trained model on the held-out split and export it as TorchScript.

    :param dataset: the directory written by ``generate_dataset``.
    :param trained: the training task's weights and architecture.
    :return: ``metrics`` (accuracy, loss, ...) and ``model``, a TorchScript file taking float32
        ``[N, 2]`` points and returning ``[N, n_classes]`` logits.
    """
    make_reproducible(seed=0)
    local = Path(dataset.download())
    model = build_classifier(trained.spec)
    model.load_state_dict(torch.load(trained.weights.download(), weights_only=True))
    test = load_split(local, TEST_FILE)
    accuracy, loss = score(model, test)
    out = Path(tempfile.mkdtemp(prefix="torchscript-")) / MODEL_FILE
    export_torchscript(model, out)
    metrics = EvaluationMetrics(
        accuracy=accuracy,
        loss=loss,
        n_test=len(test),
        world_size=trained.world_size,
        data_as_of=str(load_meta(local)["as_of"]),
    )
    logger.info("evaluation accuracy=%.4f loss=%.4f n_test=%s", accuracy, loss, len(test))
    return EvaluationOutputs(metrics=metrics, model=FlyteFile(path=str(out)))
