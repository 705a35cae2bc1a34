"""``pytorch`` tasks (flytekitplugins-kfpytorch) as the Kubeflow training operator runs a PyTorchJob.

flyteplugins' ``kfoperators/pytorch`` turns the task's ``custom`` (``DistributedPyTorchTrainingTask``)
into a PyTorchJob; the training operator then starts the replicas with the rendezvous environment.
Here the replicas are separate runs on the same runtime (host processes, or containers on the host
network), so ``127.0.0.1`` reaches the master:

- ``PyTorch(worker=Worker(replicas=N))``: a master (``RANK=0``) and N workers (``RANK=1..N``) with
  ``MASTER_ADDR=127.0.0.1``, ``MASTER_PORT=<free port>``, ``WORLD_SIZE=N+1``, ``PYTHONUNBUFFERED=1``.
  The attempt is the master's: it succeeds when the master does (the operator's default success
  policy) and its outputs are the master's. flytekit has every replica write ``outputs.pb``, so the
  workers get their own output prefix (``<prefix>/replicas/worker-<k>``) and cannot overwrite them.
  A worker that fails first stops the others and its error (``error.pb``) is the attempt's error,
  the root cause rather than the master's broken collective (flyte RFC 5598).
- ``Elastic(nnodes>1)`` (``elastic_config`` set): ``replicas`` equal workers, no master, with the
  operator's ``PET_*`` settings (``PET_RDZV_ENDPOINT=127.0.0.1:<port>``, ``PET_RDZV_BACKEND``,
  ``PET_NNODES=min:max``, ``PET_NPROC_PER_NODE``, ``PET_MAX_RESTARTS``); flytekit's elastic launch
  does the rest and only group rank 0 writes outputs, so all share the output prefix.
- ``Elastic(nnodes=1)`` is serialized as a plain ``python-task`` and never comes here.

Every other task runs as one :class:`TaskRun`. Each replica logs next to the master's log file.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from flyteidl.core import literals_pb2, tasks_pb2
from flyteidl.plugins.kubeflow import pytorch_pb2
from google.protobuf import json_format

from localflyte.executor.runtimes import ResourceLimits, Runtime, TaskResult, TaskRun
from localflyte.executor.storage import BlobNotFoundError, BlobStore

log = logging.getLogger(__name__)

TASK_TYPE = "pytorch"
HOST = "127.0.0.1"
_RESOURCE = tasks_pb2.Resources.ResourceName
_K8S_RESOURCES = {
    "cpu": _RESOURCE.CPU,
    "memory": _RESOURCE.MEMORY,
    "nvidia.com/gpu": _RESOURCE.GPU,
    "ephemeral-storage": _RESOURCE.EPHEMERAL_STORAGE,
}


@dataclass(frozen=True)
class Replica:
    """One process of a distributed job: its run and whether the attempt's result is its own."""

    name: str
    run: TaskRun
    output_prefix: str
    lead: bool


def with_primary_container(task: tasks_pb2.TaskTemplate) -> tasks_pb2.TaskTemplate:
    """A pod task (``k8s_pod``, e.g. kfpytorch's shared-memory pod template) as its primary container.

    The primary container is the one named by ``config["primary_container_name"]`` (flytekit's
    default ``primary``); its image, command, args, env and resources are what a cluster would run.
    Other containers and the pod's volumes (``/dev/shm``) have no equivalent here and are ignored.
    Tasks with a ``container`` (or no pod) are returned unchanged.
    """
    if task.WhichOneof("target") != "k8s_pod":
        return task
    name = task.config.get("primary_container_name", "primary")
    pod = json_format.MessageToDict(task.k8s_pod.pod_spec)
    spec = next((c for c in pod.get("containers", []) if c.get("name") == name), None)
    if spec is None:
        return task
    container = tasks_pb2.Container(
        image=spec.get("image", ""),
        command=spec.get("command", []),
        args=spec.get("args", []),
        env=[literals_pb2.KeyValuePair(key=e["name"], value=e.get("value", "")) for e in spec.get("env", [])],
    )
    for kind, target in (("requests", container.resources.requests), ("limits", container.resources.limits)):
        for resource, quantity in spec.get("resources", {}).get(kind, {}).items():
            if resource in _K8S_RESOURCES:
                target.add(name=_K8S_RESOURCES[resource], value=str(quantity))
    converted = tasks_pb2.TaskTemplate()
    converted.CopyFrom(task)
    converted.container.CopyFrom(container)  # replaces k8s_pod in the ``target`` oneof
    return converted


def training_spec(task: tasks_pb2.TaskTemplate) -> pytorch_pb2.DistributedPyTorchTrainingTask | None:
    """The task's PyTorchJob spec, or None when it runs as a single process."""
    if task.type != TASK_TYPE or not task.HasField("custom"):
        return None
    spec = pytorch_pb2.DistributedPyTorchTrainingTask()
    json_format.ParseDict(json_format.MessageToDict(task.custom), spec, ignore_unknown_fields=True)
    if spec.worker_replicas.replicas <= 0 and not spec.HasField("elastic_config"):
        return None
    return spec


def free_port() -> int:
    """A TCP port nobody listens on right now (the operator uses a fixed 23456; ours must not clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def plan_replicas(
    spec: pytorch_pb2.DistributedPyTorchTrainingTask, task_run: TaskRun, output_prefix: str, port: int
) -> list[Replica]:
    """The runs of one attempt: master first (lead), then the workers."""
    if spec.HasField("elastic_config"):
        return _elastic(spec, task_run, output_prefix, port)
    workers = spec.worker_replicas.replicas
    common = {"MASTER_ADDR": HOST, "MASTER_PORT": str(port), "WORLD_SIZE": str(workers + 1), "PYTHONUNBUFFERED": "1"}
    master = _replica_run(task_run, "master", spec.master_replicas, {**common, "RANK": "0"}, lead=True)
    replicas = [Replica("master", master, output_prefix, lead=True)]
    for index in range(workers):
        prefix = f"{output_prefix}/replicas/worker-{index}"
        env = {**common, "RANK": str(index + 1)}
        run = _replica_run(
            task_run, f"worker-{index}", spec.worker_replicas, env, lead=False, prefix=(output_prefix, prefix)
        )
        replicas.append(Replica(f"worker-{index}", run, prefix, lead=False))
    return replicas


def _elastic(
    spec: pytorch_pb2.DistributedPyTorchTrainingTask, task_run: TaskRun, output_prefix: str, port: int
) -> list[Replica]:
    elastic = spec.elastic_config
    count = max(1, spec.worker_replicas.replicas or elastic.max_replicas)
    env = {
        "PET_RDZV_ENDPOINT": f"{HOST}:{port}",
        "PET_RDZV_BACKEND": elastic.rdzv_backend or "c10d",
        "PET_NNODES": f"{elastic.min_replicas or count}:{elastic.max_replicas or count}",
        "PET_NPROC_PER_NODE": str(elastic.nproc_per_node or 1),
        "PET_MAX_RESTARTS": str(elastic.max_restarts),
        "PYTHONUNBUFFERED": "1",
    }
    replicas = []
    for index in range(count):
        name = f"worker-{index}"
        run = _replica_run(task_run, name, spec.worker_replicas, env, lead=index == 0)
        replicas.append(Replica(name, run, output_prefix, lead=index == 0))
    return replicas


def _replica_run(
    task_run: TaskRun,
    name: str,
    replica: pytorch_pb2.DistributedPyTorchTrainingReplicaSpec,
    env: dict[str, str],
    lead: bool,
    prefix: tuple[str, str] | None = None,
) -> TaskRun:
    """``task_run`` for one replica; the lead keeps its run id and log file, ``prefix`` swaps the output prefix."""
    args = task_run.args
    if prefix is not None:
        old, new = prefix
        args = tuple(new if arg == old else arg for arg in args)
    limits = task_run.limits
    resources = {entry.name: entry.value for entry in replica.resources.requests}
    resources.update({entry.name: entry.value for entry in replica.resources.limits})
    if resources:
        limits = ResourceLimits(cpu=resources.get(_RESOURCE.CPU, ""), memory=resources.get(_RESOURCE.MEMORY, ""))
    log_path = task_run.log_path if lead else task_run.log_path.with_name(f"{task_run.log_path.stem}-{name}.log")
    return replace(
        task_run,
        run_id=task_run.run_id if lead else f"{task_run.run_id}-{name}",
        image=replica.image or task_run.image,
        args=args,
        env={**task_run.env, **env},
        log_path=log_path,
        limits=limits,
    )


def run_task(
    runtime: Runtime, blobs: BlobStore, task: tasks_pb2.TaskTemplate, task_run: TaskRun, output_prefix: str
) -> TaskResult:
    """Run one attempt: a single run, or the replicas of a distributed PyTorch task.

    The lead replica keeps ``task_run.run_id``, so terminating that id stops the whole job.
    """
    spec = training_spec(task)
    if spec is None:
        return runtime.run(task_run)
    replicas = plan_replicas(spec, task_run, output_prefix, free_port())
    log.info("pytorch task=%s replicas=%s", task.id.name, [replica.name for replica in replicas])
    return _Job(runtime, blobs, replicas, wait_for_all=spec.HasField("elastic_config")).run()


class _Job:
    def __init__(self, runtime: Runtime, blobs: BlobStore, replicas: list[Replica], wait_for_all: bool) -> None:
        self.runtime = runtime
        self.blobs = blobs
        self.replicas = replicas
        self.wait_for_all = wait_for_all
        self.stopping = threading.Event()

    def stop(self, except_for: Replica | None = None) -> None:
        self.stopping.set()
        for replica in self.replicas:
            if replica is not except_for:
                self.runtime.terminate(replica.run.run_id)

    def run(self) -> TaskResult:
        lead = self.replicas[0]
        results: dict[str, TaskResult] = {}
        first_failure: Replica | None = None
        with ThreadPoolExecutor(max_workers=len(self.replicas), thread_name_prefix="replica") as pool:
            running: dict[Future[TaskResult], Replica] = {
                pool.submit(self.runtime.run, r.run): r for r in self.replicas
            }
            try:
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        replica = running.pop(future)
                        result = future.result()  # RuntimeStartError: stop the rest (finally) and re-raise
                        results[replica.name] = result
                        failed_ = result.exit_code != 0 and not result.terminated
                        if failed_ and first_failure is None and not self.stopping.is_set():
                            first_failure = replica
                            log.info("replica=%s failed exit=%s: stopping the job", replica.name, result.exit_code)
                            self.stop(except_for=replica)
                        elif (
                            replica.lead and (result.terminated or not self.wait_for_all) and not self.stopping.is_set()
                        ):
                            self.stop(except_for=replica)  # the master decides; the operator cleans up the rest
            finally:
                if running:
                    self.stop()
        outcome = results[lead.name]
        lead_succeeded = outcome.exit_code == 0 and not outcome.terminated
        if first_failure is None or first_failure is lead or (lead_succeeded and not self.wait_for_all):
            return outcome
        failure = results[first_failure.name]
        self._adopt_error(first_failure, lead)
        return replace(failure, log_path=outcome.log_path, terminated=False)

    def _adopt_error(self, source: Replica, lead: Replica) -> None:
        """Put the failing replica's ``error.pb`` where the node reads the attempt's error."""
        if source.output_prefix == lead.output_prefix:
            return
        with contextlib.suppress(BlobNotFoundError):
            data = self.blobs.read(f"{source.output_prefix}/error.pb")
            self.blobs.write(f"{lead.output_prefix}/error.pb", data)
