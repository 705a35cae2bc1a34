"""Process-group setup shared by the Elastic and the PyTorchJob variants.

torchelastic (``Elastic`` tasks) and the Kubeflow training operator (``PyTorch`` tasks) both export
``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE`` and ``RANK``, so one ``env://`` initialisation serves
both. A local ``pyflyte run`` of a ``PyTorch`` task runs a single process with none of them set:
then training runs without a process group.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch.distributed as dist

logger = logging.getLogger(__name__)

BACKEND = "gloo"  # CPU-only; NCCL would need GPUs
INIT_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the training job."""

    rank: int
    world_size: int

    @property
    def is_primary(self) -> bool:
        """Rank 0 writes the outputs; the other ranks' results are ignored."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def context_from_env(environ: dict[str, str] | None = None) -> DistributedContext:
    """Read rank and world size from the launcher's environment (defaults: a single process).

    :raises ValueError: if the variables are inconsistent, e.g. ``RANK >= WORLD_SIZE``.
    """
    env = os.environ if environ is None else environ
    world_size = int(env.get("WORLD_SIZE", "1"))
    rank = int(env.get("RANK", "0"))
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(
            f"invalid distributed environment RANK={rank} WORLD_SIZE={world_size}; "
            "both are set by torchelastic or the PyTorchJob operator, unset them to train alone"
        )
    return DistributedContext(rank=rank, world_size=world_size)


@contextmanager
def process_group() -> Iterator[DistributedContext]:
    """Join the job's gloo process group for the duration of the block (no-op when alone)."""
    ctx = context_from_env()
    if not ctx.is_distributed:
        yield ctx
        return
    dist.init_process_group(backend=BACKEND, init_method="env://", timeout=INIT_TIMEOUT)
    logger.info(
        "process group joined backend=%s rank=%s world_size=%s master=%s:%s",
        BACKEND,
        ctx.rank,
        ctx.world_size,
        os.environ.get("MASTER_ADDR"),
        os.environ.get("MASTER_PORT"),
    )
    try:
        yield ctx
    finally:
        dist.destroy_process_group()
