"""PyTorch workflows for the executor's distributed-training tests (no tests here).

Kept apart from ``test_executor_nodes_workflows`` because importing torch costs seconds in every
task process that imports the module.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from flytekit import task, workflow
from flytekitplugins.kfpytorch import Elastic, PyTorch, Worker


def _all_reduce_rank_plus_one() -> tuple[int, int]:
    """Join the process group the environment describes; every rank contributes rank + 1."""
    dist.init_process_group(backend="gloo")
    try:
        contribution = torch.tensor([dist.get_rank() + 1])
        dist.all_reduce(contribution, op=dist.ReduceOp.SUM)
        return dist.get_world_size(), int(contribution.item())
    finally:
        dist.destroy_process_group()


@task(task_config=PyTorch(worker=Worker(replicas=2)))
def replicated_all_reduce() -> tuple[int, int, int]:
    """World size, all-reduce sum and this process's RANK (only the master's outputs count)."""
    world_size, total = _all_reduce_rank_plus_one()
    return world_size, total, int(os.environ["RANK"])


@workflow
def pytorch_replicas() -> tuple[int, int, int]:
    return replicated_all_reduce()


@task(task_config=Elastic(nnodes=1, nproc_per_node=2))
def elastic_all_reduce() -> tuple[int, int]:
    """Run by flytekit's elastic launch in 2 local processes; rank 0's result is the task's."""
    return _all_reduce_rank_plus_one()


@workflow
def elastic_single_node() -> tuple[int, int]:
    return elastic_all_reduce()


@task(task_config=Elastic(nnodes=2, nproc_per_node=1))
def two_node_elastic_all_reduce() -> tuple[int, int]:
    """Two elastic workers (a PyTorchJob without master) meeting at the c10d rendezvous."""
    return _all_reduce_rank_plus_one()


@workflow
def elastic_two_nodes() -> tuple[int, int]:
    return two_node_elastic_all_reduce()
