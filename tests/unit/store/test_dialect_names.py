"""Nothing outside a backend asks which database it is: every difference between SQLite and
PostgreSQL is a method of the dialect object (``store/dialect.py``) or a verb of the engine's
contract (``store/backend.py``), implemented in the backends' own folders,
``store/sqlite/`` and ``store/postgres/``. Only the factory (``store/database.py``) imports
a backend's module; everything else reaches a backend through the contract.

Revision files are left out: they are frozen history, and run on Alembic's own connection,
below the seam.
"""

from __future__ import annotations

import re
from pathlib import Path

import sysjobs

ROOT = Path(sysjobs.__file__).parent
BACKEND_FOLDERS = (ROOT / "store" / "sqlite", ROOT / "store" / "postgres")
BACKENDS = {ROOT / "store" / "dialect.py"} | {
    path for folder in BACKEND_FOLDERS for path in folder.rglob("*.py")
}
#: The modules outside the backends that name them: each picks one for a URL — the engine's
#: (SQLAlchemy), and the read path's (the CLI's read commands without SQLAlchemy,
#: ``docs/cli-read-path.md``).
FACTORIES = {ROOT / "store" / "database.py", ROOT / "store" / "read_path.py"}
REVISIONS = ROOT / "store" / "migrations" / "versions"

_NAME = r"""["'](?:sqlite|postgresql|postgres)["']"""
#: A check of a database's name: ``x.dialect.name == …``, ``db.name != …``, ``… in
#: ("sqlite", …)``, ``url.get_backend_name()``, or a comparison with a name literal.
CHECK = re.compile(
    r"(?:dialect|\bdb|database)\.name\s*(?:==|!=|\bin\b|\bnot\s+in\b)"
    r"|get_backend_name\s*\("
    rf"|(?:==|!=)\s*{_NAME}|{_NAME}\s*(?:==|!=)"
    rf"|\bin\s*[(\[{{]\s*{_NAME}"
)


def _checks_outside_backends() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path in BACKENDS or REVISIONS in path.parents:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if CHECK.search(line):
                found.append(f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}")
    return found


def test_no_module_outside_the_backends_checks_a_dialects_name() -> None:
    assert _checks_outside_backends() == []


#: An import of a backend's module: ``sysjobs.store.sqlite…`` / ``sysjobs.store.postgres…``.
BACKEND_IMPORT = re.compile(
    r"^\s*(?:from|import)\s+sysjobs\.store(?:\.(?:sqlite|postgres)\b|\s+import\s+(?:sqlite|postgres)\b)"
)


def _backend_imports_outside_the_factory() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path in BACKENDS or path in FACTORIES or REVISIONS in path.parents:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if BACKEND_IMPORT.search(line):
                found.append(f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}")
    return found


def test_only_the_factory_imports_a_backends_modules() -> None:
    assert _backend_imports_outside_the_factory() == []


def test_each_backend_lives_in_its_own_folder() -> None:
    """The layout this test guards: no dialect module is left beside the shared ones."""
    store = ROOT / "store"
    assert [p.name for p in BACKEND_FOLDERS if not (p / "dialect.py").is_file()] == []
    assert [p.name for p in BACKEND_FOLDERS if not (p / "leases.py").is_file()] == []
    left = {"sqlite.py", "postgres.py", "postgres_leases.py"} & {p.name for p in store.iterdir()}
    assert left == set()


def test_the_import_check_finds_each_way_of_importing_a_backend() -> None:
    imports = [
        "from sysjobs.store.sqlite.dialect import BUSY_TIMEOUT_S",
        "from sysjobs.store.postgres.leases import PostgresBackend",
        "    from sysjobs.store import sqlite",
        "import sysjobs.store.postgres.dialect",
    ]
    plain = [
        "from sysjobs.store.schema import jobs",
        "from sysjobs.store.sqlcore import x",
        "from sysjobs.store.postgresish import y",
    ]
    assert [i for i in imports if not BACKEND_IMPORT.search(i)] == []
    assert [p for p in plain if BACKEND_IMPORT.search(p)] == []


def test_the_check_finds_each_way_of_asking_for_the_name() -> None:
    """The pattern itself: each form a check took before it moved behind the seam."""
    checks = [
        'self._on_server = db.name == "postgresql"',
        "hidden = database == 'sqlite'",
        'if conn.dialect.name == "sqlite" else None',
        'threading.RLock() if self.dialect.name == "sqlite" else nullcontext()',
        'if connection.dialect.name == "postgresql":',
        'if parsed.get_backend_name() not in ("sqlite", "postgresql"):',
        'if name in ("sqlite", "postgresql"):',
    ]
    plain = [
        'BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")',
        '.prefix_with("MATERIALIZED", dialect="postgresql")',
        "return self.dialect.name",
        "jobs.c.name == key",
    ]
    assert [c for c in checks if not CHECK.search(c)] == []
    assert [p for p in plain if CHECK.search(p)] == []
