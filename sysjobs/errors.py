"""The platform's error hierarchy, shared by every layer.

Every error a script can see has a *code* (the strings of the spec: ``badRequest``,
``notFound``, ``timeout`` …). Engine, app and bindings raise these classes; the bridge maps
them to branded JS errors through :data:`ERROR_CODES` — the one table, checked for
completeness by a test. Anything else that escapes a handler becomes ``systemException``
with a correlation id, and the traceback stays in the host's log.

This module imports nothing from sysjobs so that every layer may import it.
"""

from __future__ import annotations

from typing import Any


class SysError(Exception):
    """A platform error."""

    #: The code scripts see through ``sys.exceptions.getCode(e)``.
    code: str = "unknown"

    def __init__(self, message: str | None = None, *, info: Any = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        #: JSON-serialisable details, surfaced as ``getAdditionalInfo(e)``.
        self.info = info
        super().__init__(self.message)


class BadRequest(SysError, ValueError):
    """The request is invalid."""

    code = "badRequest"


class NotFound(SysError, LookupError):
    """The requested item was not found."""

    code = "notFound"


class Timeout(SysError, TimeoutError):
    """The operation did not complete in time."""

    code = "timeout"


class ValidationErrors(SysError, ValueError):
    """The record has validation errors."""

    code = "validationErrors"


class AccessForbidden(SysError, PermissionError):
    """Access to this operation is forbidden."""

    code = "forbidden"


class OptimisticLocking(SysError):
    """The item was changed by someone else."""

    code = "optimisticLocking"


class SystemException(SysError):
    """An internal error happened; the host's log has the details."""

    code = "systemException"


class UnknownError(SysError):
    """An unknown error happened."""

    code = "unknown"


class LimitExceeded(SysError):
    """A governance limit of the script run was reached."""

    # Jobs started, log bytes or host calls (``sysjobs.runtime.governor``): the message
    # names the limit, its value and how to raise it, and once a run reached a limit every
    # later call of that kind in the same run fails the same way.
    code = "limitExceeded"


class Conflict(BadRequest):
    """The operation is not allowed in the current state (illegal status transition)."""


#: Every error class scripts can see, with its code: the bridge's one mapping table.
ERROR_CODES: dict[type[SysError], str] = {
    BadRequest: BadRequest.code,
    NotFound: NotFound.code,
    Timeout: Timeout.code,
    ValidationErrors: ValidationErrors.code,
    AccessForbidden: AccessForbidden.code,
    OptimisticLocking: OptimisticLocking.code,
    SystemException: SystemException.code,
    UnknownError: UnknownError.code,
    LimitExceeded: LimitExceeded.code,
}

#: The code constants of ``sys.exceptions`` (name → code), as the platform documents them.
CODE_CONSTANTS: dict[str, str] = {
    "BAD_REQUEST_ERROR": BadRequest.code,
    "NOT_FOUND_ERROR": NotFound.code,
    "TIMEOUT_ERROR": Timeout.code,
    "VALIDATION_ERRORS": ValidationErrors.code,
    "ACCESS_FORBIDDEN_ERROR": AccessForbidden.code,
    "OPTIMISTIC_LOCKING_ERROR": OptimisticLocking.code,
    "SYSTEM_ERROR": SystemException.code,
    "UNKNOWN_ERROR": UnknownError.code,
    #: Beyond the spec's list: a governance limit of the run (see the README's Limits).
    "LIMIT_EXCEEDED_ERROR": LimitExceeded.code,
}


def code_of(exc: BaseException) -> str:
    """The code of ``exc`` by the one table (subclasses take their base's code)."""
    for cls in type(exc).__mro__:
        if cls in ERROR_CODES:
            return ERROR_CODES[cls]
    return SystemException.code
