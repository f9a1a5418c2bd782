"""The query-map language of ``sys.data`` (``{type: 'a,b', employees: 'greater(10)'}``).

Parsing checks everything a script can get wrong — entity, field, operator, value,
option — and raises ``BadRequest`` naming it, so the store only ever sees a valid
:class:`~sysjobs.store.record_query.RecordQuery`.

Values: ``'a'`` equals; ``'a,b'`` any of (comma = OR); ``'"Acme, Inc",b'`` quotes protect
commas (``\\"`` is a quote); ``like(x)``, ``between(a,b)``, ``greater(x)``,
``greaterOrEquals(x)``, ``less(x)``, ``lessOrEquals(x)``, ``empty()``, ``notEmpty()``.
Keys: field paths (``'address.city'`` or nested objects), ``id``, ``_or``/``_and`` (an
object or an array of objects), ``_size``, ``_offset``, ``_sortField``, ``_sortType``.

Bounded by its input: the operator is found by one scan (no backtracking regex), a value
splits in one pass, ``like(x)`` patterns are capped at ``MAX_PATTERN_CHARS`` characters,
a value lists at most :data:`MAX_VALUES` alternatives, ``_or``/``_and`` nest at most
:data:`MAX_DEPTH` deep. Values obey :mod:`sysjobs.jobs.values`: lone UTF-16 surrogates are
refused (no database stores them, so they could never match), numbers must be finite and
date numbers within years 1 to 9999; ``_size``/``_offset`` are whole numbers
from 0 to 2^63-1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sysjobs.app.fields import CASTS, coerce, is_id
from sysjobs.app.manifest import EntityDef, FieldDef, FieldType
from sysjobs.errors import BadRequest
from sysjobs.jobs.values import (
    INT64_MAX,
    MAX_DATE_MS,
    MIN_DATE_MS,
    bad,
    check_int,
    check_pattern,
    check_text,
    shown,
)
from sysjobs.store.record_query import Cast, Cond, Group, Op, RecordQuery

#: Alternatives one value may list (``'a,b,c'``): each is a bound SQL parameter.
MAX_VALUES = 1000
#: How deep ``_or``/``_and`` groups and nested field objects may go.
MAX_DEPTH = 16
_OPERATORS = {op.value: op for op in Op if op is not Op.EQ}
_BASE_OPS = frozenset({Op.EQ, Op.EMPTY, Op.NOT_EMPTY})
_RANGE_OPS = frozenset({Op.BETWEEN, Op.GT, Op.GTE, Op.LT, Op.LTE})
_ALLOWED_OPS: dict[FieldType, frozenset[Op]] = {
    FieldType.TEXT: _BASE_OPS | _RANGE_OPS | {Op.LIKE},
    FieldType.NUMBER: _BASE_OPS | _RANGE_OPS,
    FieldType.DATE: _BASE_OPS | _RANGE_OPS,
}
_OPTIONS = ("_or", "_and", "_size", "_offset", "_sortField", "_sortType")


def parse_query(entity_name: str, entity: EntityDef, query: Any) -> RecordQuery:
    """Validate ``query`` against ``entity`` and return its parsed form."""
    if query is None:
        query = {}
    if not isinstance(query, Mapping):
        raise BadRequest(f"Invalid query {shown(query)}: it must be an object of field → value.")
    parser = _Parser(entity_name, entity)
    sort_field = query.get("_sortField", "id")
    if not isinstance(sort_field, str):
        raise bad("_sortField", sort_field, f"a field name of entity '{entity_name}'")
    return RecordQuery(
        entity=entity_name,
        where=parser.group("and", query),
        size=_count_option(query, "_size"),
        offset=_count_option(query, "_offset") or 0,
        sort_field=sort_field,
        sort_cast=parser.sort_cast(sort_field),
        sort_desc=_sort_desc(query.get("_sortType", "asc")),
    )


def _count_option(query: Mapping[str, Any], key: str) -> int | None:
    value = query.get(key)
    if value is None:
        return None
    return check_int(value, key, 0, INT64_MAX, f"a whole number from 0 to {INT64_MAX}")


def _sort_desc(value: Any) -> bool:
    text = value.lower() if isinstance(value, str) else None
    if text not in ("asc", "desc"):
        raise bad("_sortType", value, "asc, desc")
    return text == "desc"


class _Parser:
    def __init__(self, entity_name: str, entity: EntityDef) -> None:
        self.entity_name = entity_name
        self.entity = entity

    def group(
        self, kind: str, query: Mapping[str, Any], prefix: str = "", depth: int = 0
    ) -> Group:
        if depth > MAX_DEPTH:
            raise BadRequest(
                f"Invalid query: groups and nested fields go deeper than {MAX_DEPTH} levels"
            )
        items: list[Cond | Group] = []
        for key, value in query.items():
            key = check_text(key, "query")
            if key in ("_or", "_and"):
                items.append(self._subgroup(key[1:], value, depth + 1))
            elif key.startswith("_"):
                if key not in _OPTIONS or prefix:
                    raise BadRequest(
                        f"Invalid parameter '{key}' in query. Allowed: fields of entity "
                        f"'{self.entity_name}', {', '.join(_OPTIONS)}"
                    )
            elif isinstance(value, Mapping):
                items.append(self.group("and", value, f"{prefix}{key}.", depth + 1))
            else:
                items.append(self.condition(prefix + key, value))
        return Group(kind, tuple(items))

    def _subgroup(self, kind: str, value: Any, depth: int) -> Group:
        parts = value if isinstance(value, list | tuple) else [value]
        if not parts or not all(isinstance(p, Mapping) for p in parts):
            raise bad(f"_{kind}", value, "an object or an array of objects")
        return Group(kind, tuple(self.group("and", p, "", depth) for p in parts))

    def field(self, name: str) -> FieldDef:
        fdef = self.entity.fields.get(name)
        if fdef is None:
            allowed = ", ".join(["id", *self.entity.fields])
            raise BadRequest(
                f"Invalid field '{name}' for entity '{self.entity_name}'. Allowed fields: {allowed}"
            )
        return fdef

    def sort_cast(self, name: str) -> Cast:
        if name == "id":
            return Cast.TEXT
        try:
            return CASTS.get(self.field(name).type, Cast.TEXT)
        except BadRequest as exc:
            raise BadRequest(
                f"Invalid value '{name}' for parameter '_sortField': {exc.message}"
            ) from exc

    def condition(self, name: str, value: Any) -> Cond:
        if name == "id":
            return self._id_condition(value)
        fdef = self.field(name)
        op, raw = _split_operator(name, value)
        allowed = _ALLOWED_OPS.get(fdef.type, _BASE_OPS)
        if op not in allowed:
            names = ", ".join(sorted(o.value for o in allowed if o is not Op.EQ))
            raise BadRequest(
                f"Invalid operator '{op.value}' for field '{name}' of type {fdef.type.value}. "
                f"Allowed operators: {names}"
            )
        for v in raw:
            _check_raw(name, fdef, v)
        if op is Op.LIKE and raw:
            check_pattern(raw[0], name)
        values = tuple(coerce(self.entity_name, name, fdef, v) for v in raw)
        if any(isinstance(v, str) and "\x00" in v for v in values):  # PostgreSQL refuses NUL
            raise BadRequest(f"Invalid value for field '{name}': text may not contain NUL")
        _check_arity(name, op, values)
        return Cond(name, op, values, CASTS.get(fdef.type, Cast.TEXT))

    def _id_condition(self, value: Any) -> Cond:
        op, raw = _split_operator("id", value)
        wrong = [v for v in raw if not is_id(v)]
        if op is not Op.EQ or wrong or not raw:
            raise BadRequest(
                f"Invalid value {shown(value)} for field 'id': expected record ids "
                "(24 hexadecimal characters) separated by commas"
            )
        return Cond("id", Op.EQ, tuple(raw))


def _check_raw(name: str, fdef: FieldDef, value: Any) -> None:
    """Refuse what no coercion should see: lone surrogates, non-finite or out-of-range
    numbers (a date number past a ``Date``'s range would overflow the conversion)."""
    if isinstance(value, str):
        check_text(value, name)
    elif isinstance(value, float) and not math.isfinite(value):
        raise bad(name, value, "finite numbers (not NaN or ±Infinity)")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        is_date = fdef.type is FieldType.DATE
        low, high = (MIN_DATE_MS, MAX_DATE_MS) if is_date else (-INT64_MAX, INT64_MAX)
        if not low <= value <= high:
            raise bad(name, value, f"numbers from {low} to {high}")


def _split_operator(name: str, value: Any) -> tuple[Op, list[Any]]:
    """The operator of a query value and its raw arguments."""
    if isinstance(value, list | tuple):
        return Op.EQ, _at_most(name, list(value))
    if not isinstance(value, str):
        return Op.EQ, [value]
    call = _call(value)
    if call is None:
        return (Op.EMPTY, []) if value == "" else (Op.EQ, split_values(value, name))
    op_name, args = call
    op = _OPERATORS.get(op_name)
    if op is None:
        raise BadRequest(
            f"Invalid operator '{op_name}' for field '{name}'. Allowed operators: "
            f"{', '.join(_OPERATORS)}"
        )
    return op, (split_values(args, name) if args.strip() else [])


def _call(value: str) -> tuple[str, str] | None:
    """``('like', 'x')`` for ``'like(x)'`` (ASCII letters, then the text up to the last
    ``)``), or None when ``value`` is not an operator call. One scan, no backtracking."""
    text = value.strip()
    if not text.endswith(")"):
        return None
    open_at = text.find("(")
    name = text[:open_at]
    if open_at <= 0 or not (name.isascii() and name.isalpha()):
        return None
    return name, text[open_at + 1 : -1]


def _at_most(name: str, values: list[Any]) -> list[Any]:
    if len(values) > MAX_VALUES:
        raise BadRequest(
            f"Invalid value for field '{name}': {len(values)} alternatives; "
            f"at most {MAX_VALUES} are allowed"
        )
    return values


def _check_arity(name: str, op: Op, values: tuple[Any, ...]) -> None:
    expected = {Op.EMPTY: 0, Op.NOT_EMPTY: 0, Op.BETWEEN: 2}.get(op, 1)
    if op is Op.EQ:
        return
    if len(values) != expected or any(v is None for v in values):
        raise BadRequest(
            f"Invalid value for field '{name}': operator '{op.value}' takes {expected} "
            f"argument(s), got {len(values)}"
        )
    if op is Op.BETWEEN and values[0] > values[1]:
        raise BadRequest(
            f"Invalid range for field '{name}': between({values[0]}, {values[1]}) "
            "has its lower bound above its upper bound"
        )


def split_values(text: str, name: str) -> list[str]:
    """Split on commas outside double quotes; ``\\"`` inside quotes is a quote."""
    out: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] == " ":
            i += 1
        if i < n and text[i] == '"':
            token, i = _quoted(text, i + 1, name)
            while i < n and text[i] == " ":
                i += 1
            if i < n and text[i] != ",":
                raise BadRequest(
                    f"Invalid value {shown(text)} for field '{name}': text after a closing quote"
                )
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            token, i = text[i:end].strip(), end
        out.append(token)
        if i >= n:
            return _at_most(name, out)
        i += 1  # skip the comma


def _quoted(text: str, i: int, name: str) -> tuple[str, int]:
    buf: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(buf), i + 1
        else:
            buf.append(ch)
            i += 1
    raise BadRequest(f"Invalid value {shown(text)} for field '{name}': unterminated quote")
