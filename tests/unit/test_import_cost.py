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
from pathlib import Path

import pytest
from pydantic import BaseModel

from sysjobs.jobs import Engine, JobType

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
#: What the read commands (``jobs ls``, ``jobs show``) may not load on a current SQLite
#: database: they read rows through the engine and print them (the detail in the shape of
#: ``sysjobs.web.views``, which holds no web server), nothing more — not even SQLAlchemy's
#: PostgreSQL dialect, which a ``postgresql_*`` keyword on an index used to load.
NOT_READ = (
    "alembic", "psycopg", "sqlalchemy.orm", "sqlalchemy.dialects.postgresql", "py_mini_racer", "starlette", "uvicorn", "fastapi",
    "yaml", "croniter", "sysjobs.host", "sysjobs.app", "sysjobs.web.app", "sysjobs.worker",
    "sysjobs.bindings", "sysjobs.runtime.sandbox", "sysjobs.runtime.bridge",
    "sysjobs.runtime.process", "sysjobs.script_child",
)  # fmt: skip


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


@pytest.mark.parametrize("argv", [["run", "x.js"], ["jobs", "ls"], ["jobs", "show", "ID"]])
def test_building_the_one_command_a_line_runs_loads_no_heavy_module(argv: list[str]) -> None:
    statement = ("from sysjobs.cli.app import app, for_argv\nimport sysjobs.cli, typer.main\n"
                 f"typer.main.get_command(for_argv(app, {argv!r}))")  # fmt: skip
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


def test_opening_a_current_database_loads_no_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'current.db'}"
    Engine.open(url).close()  # created and migrated here: Alembic is needed once
    statement = f"from sysjobs.jobs import Engine\nEngine.open({url!r}).close()"
    assert loaded_after(statement, ("alembic",)) == []


def test_the_shipped_heads_read_from_the_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    from sysjobs.store import migrate

    alembic_heads = set(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())
    assert migrate.head_revisions() == alembic_heads


def test_a_fresh_database_is_at_no_revision_and_a_migrated_one_at_the_heads(
    tmp_path: Path,
) -> None:
    import sqlalchemy as sa

    from sysjobs.store import migrate

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert (migrate.current_revisions(engine), migrate.is_current(engine)) == (set(), False)
        migrate.upgrade(engine)
        assert migrate.current_revisions(engine) == migrate.head_revisions()
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


class Empty(BaseModel):
    """The input of a job that takes none."""


def read_command(args: list[str]) -> str:
    """``sysjobs ARGS`` run by the CLI's entry point in the checking interpreter (its
    output kept apart from the check's)."""
    return (
        f"import contextlib, io\nsys.argv = ['sysjobs', *{args!r}]\n"
        "from sysjobs.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n        main(fast_exit=False)\n    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "assert 'NOOP' in out.getvalue(), out.getvalue()"
    )


def test_listing_and_showing_jobs_load_no_migration_sandbox_web_or_scheduler_code(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'read.db'}"
    with Engine.open(url) as engine:  # created and migrated here, as a worker would
        engine.register(JobType("NOOP", Empty, lambda ctx, data: None))
        job_id = engine.enqueue("NOOP", {}).id
    for args in (["jobs", "ls", "--db", url], ["jobs", "show", job_id, "--db", url]):
        assert loaded_after(read_command(args), NOT_READ) == [], args


#: What the read commands may not load on a current SQLite database, beyond ``NOT_READ``:
#: they read through ``sqlite3`` with the store's statements compiled to text
#: (``sysjobs.store.sqlite.reader``) and no typer parse (``sysjobs.cli.read_argv``).
NOT_READ_ON_SQLITE = (
    "sqlalchemy", "sysjobs.jobs.engine", "sysjobs.jobs.parts", "sysjobs.store.database",
    "sysjobs.store.listing", "sysjobs.store.backend", "sysjobs.store.sqlite.dialect",
    "sysjobs.store.migrate", "typer._adapters",
)  # fmt: skip


def test_listing_and_showing_jobs_on_sqlite_load_no_sqlalchemy_nor_the_engine(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'read.db'}"
    with Engine.open(url) as engine:
        engine.register(JobType("NOOP", Empty, lambda ctx, data: None))
        parent = engine.enqueue("NOOP", {}).id
        job_id = engine.enqueue("NOOP", {}, parent_id=parent).id
    for args in (["jobs", "ls", "--db", url], ["jobs", "ls", "--json", "--db", url],
                 ["jobs", "show", job_id, "--db", url], ["jobs", "show", parent, "--json", "--db", url],
                 ["jobs", "ls", "--status", "PENDING", "--create-from", "0", "--db", url]):  # fmt: skip
        assert loaded_after(read_command(args), NOT_READ + NOT_READ_ON_SQLITE) == [], args


def test_a_revision_file_is_read_from_its_graph_lines_or_whole_when_they_span_lines(
    tmp_path: Path,
) -> None:
    from sysjobs.store import migrate

    one_line = tmp_path / "one.py"
    one_line.write_text('"""Docstring.\nrevision = "not this"\n"""\n'
                        'revision: str = "0002"\ndown_revision: str | None = "0001"\n'
                        'x = "revision = 1"\n')  # fmt: skip
    spanning = tmp_path / "merge.py"
    spanning.write_text('revision = "0009"\ndown_revision = (\n    "0007",\n    "0008",\n)\n')
    broken = tmp_path / "broken.py"
    broken.write_text('revision = "0003"\ndown_revision = "0002" + \n')
    assert migrate._literals(one_line) == {"revision": "0002", "down_revision": "0001"}
    assert migrate._literals(spanning) == {"revision": "0009", "down_revision": ("0007", "0008")}
    with pytest.raises(SyntaxError):
        migrate._literals(broken)
