"""The apps one pool of workers serves.

A pool claims the jobs of every app it serves, fairly across them (the claim's rounds,
``sysjobs.store.leases.fair_rounds``), and runs each job with its own app's definition:
the engine scoped to that app (its registry holds that app's job types, its reads and
writes see that app's rows only) and the script runner bound to that app's scripts,
listeners and manifest. A job of an app the pool does not serve is never claimed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sysjobs.errors import BadRequest
from sysjobs.jobs import Engine
from sysjobs.jobs.scripts import ScriptRunner


@dataclass(frozen=True)
class ServedApp:
    """One app of a pool: its engine (scoped to it) and its script runner (or None)."""

    engine: Engine
    script_runner: ScriptRunner | None = None

    @property
    def key(self) -> str:
        return self.engine.app


def served_apps(
    engine: Engine, script_runner: ScriptRunner | None, apps: Mapping[str, ServedApp] | None
) -> dict[str, ServedApp]:
    """The apps a pool on ``engine`` serves: ``apps`` (each keyed by its engine's app), or
    the engine's own app with ``script_runner``."""
    if not apps:
        return {engine.app: ServedApp(engine, script_runner)}
    for key, app in apps.items():
        if app.engine.app != key:
            raise BadRequest(
                f"Invalid value '{key}' for parameter 'apps': its engine serves app "
                f"'{app.engine.app}'. Allowed values: the key of the app's engine"
            )
        if app.engine.database is not engine.database:
            raise BadRequest(
                f"Invalid value '{key}' for parameter 'apps': its engine opens another "
                "database. Allowed values: engines of the pool's database (Engine.for_app)"
            )
    return dict(apps)
