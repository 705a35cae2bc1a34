"""Executions survive a restart, and an in-process executor hears about them (propeller's seat).

Mirrors ``flyteadmin/pkg/manager/impl/execution_manager.go`` (executions are rows in the database, the
workflow engine is told about each one) with localflyte's SQLite store and ``ExecutionSink``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flyteidl.admin import execution_pb2
from flyteidl.event import event_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import Config, DataConfig, PlatformConfig, S3Config
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote

from localflyte.app import LocalFlyte
from localflyte.execution import ExecutionSink
from localflyte.execution.executions import ExecutionManager
from localflyte.execution.records import ExecutionRecord
from localflyte.settings import ServerSettings
from localflyte.testing import LocalFlyteProcess, MotoServer
from tests.conformance import executions_support as support

pytestmark = pytest.mark.conformance


def _config(endpoint: str, moto: MotoServer) -> Config:
    return Config(
        platform=PlatformConfig(endpoint=endpoint, insecure=True),
        data_config=DataConfig(S3Config(endpoint=moto.endpoint, access_key_id="testing", secret_access_key="testing")),
    )


def test_restart_loses_no_execution(tmp_path: Path, moto_server: MotoServer) -> None:
    """Executions, their events and offloaded inputs are still there after a restart."""
    process = LocalFlyteProcess(tmp_path / "state", s3_endpoint=moto_server.endpoint)
    try:
        remote = FlyteRemote(
            _config(process.endpoint, moto_server), default_project="durable", default_domain="development"
        )
        remote.client.register_project(Project(id="durable", name="durable", description="restart"))
        lp = support.register_adder(remote, "durable")
        execution = remote.execute(lp, inputs={"a": 11}, execution_name="survivor")
        support.workflow_event(remote.client, execution.id.to_flyte_idl(), support.WorkflowPhase.RUNNING)
    finally:
        process.stop()
    process = LocalFlyteProcess(tmp_path / "state", s3_endpoint=moto_server.endpoint)
    try:
        remote = FlyteRemote(
            _config(process.endpoint, moto_server), default_project="durable", default_domain="development"
        )
        fetched = remote.fetch_execution(name="survivor")
        assert fetched.closure.phase == support.WorkflowPhase.RUNNING
        assert remote.client.get_execution_data(fetched.id).full_inputs.literals["a"].scalar.primitive.integer == 11
    finally:
        process.stop()


class _Listener:
    def __init__(self) -> None:
        self.created: list[ExecutionRecord] = []
        self.aborts: list[ExecutionRecord] = []
        self.event = threading.Event()

    def execution_created(self, record: ExecutionRecord) -> None:
        self.created.append(record)

    def abort_requested(self, record: ExecutionRecord) -> None:
        self.aborts.append(record)


def test_executor_hook_sees_creations_and_records_events(tmp_path: Path, moto_server: MotoServer) -> None:
    """The sink hands new executions to the executor and records its events via the RPC code path."""
    settings = ServerSettings(port=0, state_dir=tmp_path / "inproc", s3_endpoint=moto_server.endpoint, runtime="none")
    with LocalFlyte(settings) as instance:
        sink: ExecutionSink = next(c for c in instance.components if isinstance(c, ExecutionManager)).sink
        listener = _Listener()
        sink.subscribe(listener)
        client = SynchronousFlyteClient(PlatformConfig(endpoint=f"127.0.0.1:{instance.port}", insecure=True))
        client.register_project(Project(id="hooked", name="hooked", description="sink"))
        remote = FlyteRemote(_config(f"127.0.0.1:{instance.port}", moto_server), default_project="hooked",
                             default_domain="development")  # fmt: skip
        lp = support.register_adder(remote, "hooked")
        execution = remote.execute(lp, inputs={"a": 1}, execution_name="hooked-run")
        assert [record.name for record in listener.created] == ["hooked-run"]
        record = listener.created[0]
        assert record.phase == "QUEUED" and record.config_proto().max_parallelism == 25
        identifier = execution.id.to_flyte_idl()
        sink.workflow_phase(
            event_pb2.WorkflowExecutionEvent(execution_id=identifier, phase=support.WorkflowPhase.RUNNING)
        )
        client.terminate_execution(execution.id, "stop")
        assert [aborted.phase for aborted in listener.aborts] == ["ABORTING"]
        sink.workflow_phase(
            event_pb2.WorkflowExecutionEvent(execution_id=identifier, phase=support.WorkflowPhase.ABORTED)
        )
        request = execution_pb2.WorkflowExecutionGetRequest(id=identifier)
        closure = client._stub.GetExecution(request, metadata=client._metadata).closure
        assert closure.phase == support.WorkflowPhase.ABORTED
        assert closure.abort_metadata.cause == "stop"
