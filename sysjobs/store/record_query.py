"""The parsed form of a records query, as the store executes it.

``sysjobs.app.query`` turns a script's query map into these plain values (checking every
entity, field, operator and value); ``sysjobs.store.records`` turns them into SQL. Keeping
them here lets the store stay ignorant of the app while the app stays free of SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Op(StrEnum):
    EQ = "equals"  #: any of ``values`` (comma = OR)
    LIKE = "like"  #: case-insensitive substring
    BETWEEN = "between"  #: inclusive, two values
    GT = "greater"
    GTE = "greaterOrEquals"
    LT = "less"
    LTE = "lessOrEquals"
    EMPTY = "empty"  #: missing, null or ''
    NOT_EMPTY = "notEmpty"


class Cast(StrEnum):
    """How a stored JSON value is compared."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Cond:
    """One condition on one field (``id`` is the record id, any other name a data key)."""

    field: str
    op: Op
    values: tuple[Any, ...] = ()
    cast: Cast = Cast.TEXT


@dataclass(frozen=True)
class Group:
    """All (``and``) or any (``or``) of its items."""

    kind: str  # "and" | "or"
    items: tuple[Cond | Group, ...] = ()


@dataclass(frozen=True)
class RecordQuery:
    entity: str
    where: Group = field(default_factory=lambda: Group("and"))
    size: int | None = None
    offset: int = 0
    sort_field: str = "id"
    sort_cast: Cast = Cast.TEXT
    sort_desc: bool = False
