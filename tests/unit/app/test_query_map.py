"""The query-map language: every form parses, every bad input is a BadRequest naming it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sysjobs.app.definition import load_demo_app
from sysjobs.app.query import parse_query, split_values
from sysjobs.errors import BadRequest
from sysjobs.store.record_query import Cast, Cond, Group, Op

COMPANIES = load_demo_app().entity("companies")


def parse(query: Any) -> Any:
    return parse_query("companies", COMPANIES, query)


def only(query: dict[str, Any]) -> Cond:
    [cond] = parse(query).where.items
    assert isinstance(cond, Cond)
    return cond


def test_equals_and_comma_means_or() -> None:
    assert only({"type": "a"}) == Cond("type", Op.EQ, ("a",))
    assert only({"type": "a,b"}) == Cond("type", Op.EQ, ("a", "b"))
    assert only({"type": ["a", "c"]}) == Cond("type", Op.EQ, ("a", "c"))


def test_quoted_commas_and_escaped_quotes() -> None:
    assert only({"name": '"Acme, Inc",Globex'}).values == ("Acme, Inc", "Globex")
    assert split_values(r'"say \"hi\"", x', "name") == ['say "hi"', "x"]


@pytest.mark.parametrize(("text", "op", "values"), [
    ("like(acm)", Op.LIKE, ("acm",)),
    ("between(10,100)", Op.BETWEEN, (10, 100)),
    ("greater(5)", Op.GT, (5,)),
    ("greaterOrEquals(5)", Op.GTE, (5,)),
    ("less(5)", Op.LT, (5,)),
    ("lessOrEquals(5.5)", Op.LTE, (5.5,)),
    ("empty()", Op.EMPTY, ()),
    ("notEmpty()", Op.NOT_EMPTY, ()),
])
def test_operators(text: str, op: Op, values: tuple[Any, ...]) -> None:
    field = "name" if op is Op.LIKE else "employees"
    cond = only({field: text})
    assert (cond.op, cond.values) == (op, values)
    assert cond.cast is (Cast.TEXT if field == "name" else Cast.NUMBER)


def test_nested_paths_dates_and_booleans() -> None:
    assert parse({"address": {"city": "Austin"}}).where.items == (
        Group("and", (Cond("address.city", Op.EQ, ("Austin",)),)),)
    assert only({"address.city": "Austin"}).field == "address.city"
    assert only({"founded": "between(1990-01-01,1999-12-31)"}).values == (
        "1990-01-01", "1999-12-31")
    assert only({"active": "true"}) == Cond("active", Op.EQ, (True,), Cast.BOOLEAN)


def test_or_and_groups_and_options() -> None:
    q = parse({"_or": [{"type": "a"}, {"_and": {"type": "b", "state": "active"}}],
               "_size": "10", "_offset": 5, "_sortField": "employees", "_sortType": "DESC"})
    [group] = q.where.items
    assert isinstance(group, Group) and group.kind == "or" and len(group.items) == 2
    assert (q.size, q.offset, q.sort_field, q.sort_cast, q.sort_desc) == (
        10, 5, "employees", Cast.NUMBER, True)


@pytest.mark.parametrize(("query", "names"), [
    ({"colour": "red"}, ["Invalid field 'colour'", "Allowed fields: id, name"]),
    ({"type": "z"}, ["'z'", "field 'type'", "allowed values: a, b, c"]),
    ({"employees": "many"}, ["'many'", "field 'employees'", "number"]),
    ({"employees": "bogus(1)"}, ["Invalid operator 'bogus'", "field 'employees'"]),
    ({"active": "like(x)"}, ["Invalid operator 'like'", "boolean"]),
    ({"type": "greater(a)"}, ["Invalid operator 'greater'", "choice"]),
    ({"employees": "between(5,1)"}, ["between(5, 1)", "lower bound"]),
    ({"employees": "between(5)"}, ["'between' takes 2"]),
    ({"employees": "greater(1,2)"}, ["'greater' takes 1"]),
    ({"name": "empty(x)"}, ["'empty' takes 0"]),
    ({"founded": "2020-13-45"}, ["'2020-13-45'", "field 'founded'", "date"]),
    ({"name": '"open'}, ["unterminated quote", "field 'name'"]),
    ({"name": '"a"b'}, ["after a closing quote"]),
    ({"id": "xyz"}, ["'xyz'", "field 'id'"]),
    ({"_size": -1}, ["'_size'", "-1"]),
    ({"_size": "ten"}, ["'_size'", "ten"]),
    ({"_offset": 1.5}, ["'_offset'"]),
    ({"_sortType": "up"}, ["'_sortType'", "asc, desc"]),
    ({"_sortField": "colour"}, ["'_sortField'", "colour"]),
    ({"_limit": 1}, ["Invalid parameter '_limit'"]),
    ({"_or": "type"}, ["'_or'", "object"]),
    ({"_and": [1]}, ["'_and'"]),
    ("type=a", ["Invalid query", "object"]),
])
def test_bad_input_is_a_bad_request_naming_it(query: Any, names: list[str]) -> None:
    with pytest.raises(BadRequest) as info:
        parse(query)
    for name in names:
        assert name in info.value.message


def test_bad_entity_names_the_entity_and_lists_the_known_ones() -> None:
    expected = ("Invalid value 'nope' for parameter 'entityName'. "
                "Allowed values: companies, contacts, files")
    with pytest.raises(BadRequest, match=re.escape(expected)):
        load_demo_app().entity("nope")
