"""Errors that cross the gRPC boundary, with FlyteAdmin's status codes and messages.

Every manager raises :class:`AdminError`; the server turns it into a gRPC status. Nothing else may
escape a handler: flytekit's auth interceptor treats ``UNKNOWN`` as an expired credential and tries to
log in again (see ``flytekit/clients/grpc_utils/auth_interceptor.py``).
"""

from __future__ import annotations

import grpc
from google.protobuf.message import Message


class AdminError(Exception):
    """A failed admin call: a gRPC status code, FlyteAdmin's message and its status details.

    ``details`` is the protobuf FlyteAdmin attaches to the status (e.g. ``EventFailureReason``,
    ``CreateWorkflowFailureReason``); clients such as propeller branch on it.
    """

    def __init__(self, code: grpc.StatusCode, message: str, details: Message | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def invalid_argument(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.ALREADY_EXISTS, message)


def failed_precondition(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.FAILED_PRECONDITION, message)


def missing_argument(argument: str) -> AdminError:
    """``shared.NewMissingArgumentError`` in flyteadmin/pkg/manager/impl/shared/errors.go."""
    return invalid_argument(f"missing {argument}")
