"""sysjobs.web — the dashboard: a JSON API with bearer tokens and plain HTML/JS pages.

Build it with :func:`sysjobs.web.app.create_app` over a :class:`~sysjobs.host.Host`;
``sysjobs serve`` does that and runs it with uvicorn. Nothing is imported here, so the CLI
can use :mod:`sysjobs.web.views` (the shared JSON shapes) without loading Starlette.
"""
