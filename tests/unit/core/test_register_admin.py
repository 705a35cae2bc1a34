"""Which failures of FlyteAdmin and its data proxy registration retries."""

from __future__ import annotations

import grpc
import pytest
import requests
from flytekit.exceptions.user import FlyteValueException

from tasks.core.register_admin import _is_transient

pytestmark = pytest.mark.unit


class _RpcError(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


def _wrapped(cause: BaseException) -> RuntimeError:
    error = RuntimeError("Failed to get signed url")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_RpcError(grpc.StatusCode.UNAVAILABLE), True),
        (_RpcError(grpc.StatusCode.DEADLINE_EXCEEDED), True),
        (_RpcError(grpc.StatusCode.INVALID_ARGUMENT), False),
        (requests.ConnectionError("refused"), True),
        (FlyteValueException(500, "Request to send data failed."), True),
        (FlyteValueException(503, "Request to send data failed."), True),
        (FlyteValueException(403, "Request to send data failed."), False),
        (_wrapped(_RpcError(grpc.StatusCode.UNAVAILABLE)), True),
        (_wrapped(ValueError("bad")), False),
        (ValueError("Received: 500"), False),
    ],
)
def test_only_failures_that_can_pass_on_a_retry_are_transient(error: BaseException, transient: bool) -> None:
    assert _is_transient(error) is transient
