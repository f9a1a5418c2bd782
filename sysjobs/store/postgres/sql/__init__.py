"""PostgreSQL's server-side SQL, kept as ``.sql`` files (shipped in the wheel).

``schema.sql`` is the current schema — tables, indexes, constraints and the lease functions —
as the revisions applied in order leave it (``tests/integration/store/test_pg_schema.py``
holds them equal). ``NNNN_*.sql`` is the frozen text revision ``NNNN`` applied: a revision
loads its own file and never changes it, so a database migrated long ago and a new one end
up alike. A change to a function is a new revision with a new file and a new versioned name
(``sysjobs_end_and_claim_v3`` → ``…_v4``).

Each file is plain SQL that ``psql -f`` runs as it is; :func:`statements` splits it into
statements for Alembic's ``op.execute`` (one statement a call) — at a ``;`` that ends a line
outside a dollar-quoted body.
"""

from __future__ import annotations

import re
from pathlib import Path

#: The folder of the ``.sql`` files.
FOLDER = Path(__file__).parent

_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")


def text(name: str) -> str:
    """The file ``name`` of this folder, as it is."""
    return (FOLDER / name).read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of the file ``name``, in order, without their ``;`` and without the
    comment lines before each."""
    return split(text(name))


def split(sql: str) -> list[str]:
    """``sql``'s statements (see the module docstring)."""
    found: list[str] = []
    current: list[str] = []
    tag: str | None = None
    for line in sql.splitlines():
        if tag is None and not current and (not line.strip() or line.lstrip().startswith("--")):
            continue  # a comment or blank line between statements
        current.append(line)
        for match in _DOLLAR_TAG.finditer(line):
            if tag is None:
                tag = match.group()
            elif tag == match.group():
                tag = None
        if tag is None and line.rstrip().endswith(";"):
            found.append("\n".join(current).rstrip().removesuffix(";"))
            current = []
    if "\n".join(current).strip():
        raise ValueError(f"SQL ends inside a statement: {current[0][:60]!r}")
    return found
