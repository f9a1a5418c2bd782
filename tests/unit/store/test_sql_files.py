"""PostgreSQL's SQL lives in ``sysjobs/store/postgres/sql`` and the revisions load it.

The splitter that hands a file to Alembic one statement at a time must cut only where a
statement ends — never inside a dollar-quoted function body, whatever that body holds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sysjobs
from sysjobs.store.postgres.sql import FOLDER, split, statements

REVISIONS = Path(sysjobs.__file__).parent / "store" / "migrations" / "versions"


def test_no_revision_inlines_a_function_it_loads_its_frozen_file() -> None:
    inlined = [p.name for p in sorted(REVISIONS.glob("*.py"))
               if re.search(r"CREATE\s+(OR\s+REPLACE\s+)?FUNCTION", p.read_text())]  # fmt: skip
    assert inlined == []


def test_each_revision_that_names_a_sql_file_has_it() -> None:
    named = {m for p in REVISIONS.glob("*.py") for m in re.findall(r'"(\d{4}_\w+(?:\.down)?\.sql)"',
                                                                   p.read_text())}  # fmt: skip
    assert named >= {"0006_lease.sql", "0007_lease.sql", "0008_lease.sql", "0009_lease_v3.sql"}
    assert sorted(n for n in named if not (FOLDER / n).is_file()) == []


def test_the_current_schema_defines_the_function_the_backend_calls() -> None:
    from sysjobs.store.postgres.leases import FUNCTION

    creates = [s for s in statements("schema.sql") if s.startswith("CREATE FUNCTION")]
    assert any(f"CREATE FUNCTION {FUNCTION}(" in s for s in creates)
    assert any(f"FUNCTION {FUNCTION}(" in s for s in statements("0020_lease_v8.sql"))


def test_split_cuts_at_statement_ends_only_outside_dollar_quotes() -> None:
    sql = """-- a comment; with a semicolon;

CREATE TABLE t (a int);
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$
BEGIN
  -- inside; the body
  PERFORM 1;
  RETURN (SELECT length($q$ not the end;
$q$) + $1);
END
$fn$;

-- between
SELECT 'x;'
  ;
"""
    assert split(sql) == [
        "CREATE TABLE t (a int)",
        sql[sql.index("CREATE FUNCTION"): sql.index("$fn$;") + 4],
        "SELECT 'x;'\n  ",
    ]


def test_split_refuses_a_file_that_ends_inside_a_statement() -> None:
    with pytest.raises(ValueError, match="ends inside a statement"):
        split("CREATE FUNCTION f() AS $fn$ BEGIN; END;\n")


def test_split_of_nothing_but_comments_is_no_statement() -> None:
    assert split("-- only;\n\n--talk;\n") == []
