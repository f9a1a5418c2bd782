"""The query-map language on hostile input: 100k-character values, operators that a
backtracking regex would chew on, huge lists and nesting, values no database can take.
Each finishes with its answer (a parsed condition or a ``BadRequest`` naming the field)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sysjobs.app.definition import load_demo_app
from sysjobs.app.query import MAX_DEPTH, MAX_VALUES, parse_query
from sysjobs.errors import BadRequest
from sysjobs.jobs.values import INT64_MAX, MAX_DATE_MS, MAX_PATTERN_CHARS, MIN_DATE_MS
from sysjobs.store.record_query import Cond, Op

COMPANIES = load_demo_app().entity("companies")
BIG = 100_000


def parse(query: Any) -> Any:
    return parse_query("companies", COMPANIES, query)


def only(query: dict[str, Any]) -> Cond:
    [cond] = parse(query).where.items
    assert isinstance(cond, Cond)
    return cond


def refused(query: Any) -> str:
    with pytest.raises(BadRequest) as raised:
        parse(query)
    return raised.value.message


@pytest.mark.parametrize("text", [
    "like(" + ")" * BIG,
    "like(" + ") " * (BIG // 2),
    " " * BIG + "like(x)" + " " * BIG,
    "a" * BIG + "(x)",
    "(" * BIG + ")",
    "like(" + "(" * BIG,
    "x" * BIG + ")",
])  # fmt: skip
def test_operator_detection_on_100k_characters_finishes_with_an_answer(text: str) -> None:
    try:
        cond = only({"name": text})
    except BadRequest as exc:
        assert "'name'" in exc.message
    else:
        assert cond.field == "name"


def test_an_operator_call_is_letters_then_the_text_up_to_the_last_parenthesis() -> None:
    assert only({"name": "  like(a(b)c)  "}).values == ("a(b)c",)
    assert only({"name": "(x)"}).op is Op.EQ
    assert only({"name": "like x)"}).op is Op.EQ
    assert only({"name": "likë(x)"}).values == ("likë(x)",)


def test_a_like_pattern_longer_than_the_cap_is_refused_naming_the_field() -> None:
    assert only({"name": "like(" + "x" * MAX_PATTERN_CHARS + ")"}).op is Op.LIKE
    message = refused({"name": "like(" + "x" * 60_000 + ")"})
    assert "parameter 'name'" in message and f"at most {MAX_PATTERN_CHARS}" in message


def test_like_wildcards_in_a_pattern_stay_literal_text() -> None:
    assert only({"name": "like(%_%_%)"}).values == ("%_%_%",)


def test_too_many_alternatives_are_refused_before_the_database_sees_them() -> None:
    assert len(only({"name": ",".join(["a"] * MAX_VALUES)}).values) == MAX_VALUES
    assert f"at most {MAX_VALUES}" in refused({"name": "a," * BIG})
    assert f"at most {MAX_VALUES}" in refused({"name": ["a"] * (MAX_VALUES + 1)})


def test_groups_nested_deeper_than_the_cap_are_refused() -> None:
    query: dict[str, Any] = {"name": "x"}
    for _ in range(MAX_DEPTH + 2):
        query = {"_or": [query]}
    assert f"deeper than {MAX_DEPTH}" in refused(query)


@pytest.mark.parametrize(("query", "named"), [
    ({"name": "a\ud800"}, "parameter 'name'"),
    ({"name": ["ok", "\udc00"]}, "parameter 'name'"),
    ({"name": "like(\ud800)"}, "parameter 'name'"),
    ({"na\ud800me": "x"}, "parameter 'query'"),
    ({"employees": math.nan}, "parameter 'employees'"),
    ({"employees": [math.inf]}, "parameter 'employees'"),
    ({"employees": 2**63}, "parameter 'employees'"),
    ({"founded": 1e20}, "parameter 'founded'"),
    ({"founded": -1e300}, "parameter 'founded'"),
])  # fmt: skip
def test_values_no_database_can_take_are_refused_naming_them(query: Any, named: str) -> None:
    assert named in refused(query)


def test_date_numbers_within_pythons_date_range_still_parse() -> None:
    assert only({"founded": MAX_DATE_MS}).values == ("9999-12-31",)
    assert only({"founded": MIN_DATE_MS}).values == ("0001-01-01",)
    assert "parameter 'founded'" in refused({"founded": MAX_DATE_MS + 1})


@pytest.mark.parametrize(("query", "named"), [
    ({"_size": 2**63}, "'_size'"), ({"_size": 1e300}, "'_size'"), ({"_offset": "9" * 5000}, "'_offset'"),
    ({"_sortField": {"a": 1}}, "'_sortField'"), ({"_sortType": ["asc"]}, "'_sortType'"),
])  # fmt: skip
def test_options_are_checked_without_python_spelling(query: Any, named: str) -> None:
    message = refused(query)
    assert named in message and "{'" not in message and "['" not in message


def test_options_at_the_edge_of_64_bits_are_kept() -> None:
    parsed = parse({"_size": INT64_MAX, "_offset": "0"})
    assert (parsed.size, parsed.offset) == (INT64_MAX, 0)


@pytest.mark.parametrize("text", [
    '"' * BIG, '"' + '\\"' * (BIG // 2), '"a",' * (BIG // 4), ('"' + "x" * 10 + '" ') * (BIG // 13),
    "\\" * BIG,
])  # fmt: skip
def test_quoted_values_of_100k_characters_split_in_one_pass(text: str) -> None:
    try:
        values = only({"name": text}).values
    except BadRequest as exc:
        assert "'name'" in exc.message
    else:
        assert all(isinstance(v, str) for v in values)
