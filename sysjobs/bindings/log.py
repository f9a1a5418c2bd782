"""The global ``log(...)``: to the run's log sink (the CLI's stdout, or the current job's log).

Where a line goes is decided by whoever starts the run (``Sandbox.run(log_sink=…)``): the
binding itself only hands the formatted line over, after charging its UTF-8 bytes to the
run's log budget (a line past the budget is refused whole with ``limitExceeded``).
"""

from __future__ import annotations

from importlib import resources

from pydantic import BaseModel, ConfigDict

from sysjobs.runtime.governor import LOG_BYTES, utf8_size
from sysjobs.runtime.namespace import CallContext, Namespace, Operation

_PRELUDE = resources.files("sysjobs.bindings").joinpath("log.js").read_text("utf-8")


class WriteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    message: str


def _write(ctx: CallContext, args: WriteArgs) -> None:
    if ctx.log_sink is not None:
        ctx.charge(LOG_BYTES, utf8_size(args.message))
        ctx.log_sink(args.message)


def log_namespace() -> Namespace:
    """The ``log`` global function."""
    return Namespace(
        name="log",
        prelude=_PRELUDE,
        # A log line does not read records: a run's pending record writes may wait.
        operations=(Operation("write", WriteArgs, _write, defers=True),),
        global_name="log",
    )
