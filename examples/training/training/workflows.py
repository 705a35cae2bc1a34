"""Workflows of the example pipeline: generate data, train with DDP, evaluate, export."""

from __future__ import annotations

from datetime import UTC, datetime

from flytekit import workflow

from training.data import generate_dataset
from training.evaluate import EvaluationOutputs, evaluate
from training.train import train_elastic, train_multiworker

DEFAULT_AS_OF = datetime(2024, 1, 1, tzinfo=UTC)


@workflow
def training_workflow(
    n_samples: int = 2000,
    n_classes: int = 3,
    noise: float = 0.06,
    epochs: int = 40,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    hidden_size: int = 64,
    seed: int = 7,
    as_of: datetime = DEFAULT_AS_OF,
) -> EvaluationOutputs:
    """Train a spiral classifier with DDP on two processes (torchelastic) and export it.

    :param n_samples: dataset size (80% train, 20% test).
    :param n_classes: number of spiral arms.
    :param noise: standard deviation of the coordinate noise.
    :param epochs: passes over the training split.
    :param batch_size: global batch size.
    :param learning_rate: Adam learning rate.
    :param hidden_size: width of the hidden layers.
    :param seed: seed for data, initialisation and shuffling.
    :param as_of: data snapshot time; the nightly schedule binds its kickoff time here.
    :return: ``metrics`` (accuracy, loss on held-out data) and ``model`` (TorchScript).
    """
    dataset = generate_dataset(n_samples=n_samples, n_classes=n_classes, noise=noise, seed=seed, as_of=as_of)
    trained = train_elastic(
        dataset=dataset,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        hidden_size=hidden_size,
        seed=seed,
    )
    return evaluate(dataset=dataset, trained=trained)


@workflow
def multiworker_training_workflow(
    n_samples: int = 2000,
    n_classes: int = 3,
    noise: float = 0.06,
    epochs: int = 40,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    hidden_size: int = 64,
    seed: int = 7,
    as_of: datetime = DEFAULT_AS_OF,
) -> EvaluationOutputs:
    """The same pipeline, training as a Kubeflow PyTorchJob (needs the training operator).

    :param n_samples: dataset size (80% train, 20% test).
    :param n_classes: number of spiral arms.
    :param noise: standard deviation of the coordinate noise.
    :param epochs: passes over the training split.
    :param batch_size: global batch size.
    :param learning_rate: Adam learning rate.
    :param hidden_size: width of the hidden layers.
    :param seed: seed for data, initialisation and shuffling.
    :param as_of: data snapshot time.
    :return: ``metrics`` and ``model`` (TorchScript).
    """
    dataset = generate_dataset(n_samples=n_samples, n_classes=n_classes, noise=noise, seed=seed, as_of=as_of)
    trained = train_multiworker(
        dataset=dataset,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        hidden_size=hidden_size,
        seed=seed,
    )
    return evaluate(dataset=dataset, trained=trained)
