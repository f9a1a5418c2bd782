"""Nothing outside a backend asks which database it is: every difference between SQLite and
PostgreSQL is a method of the dialect object (``store/dialect.py``), implemented in
``store/sqlite.py`` and ``store/postgres.py`` (with ``store/postgres_leases.py``, the
PostgreSQL lease call).

Revision files are left out: they are frozen history, and run on Alembic's own connection,
below the seam.
"""

from __future__ import annotations

import re
from pathlib import Path

import sysjobs

ROOT = Path(sysjobs.__file__).parent
BACKENDS = {
    ROOT / "store" / "dialect.py",
    ROOT / "store" / "sqlite.py",
    ROOT / "store" / "postgres.py",
    ROOT / "store" / "postgres_leases.py",
}
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
