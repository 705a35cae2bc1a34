"""Data-parallel training (DDP over gloo) and its two task variants.

``train_elastic`` runs torchelastic inside one pod (``Elastic(nnodes=1, nproc_per_node=2)``): it
needs no training operator and also runs locally, spawning two processes. ``train_multiworker`` is
the same code as a Kubeflow ``PyTorchJob`` (one master and two workers); run locally it trains in a
single process.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from flytekit import Resources, task
from flytekit.extend import IgnoreOutputs
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile
from flytekitplugins.kfpytorch import Elastic, PyTorch, Worker
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from training.data import N_FEATURES, TRAIN_FILE, Split, load_meta, load_split
from training.distributed import DistributedContext, context_from_env, process_group
from training.model import ModelSpec, build_classifier, make_reproducible

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.pt"


@dataclass(frozen=True)
class TrainingConfig:
    """Hyperparameters. ``batch_size`` is global: each rank takes ``batch_size // world_size``."""

    epochs: int
    batch_size: int
    learning_rate: float
    seed: int

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError(f"epochs, batch_size and learning_rate must be positive, got {self}")


@dataclass(frozen=True)
class FitResult:
    """What one rank knows after training."""

    model: nn.Module
    final_loss: float
    world_size: int


@dataclass(frozen=True)
class TrainedModel:
    """The training task's output: weights plus what evaluation needs to rebuild the model.

    :param world_size: how many processes trained together (2 for the Elastic task).
    :param final_loss: mean cross-entropy over all ranks in the last epoch.
    """

    weights: FlyteFile
    n_features: int
    n_classes: int
    hidden_size: int
    epochs: int
    world_size: int
    final_loss: float

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec(n_features=self.n_features, n_classes=self.n_classes, hidden_size=self.hidden_size)


def fit(train: Split, spec: ModelSpec, config: TrainingConfig, ctx: DistributedContext) -> FitResult:
    """Train ``spec`` on ``train``; with ``ctx.world_size > 1`` the caller must have joined the group.

    Each rank sees its own shard of every epoch (``DistributedSampler``), and DDP all-reduces the
    gradients so all ranks step identically.
    """
    make_reproducible(config.seed)
    model = build_classifier(spec)
    trainable: nn.Module = DistributedDataParallel(model) if ctx.is_distributed else model
    per_rank_batch = max(1, config.batch_size // ctx.world_size)
    dataset = TensorDataset(train.features, train.labels)
    # Shards each epoch's permutation across ranks (world size 1: all of it, same order).
    sampler: DistributedSampler[int] = DistributedSampler(
        dataset,
        num_replicas=ctx.world_size,
        rank=ctx.rank,
        shuffle=True,
        seed=config.seed,
    )
    loader = DataLoader(dataset, batch_size=per_rank_batch, sampler=sampler)
    optimizer = torch.optim.Adam(trainable.parameters(), lr=config.learning_rate)
    loss_fn = nn.CrossEntropyLoss()

    epoch_loss = 0.0
    for epoch in range(config.epochs):
        sampler.set_epoch(epoch)
        totals = torch.zeros(2, dtype=torch.float64)  # [sum of losses, number of samples]
        for features, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(trainable(features), labels)
            loss.backward()
            optimizer.step()
            totals += torch.tensor([loss.item() * len(labels), len(labels)], dtype=torch.float64)
        if ctx.is_distributed:
            dist.all_reduce(totals)
        epoch_loss = float(totals[0] / totals[1])
        if ctx.is_primary and (epoch % 10 == 0 or epoch == config.epochs - 1):
            logger.info("epoch=%s loss=%.4f world_size=%s", epoch, epoch_loss, ctx.world_size)
    return FitResult(model=model, final_loss=epoch_loss, world_size=ctx.world_size)


def _train(
    dataset: FlyteDirectory, epochs: int, batch_size: int, learning_rate: float, hidden_size: int, seed: int
) -> TrainedModel:
    """Run on every rank of either variant: load the data, fit, and package rank 0's weights."""
    if not logging.getLogger().handlers:
        # torchelastic workers start with an unconfigured root logger; without this the epoch
        # losses of rank 0 would never reach the pod log.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    config = TrainingConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed)
    local = Path(dataset.download())
    meta = load_meta(local)
    spec = ModelSpec(n_features=N_FEATURES, n_classes=int(str(meta["n_classes"])), hidden_size=hidden_size)
    train = load_split(local, TRAIN_FILE)
    with process_group() as ctx:
        result = fit(train, spec, config, ctx)
    # A directory of our own: under torchelastic this runs in a child process whose sandbox may be
    # gone by the time the parent uploads the outputs.
    out = Path(tempfile.mkdtemp(prefix="trained-")) / WEIGHTS_FILE
    torch.save(result.model.state_dict(), out)
    return TrainedModel(
        weights=FlyteFile(path=str(out)),
        n_features=spec.n_features,
        n_classes=spec.n_classes,
        hidden_size=spec.hidden_size,
        epochs=config.epochs,
        world_size=result.world_size,
        final_loss=result.final_loss,
    )


@task(
    # fork, not spawn: spawned workers re-import this module by name, which fails under a local
    # `pyflyte run` (it drops the project root from sys.path after loading the file).
    # No /dev/shm volume: gloo on CPU with in-process data loading does not use shared memory.
    # A 1 s monitor interval lets the agent notice finished workers sooner than the 5 s default.
    task_config=Elastic(nnodes=1, nproc_per_node=2, start_method="fork", monitor_interval=1, increase_shared_mem=False),
    requests=Resources(cpu="2", mem="2Gi"),
    environment={"OMP_NUM_THREADS": "1"},
)
def train_elastic(
    dataset: FlyteDirectory, epochs: int, batch_size: int, learning_rate: float, hidden_size: int, seed: int
) -> TrainedModel:
    """Train the classifier with DDP in two processes of one pod (torchelastic, gloo on CPU).

    :param dataset: the directory written by ``generate_dataset``.
    :param epochs: passes over the training split.
    :param batch_size: global batch size, split evenly across the processes.
    :param learning_rate: Adam learning rate.
    :param hidden_size: width of the two hidden layers.
    :param seed: seed for initialisation and shuffling.
    :return: rank 0's weights and training summary; ``world_size`` is 2.
    """
    return _train(dataset, epochs, batch_size, learning_rate, hidden_size, seed)


@task(
    task_config=PyTorch(worker=Worker(replicas=2), increase_shared_mem=False),
    requests=Resources(cpu="1", mem="1Gi"),
    environment={"OMP_NUM_THREADS": "1"},
)
def train_multiworker(
    dataset: FlyteDirectory, epochs: int, batch_size: int, learning_rate: float, hidden_size: int, seed: int
) -> TrainedModel:
    """Train the classifier as a Kubeflow PyTorchJob (one master, two workers; DDP over gloo).

    The operator sets MASTER_ADDR/PORT, WORLD_SIZE and RANK in every pod; run locally it is a single
    process. Only the master (rank 0) writes outputs.

    :param dataset: the directory written by ``generate_dataset``.
    :param epochs: passes over the training split.
    :param batch_size: global batch size, split evenly across the replicas.
    :param learning_rate: Adam learning rate.
    :param hidden_size: width of the two hidden layers.
    :param seed: seed for initialisation and shuffling.
    :return: the master's weights and training summary.
    """
    trained = _train(dataset, epochs, batch_size, learning_rate, hidden_size, seed)
    rank = context_from_env().rank
    if rank != 0:
        # Every replica runs this function; two writers of the same outputs would race.
        raise IgnoreOutputs(f"worker rank {rank} leaves the outputs to the master")
    return trained
