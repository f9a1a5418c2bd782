"""The dashboard's bounds on what one request may make it read, hold or send.

One frozen value, built once per app (tests pass small ones): a request body, a page of
jobs, a page of log lines — each has a cap, so no request, however crafted, makes the
server hold or send more than these, whatever the database holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sysjobs.web.body import MAX_BODY_BYTES


@dataclass(frozen=True)
class WebLimits:
    """Caps of one dashboard app."""

    #: Bytes of a request body (413 past it, declared or counted while streaming).
    max_body_bytes: int = MAX_BODY_BYTES
    #: Jobs in a list page when the client does not say (``_size``).
    jobs_page: int = 50
    #: The most jobs one list page may ask for.
    max_jobs_page: int = 500
    #: Jobs read from the database per round trip while filling a list page.
    jobs_fetch: int = 10
    #: Bytes of a listed job's ``data`` or ``results`` (as JSON); past it the list shows
    #: ``{"clipped": true, "bytes": n}`` and ``/api/jobs/{id}`` has the whole value.
    list_field_bytes: int = 8 * 1024
    #: Log lines in a page when the client does not say (``_size``).
    logs_page: int = 200
    #: The most log lines one page may ask for.
    max_logs_page: int = 1000
    #: Bytes of log lines (as JSON) in one reply; a page ends early past it.
    logs_page_bytes: int = 1024 * 1024
    #: Bytes of one log line (as JSON) in a reply; a longer line is shown clipped.
    log_line_bytes: int = 256 * 1024
    #: Log rows read from the database per round trip while filling a page.
    logs_fetch: int = 32
    #: Characters of a console script's source.
    max_source_chars: int = 256 * 1024
    #: Console child processes alive at once (one per app used, each a V8 and a Host): a
    #: run in one more app ends the least recently used app's child first.
    max_consoles: int = 4
    #: Console script requests of one app held at once — running, waiting for the app's
    #: console or for their job's end (``wait``): each holds a thread of the pool every
    #: request shares, for up to a script's time limit. One more is a 429 at once.
    max_script_requests: int = 4

    def __post_init__(self) -> None:
        if not 0 < self.log_line_bytes <= self.logs_page_bytes:
            raise ValueError("log_line_bytes must be > 0 and <= logs_page_bytes")
        if self.max_consoles < 1:
            raise ValueError("max_consoles must be >= 1")
        if self.max_script_requests < 1:
            raise ValueError("max_script_requests must be >= 1")
