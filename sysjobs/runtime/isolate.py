"""A bootstrapped V8 context: the bridge, the bootstrap's ``run`` function, the dispatch.

The bootstrap source is built once per sandbox from its namespaces; each isolate evaluates
it and calls it with the synchronous callback, getting back the transport buffer, the
``run()`` function (which proves a recycled context clean before the script it is for)
and the unpin signal (which releases the pinned thread state when the bridge closes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

from sysjobs.runtime import dispatch
from sysjobs.runtime.bridge import Bridge
from sysjobs.runtime.namespace import CallContext, Namespace
from sysjobs.runtime.result import Limits

_BOOTSTRAP_JS = resources.files("sysjobs.runtime").joinpath("bootstrap.js").read_text("utf-8")


def build_bootstrap(namespaces: Sequence[Namespace]) -> str:
    """The source whose evaluation yields ``function (cb, bytes) → [sab, run, end]``."""
    specs = ",".join(
        f"{{name:{json.dumps(ns.name)},globalName:{json.dumps(ns.global_name)},"
        f"prelude:({ns.prelude.strip()})}}"
        for ns in namespaces
    )
    return (
        f"(function(){{const boot=\n{_BOOTSTRAP_JS}\n;"
        f"return function(cb,bytes){{return boot(cb,bytes,[{specs}]);}};}})()"
    )


class Isolate:
    """A bootstrapped context: runs, each first proving the context clean when recycled."""

    def __init__(
        self, source: str, table: dict[str, Any], limits: Limits, *, pin: bool = True
    ) -> None:
        self.ctx = CallContext(deadline=0.0)
        #: Runs done in this context so far (by every session it served).
        self.runs = 0
        #: Whether another session's scripts ran here since it was last proven clean.
        self.dirty = False
        self.bridge = Bridge(heap_limit_bytes=limits.heap_bytes, pin_thread_state=pin)
        try:
            factory = self.bridge.eval(source)
            parts = self.bridge.call(factory, self.bridge.js_callback(), limits.buffer_bytes)
            buffer, self.run_fn, unpin_fn = parts[0], parts[1], parts[2]
            self.bridge.attach(buffer, self._serve(table), unpin_fn)
        except BaseException:
            self.bridge.close()
            raise

    def _serve(self, table: dict[str, Any]) -> Callable[[bytes | memoryview], bytes]:
        def serve(request: bytes | memoryview) -> bytes:
            text = str(request, "utf-16-le", "surrogatepass")
            reply = dispatch.handle(table, self.ctx, text)
            return reply.encode("utf-16-le", "surrogatepass")

        return serve

    def run_envelope(self, source: str, globals: dict[str, Any], timeout_s: float) -> Any:
        """Call the bootstrap's ``run`` for ``source``; its JSON envelope (or a bridge error).

        On a context another session used (``dirty``), ``run`` first proves it clean
        (the bootstrap's ``reset``): the envelope is then ``{"dirty": true}`` when it is
        not, and the script did not run.
        """
        payload = json.dumps({"source": source, "globals": globals, "reset": self.dirty})
        self.dirty = False
        return self.bridge.call_with_input(
            self.run_fn, payload, timeout_s=timeout_s, then_canary=True
        )

    def close(self) -> None:
        self.bridge.close()
