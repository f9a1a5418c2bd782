"""What importing sysjobs loads: a command pays only for what it uses.

``import sysjobs`` and ``import sysjobs.cli`` (every command registered, ready for
``--help``) load no database, no sandbox, no web server and no terminal rendering; the
parent of ``sysjobs run`` loads no V8 either; the script's child loads V8 but no database
until the script asks for one. Each check imports in a fresh interpreter and reads
``sys.modules`` — no timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Modules none of the imports below may load (typer and click are allowed: they are the CLI).
HEAVY = (
    "sqlalchemy", "alembic", "psycopg", "pydantic", "py_mini_racer", "starlette", "uvicorn",
    "fastapi", "rich", "yaml", "sysjobs.host", "sysjobs.jobs", "sysjobs.store", "sysjobs.app",
    "sysjobs.web", "sysjobs.worker", "sysjobs.bindings", "sysjobs.runtime.sandbox",
    "sysjobs.runtime.bridge",
)  # fmt: skip
#: What the script's child of ``sysjobs run`` may not load before the script touches
#: ``sys.jobs`` or ``sys.data``.
DATABASE = ("sqlalchemy", "alembic", "psycopg", "sysjobs.store", "sysjobs.jobs", "sysjobs.host")


def loaded_after(statement: str, candidates: tuple[str, ...]) -> list[str]:
    """The ``candidates`` in ``sys.modules`` after ``statement`` in a fresh interpreter."""
    code = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {list(candidates)!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    return list(json.loads(done.stdout))


@pytest.mark.parametrize(
    "statement",
    [
        "import sysjobs",
        "import sysjobs.errors",
        "import sysjobs.cli",
        "from sysjobs.cli import app, main",
        "import sysjobs.runtime",
        "import sysjobs.runtime.process",
    ],
)
def test_importing_the_package_or_the_command_line_loads_no_heavy_module(statement: str) -> None:
    assert loaded_after(statement, HEAVY) == []


def test_registering_every_command_for_help_loads_no_heavy_module() -> None:
    statement = "from sysjobs.cli import app\nimport typer.main\ntyper.main.get_command(app)"
    assert loaded_after(statement, HEAVY) == []


def test_the_script_child_loads_no_database_until_the_script_asks() -> None:
    statement = (
        "from sysjobs.script_child import script_sandbox\n"
        "sandbox = script_sandbox('sqlite:////nonexistent/never.db')\n"
        "assert sandbox.run(\"log('hi')\").ok"
    )
    assert loaded_after(statement, DATABASE) == []


def test_the_public_names_still_load_on_use() -> None:
    statement = "import sysjobs\nsysjobs.Host, sysjobs.Sandbox, sysjobs.JobType, sysjobs.Limits"
    assert loaded_after(statement, ("sysjobs.host", "sqlalchemy", "py_mini_racer")) == [
        "sysjobs.host", "sqlalchemy", "py_mini_racer",
    ]  # fmt: skip
