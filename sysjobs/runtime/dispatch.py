"""Python side of a host call: decode, validate with pydantic, run, encode — never raise.

Errors are mapped at this one boundary (httpx's ``map_httpcore_exceptions`` is the model):
a :class:`~sysjobs.errors.SysError` keeps its code and message; a pydantic validation
error becomes ``badRequest`` naming the parameter; anything else becomes
``systemException`` with a correlation id, and its traceback goes to the host's log only —
no Python object, path or traceback ever reaches JS.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from sysjobs.errors import BadRequest, SysError, SystemException, code_of
from sysjobs.runtime.governor import HOST_CALLS
from sysjobs.runtime.namespace import CallContext, Namespace, Operation

log = logging.getLogger("sysjobs.runtime")


def operation_table(namespaces: Iterable[Namespace]) -> dict[str, Operation[Any]]:
    """``{"jobs.findById": Operation, …}`` for every namespace."""
    return {f"{ns.name}.{op.name}": op for ns in namespaces for op in ns.operations}


def describe_validation_error(exc: ValidationError, model: type[BaseModel]) -> str:
    """One sentence naming the parameter, the value and what is allowed."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "arguments"
    kind = err["type"]
    if kind == "missing":
        return f"Parameter '{where}' is required."
    if kind == "extra_forbidden":
        allowed = ", ".join(model.model_fields) or "none"
        return f"Unknown parameter '{where}'. Allowed parameters: {allowed}."
    message = str(err["msg"]).removeprefix("Value error, ")
    if f"'{where}'" in message:  # the model's own message already names the parameter
        return message
    value = err.get("input")
    shown = json.dumps(value, default=str)[:80] if value is not None else "null"
    return f"Invalid value {shown} for parameter '{where}': {message}."


def validate(op: Operation[Any], args: Any) -> BaseModel:
    if op.quick_args is not None:
        quick: BaseModel | None = op.quick_args(args)
        if quick is not None:
            return quick
    try:
        model: BaseModel = op.args.model_validate(args if args is not None else {})
        return model
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc, op.args)) from None


def error_reply(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SysError):
        return {"err": {"code": code_of(exc), "message": _short(exc.message), "info": exc.info}}
    correlation = uuid.uuid4().hex[:12]
    log.error("host call failed [%s]", correlation, exc_info=exc)
    message = f"An internal error happened (correlation id {correlation})."
    return {"err": {"code": SystemException.code, "message": message, "info": None}}


#: Characters of an error message sent to JS (messages quote the offending value).
MAX_MESSAGE_CHARS = 1000


def _short(message: str) -> str:
    """``message`` cut to :data:`MAX_MESSAGE_CHARS` (an echoed 1 MB argument stays home)."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return f"{message[:MAX_MESSAGE_CHARS]}… ({len(message) - MAX_MESSAGE_CHARS} more characters)"


def handle(table: Mapping[str, Operation[Any]], ctx: CallContext, request: str) -> str:
    """Serve one request (JSON text) and return the reply (JSON text).

    Every call counts against the run's host-call budget, a malformed one too. The run's
    pending writes go out before any operation that does not defer them (their failure is
    this call's error).
    """
    try:
        ctx.charge(HOST_CALLS)
        message = _decode_request(request)
        op = table.get(str(message.get("op")))
        if op is None:
            raise BadRequest(f"Unknown operation '{message.get('op')}'.")
        if ctx.flushes and not op.defers:
            ctx.flush()
        result = op.handler(ctx, validate(op, message.get("args")))
        return _encode({"ok": result})
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return json.dumps(error_reply(exc), ensure_ascii=False, default=str)


def _decode_request(request: str) -> dict[str, Any]:
    """The request as a dict; arguments nested past Python's recursion limit are refused.

    The bootstrap's ``JSON.stringify`` wrote it, so it is one JSON value without
    surrounding whitespace: the decoder's C scanner reads it directly (``json.loads``
    adds two Python layers and a whitespace regex per call, a fifth of a host call's
    Python time). Anything else goes through ``json.loads`` for its error.
    """
    try:
        message, end = _scan(request, 0)
        if end != len(request):
            message = json.loads(request)
    except RecursionError:
        raise BadRequest("The arguments are nested too deeply.") from None
    except (StopIteration, ValueError):
        message = json.loads(request)
    if not isinstance(message, dict):
        raise BadRequest("Malformed host call: the request is not a JSON object.")
    return message


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# Built once: json.dumps() with any non-default option builds a new encoder per call,
# which was half the Python cost of a host call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)
#: The C scanner ``json.loads`` ends in; takes (text, index), returns (value, end).
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _make_encode() -> Callable[[Any], str]:
    """``_ENCODER.encode``, minus what it rebuilds per call: ``JSONEncoder.encode`` makes a
    new C encoder (and a circular-reference table) every time. This one is made once;
    without the table, a self-referencing value ends in ``RecursionError`` instead,
    which ``handle`` turns into ``systemException`` like any other host failure."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the plain encoder
        return _ENCODER.encode
    chunks = make(
        None, _json_default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    return lambda value: "".join(chunks(value, 0))


_encode = _make_encode()
