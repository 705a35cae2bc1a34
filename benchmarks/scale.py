"""P4 (localflyte registration throughput, concurrent registrations) and P5 (decision latency)."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.admin import task_pb2
from flyteidl.core import execution_pb2, identifier_pb2
from flyteidl.event import event_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.clients.raw import RawSynchronousFlyteClient
from google.protobuf import timestamp_pb2

from benchmarks.measure import Figure, Timing, percentiles
from benchmarks.stack import BenchStack
from benchmarks.synthetic import PipelineShape, package_pipeline, write_pipeline
from tasks.core.config_models import ValidationSpec
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.register_admin import FlyteAdminGateway
from tasks.core.register_package import EntityPackage, load_package
from tasks.core.validate import DEFAULT_POLL_SECONDS, ValidationRequest, run_validation

logger = logging.getLogger(__name__)

IMAGE = "127.0.0.1:30000/taxiway/base:bookworm-py311"


def small_package(work: Path, entities: int = 8) -> EntityPackage:
    """A synthetic package of about ``entities`` entities, packaged and loaded."""
    write_pipeline(work / "src", PipelineShape.with_entities(entities))
    return load_package(package_pipeline(work / "src", "synth", IMAGE, work / "pkg.tgz"), work / "pkg")


def p4_throughput(stack: BenchStack, package: EntityPackage, total: int, clients: int = 8) -> Figure:
    """Raw ``CreateTask`` calls from ``clients`` threads, each with its own gRPC client: entities/s."""
    project = stack.new_project("p4")
    template = package.tasks[0].spec
    per_client = total // clients

    def work(worker: int) -> None:
        client = SynchronousFlyteClient(stack.settings.to_config().platform)
        for index in range(per_client):
            ident = identifier_pb2.Identifier(
                resource_type=identifier_pb2.TASK, project=project, domain="development",
                name=f"synth.t{worker}_{index}", version="v1",
            )  # fmt: skip
            spec = task_pb2.TaskSpec()
            spec.CopyFrom(template)
            spec.template.id.CopyFrom(ident)
            RawSynchronousFlyteClient.create_task(client, task_pb2.TaskCreateRequest(id=ident, spec=spec))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(work, range(clients)))
    elapsed = time.perf_counter() - started
    rate = per_client * clients / elapsed
    return Figure(
        name=f"P4 localflyte registrations/s ({clients} clients)",
        taxiway=rate, baseline=None, unit="entities/s", goal=">= 500", met=rate >= 500,
        note=f"{per_client * clients} raw CreateTask in {elapsed:.2f}s",
        details={"elapsed_s": elapsed, "created": per_client * clients},
    )  # fmt: skip


def p4_concurrent(stack: BenchStack, package: EntityPackage, runs: int) -> Figure:
    """``runs`` concurrent ``register_package`` runs of distinct versions: success rate, p50/p95."""
    project = stack.new_project("p4c")
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        started = time.perf_counter()
        try:
            stack.register(package, project, "development", f"ci{index:04d}")
        except Exception as err:  # a failed run is a data point, not a crash of the benchmark
            with lock:
                failures.append(f"run {index}: {err}")
            return
        with lock:
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=runs) as pool:
        list(pool.map(run, range(runs)))
    wall = time.perf_counter() - started
    rate = len(latencies) * package.entity_count / wall
    success = len(latencies) / runs
    p50, p95 = percentiles(latencies, 0.5, 0.95) if latencies else (float("nan"), float("nan"))
    return Figure(
        name=f"P4 {runs} concurrent register_package runs",
        taxiway=success * 100, baseline=None, unit="% success", goal="100%", met=success == 1.0,
        note=(f"p50 {p50:.2f}s p95 {p95:.2f}s, {rate:.0f} entities/s overall; {runs} clients each registering "
              f"a distinct version ({package.entity_count} entities, code bundle upload included) at once"),
        details={"p50_s": p50, "p95_s": p95, "entities_per_s": rate,
                 "latencies": Timing(tuple(latencies)).summary() if latencies else {},
                 "failures": failures[:5]},
    )  # fmt: skip


def _now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def _workflow_event(
    client: SynchronousFlyteClient, execution: identifier_pb2.WorkflowExecutionIdentifier, phase: int
) -> None:
    """What propeller sends when an execution changes phase."""
    event = event_pb2.WorkflowExecutionEvent(
        execution_id=execution, phase=phase, producer_id="propeller", occurred_at=_now()
    )
    request = admin_event_pb2.WorkflowExecutionEventRequest(request_id=uuid.uuid4().hex, event=event)
    client._stub.CreateWorkflowEvent(request, metadata=client._metadata)


class _StampedGateway(FlyteAdminGateway):
    """A gateway that records when the registration's first call (``check_target``) starts."""

    started: float = 0.0

    def check_target(self, project: str, domain: str) -> None:
        self.started = time.perf_counter()
        super().check_target(project, domain)


def p5_decision(stack: BenchStack, package: EntityPackage, repeats: int, poll: float = DEFAULT_POLL_SECONDS) -> Figure:
    """From a validation execution's SUCCEEDED event to the promotion's registration starting."""
    project = stack.new_project("p5")
    stack.register(package, project, "development", "rel0001")
    plan = package.workflows[0].name
    executions = FlyteExecutions(lambda domain: stack.remotes.for_domain(project, domain))
    samples = []
    for attempt in range(repeats):
        case = ValidationSpec(name="smoke", launch_plan=plan, inputs={})
        request = ValidationRequest("bench", project, "rel0001", "development", [case], attempt=attempt)
        gateway = _StampedGateway(stack.remotes.for_domain(project, "staging"))

        def validate_then_promote(
            request: ValidationRequest = request, gateway: _StampedGateway = gateway, version: str = f"rel{attempt:04d}"
        ) -> None:
            report = run_validation(request, executions, poll_seconds=poll)
            if report.passed:
                stack.register(package, project, "staging", version, gateway=gateway)

        worker = threading.Thread(target=validate_then_promote)
        worker.start()
        ref = request.execution_of(case)
        while executions.get(ref) is None:
            time.sleep(0.05)
        time.sleep(random.uniform(0, poll))  # the execution finishes at an arbitrary point of the poll cycle
        execution = identifier_pb2.WorkflowExecutionIdentifier(project=ref.project, domain=ref.domain, name=ref.name)
        _workflow_event(stack.client, execution, execution_pb2.WorkflowExecution.RUNNING)
        succeeded = time.perf_counter()
        _workflow_event(stack.client, execution, execution_pb2.WorkflowExecution.SUCCEEDED)
        worker.join(timeout=120)
        if not gateway.started:
            raise RuntimeError(f"P5: the promotion's registration never started (execution {ref})")
        samples.append(gateway.started - succeeded)
    timing = Timing(tuple(samples))
    return Figure(
        name="P5 decision latency", taxiway=timing.median, baseline=None, unit="s", goal="<= 5 s",
        met=max(samples) <= 5.0,
        note=(f"max {max(samples):.2f}s; validate.py polls every {poll:g}s (flytekit's default 30 s poll "
              "would add ~15 s on average)"),
        details={"latency": timing.summary(), "poll_seconds": poll},
    )  # fmt: skip
