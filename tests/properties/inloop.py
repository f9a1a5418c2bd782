"""A synchronous client that calls the dashboard app in this thread's own event loop.

Starlette's ``TestClient`` runs the app on an event loop in another thread and crosses
over several times per request (a portal call for each ASGI message): about 1.6 ms of CPU
per request, against about 0.6 ms for the same request through httpx's ASGI transport
called in a loop of this thread. The properties send thousands of requests; the app, its
middleware and its lifespan are the same, only the way the test reaches them differs.

A path is sent as an absolute URL: httpx parses a relative one, then the base URL merged
with it again, each time scanning every character in Python — with the properties'
5,000-character parameters, most of a request's CPU.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import httpx2
from starlette.applications import Starlette

T = TypeVar("T")
#: Where the requests go (``TestClient``'s host name).
_ORIGIN = "http://testserver"


class InLoopClient:
    """``get``/``post``/``request`` like ``TestClient``'s; :meth:`close` ends the app's
    lifespan and the loop. Server errors come back as 500 replies, not exceptions, and
    redirects are followed, as ``TestClient`` does (a job id of ``/`` reaches a path the
    router answers with a redirect: the properties judge where it leads)."""

    def __init__(self, app: Starlette) -> None:
        self._loop = asyncio.new_event_loop()
        self._lifespan: AbstractAsyncContextManager[Any] = app.router.lifespan_context(app)
        self._run(self._lifespan.__aenter__())
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx2.AsyncClient(transport=transport, follow_redirects=True)

    def _run(self, step: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(step)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        return self._run(self._client.request(method, _ORIGIN + path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        try:
            self._run(self._client.aclose())
            self._run(self._lifespan.__aexit__(None, None, None))
            self._run(self._loop.shutdown_default_executor())
        finally:
            self._loop.close()
