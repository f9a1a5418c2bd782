"""What the app needs from the engine, typed structurally (the verbs of docs/contracts.md).

The app depends on these shapes rather than on how the engine is built, so its job
handlers type-check and run against any engine that honours the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class JobLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


class EngineLike(Protocol):
    def enqueue(
        self,
        type: str,
        data: Mapping[str, Any],
        *,
        label: str | None = None,
        run_by: Mapping[str, Any] | None = None,
        low_priority: bool = False,
        queue: str | None = None,
        parent_id: str | None = None,
    ) -> Any: ...


class ScriptOutcomeLike(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def value(self) -> Any: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...


class ScriptRunnerLike(Protocol):
    def run(
        self, source: str, *, job_id: str | None, globals: dict[str, Any], timeout_s: float
    ) -> ScriptOutcomeLike: ...


class ContextLike(Protocol):
    """What a running handler sees (``JobContext`` of the contract)."""

    @property
    def job(self) -> Any: ...
    @property
    def checkpoint(self) -> Any: ...
    @property
    def script_runner(self) -> Any: ...

    def log_info(self, message: str, info: Any = None) -> None: ...
    def log_error(self, message: str, info: Any = None) -> None: ...
    def set_progress(self, pct: int) -> None: ...
    def should_stop(self) -> bool: ...
    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None: ...
    def set_results(self, results: dict[str, Any]) -> None: ...
