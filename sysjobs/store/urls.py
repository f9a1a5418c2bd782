"""Where sysjobs keeps its database when no URL is given — spelled without SQLAlchemy, so
that the CLI can name (and check) the default database before deciding how to open it."""

from __future__ import annotations

from pathlib import Path

#: Where ``sysjobs`` keeps its database when no URL is given.
DEFAULT_URL = "sqlite:///" + str(Path(".sysjobs") / "sysjobs.db")
