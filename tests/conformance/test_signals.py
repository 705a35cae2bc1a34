"""SignalService against ``flyteadmin/pkg/manager/impl/signal_manager.go`` and ``validation/signal_validator.go``."""

from __future__ import annotations

import pytest
from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2
from flytekit.exceptions.user import FlyteInvalidInputException

from tests.conformance import executions_support as support

pytestmark = pytest.mark.conformance

BOOLEAN = types_pb2.LiteralType(simple=types_pb2.SimpleType.BOOLEAN)


def _signal_id(name: str, project: str = "flytesnacks") -> identifier_pb2.SignalIdentifier:
    execution = identifier_pb2.WorkflowExecutionIdentifier(project=project, domain="development", name=name)
    return identifier_pb2.SignalIdentifier(signal_id="approve", execution_id=execution)


def _boolean(value: bool) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(boolean=value)))


def _get_or_create(client, signal_id: identifier_pb2.SignalIdentifier) -> signal_pb2.Signal:
    request = signal_pb2.SignalGetOrCreateRequest(id=signal_id, type=BOOLEAN)
    return client._signal.GetOrCreateSignal(request, metadata=client._metadata)


def test_get_or_create_then_set_and_list(client) -> None:
    """signal_manager.go: GetOrCreateSignal is idempotent; SetSignal stores the value; ListSignals shows it."""
    signal_id = _signal_id(support.name())
    created = _get_or_create(client, signal_id)
    assert created.type == BOOLEAN and not created.HasField("value")
    assert _get_or_create(client, signal_id) == created
    client.set_signal(signal_pb2.SignalSetRequest(id=signal_id, value=_boolean(True)))
    listed = client.list_signals(signal_pb2.SignalListRequest(workflow_execution_id=signal_id.execution_id, limit=10))
    assert [signal.value.scalar.primitive.boolean for signal in listed.signals] == [True]
    assert _get_or_create(client, signal_id).value == _boolean(True)


def test_set_signal_again_overwrites(client) -> None:
    """gormimpl/signal_repo.go Update: setting a signal that has a value replaces it."""
    signal_id = _signal_id(support.name())
    _get_or_create(client, signal_id)
    client.set_signal(signal_pb2.SignalSetRequest(id=signal_id, value=_boolean(True)))
    client.set_signal(signal_pb2.SignalSetRequest(id=signal_id, value=_boolean(False)))
    assert _get_or_create(client, signal_id).value == _boolean(False)


def test_set_unknown_signal_is_invalid(client) -> None:
    """validation/signal_validator.go: 'failed to validate that signal [...] exists'."""
    with pytest.raises(FlyteInvalidInputException) as raised:
        client.set_signal(signal_pb2.SignalSetRequest(id=_signal_id(support.name()), value=_boolean(True)))
    assert "failed to validate that signal" in support.status_of(raised.value)[1]


def test_set_signal_of_wrong_type_is_invalid(client) -> None:
    """validation/signal_validator.go: the value must be castable to the signal's type."""
    signal_id = _signal_id(support.name())
    _get_or_create(client, signal_id)
    with pytest.raises(FlyteInvalidInputException) as raised:
        client.set_signal(signal_pb2.SignalSetRequest(id=signal_id, value=support.literal_int(1)))
    assert "is not castable to existing signal type" in support.status_of(raised.value)[1]


def test_identity_answers_an_insecure_client(client) -> None:
    """auth/handlers.go + identity: UserInfo and auth metadata answer instead of UNIMPLEMENTED."""
    from flyteidl.service import auth_pb2, auth_pb2_grpc, identity_pb2, identity_pb2_grpc

    identity = identity_pb2_grpc.IdentityServiceStub(client._channel)
    assert identity.UserInfo(identity_pb2.UserInfoRequest()).subject == "localflyte"
    auth = auth_pb2_grpc.AuthMetadataServiceStub(client._channel)
    assert auth.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest()).client_id == "flytectl"
    assert auth.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest()).token_endpoint.endswith("/oauth2/token")
