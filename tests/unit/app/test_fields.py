"""Field values by type: what scripts, CSV cells and query maps may say, and what is stored."""

from __future__ import annotations

from typing import Any

import pytest

from sysjobs.app.fields import coerce
from sysjobs.app.manifest import FieldDef, FieldType
from sysjobs.app.records import Record
from sysjobs.errors import BadRequest
from sysjobs.jobs.values import shown

CHOICE = FieldDef(type=FieldType.CHOICE, choices=("a", "b"))


@pytest.mark.parametrize(("ftype", "raw", "stored"), [
    (FieldType.TEXT, "x", "x"),
    (FieldType.TEXT, 12, "12"),
    (FieldType.NUMBER, "12", 12),
    (FieldType.NUMBER, 1.5, 1.5),
    (FieldType.NUMBER, "1e3", 1000),
    (FieldType.BOOLEAN, "TRUE", True),
    (FieldType.BOOLEAN, "0", False),
    (FieldType.BOOLEAN, False, False),
    (FieldType.DATE, "2024-02-29", "2024-02-29"),
    (FieldType.DATE, "2024-02-29T10:00:00Z", "2024-02-29"),
    (FieldType.DATE, 0, "1970-01-01"),
    (FieldType.RELATIONSHIP, "0123456789abcdef01234567", "0123456789abcdef01234567"),
    (FieldType.FILE, {"id": "0123456789abcdef01234567"}, "0123456789abcdef01234567"),
    (FieldType.TEXT, "", None),
    (FieldType.NUMBER, None, None),
])
def test_values_are_stored_by_type(ftype: FieldType, raw: Any, stored: Any) -> None:
    fdef = FieldDef(type=ftype, entity="x" if ftype is FieldType.RELATIONSHIP else None)
    assert coerce("e", "f", fdef, raw) == stored


@pytest.mark.parametrize(("ftype", "raw", "why"), [
    (FieldType.TEXT, {"a": 1}, "expected a text"),
    (FieldType.TEXT, True, "expected a text"),
    (FieldType.NUMBER, "ten", "expected a number"),
    (FieldType.NUMBER, True, "expected a number"),
    (FieldType.NUMBER, "nan", "finite"),
    (FieldType.BOOLEAN, "maybe", "true or false"),
    (FieldType.DATE, "2024-02-30", "YYYY-MM-DD"),
    (FieldType.DATE, [2024], "YYYY-MM-DD"),
    (FieldType.RELATIONSHIP, "Acme", "24 hexadecimal"),
    (FieldType.FILE, "ABCDEF0123456789abcdef01", "24 hexadecimal"),
])
def test_bad_values_name_field_entity_and_what_is_expected(
    ftype: FieldType, raw: Any, why: str
) -> None:
    fdef = FieldDef(type=ftype, entity="x" if ftype is FieldType.RELATIONSHIP else None)
    with pytest.raises(BadRequest) as info:
        coerce("companies", "size", fdef, raw)
    assert "field 'size' of entity 'companies'" in info.value.message
    assert shown(raw) in info.value.message and why in info.value.message  # JSON, not repr


def test_choice_lists_the_allowed_values() -> None:
    assert coerce("e", "t", CHOICE, "a") == "a"
    with pytest.raises(BadRequest, match="allowed values: a, b"):
        coerce("e", "t", CHOICE, "c")


def test_record_json_nests_field_paths() -> None:
    record = Record("companies", {"name": "Acme", "address.city": "X", "address.zip": "1"},
                    "0" * 24, "Acme", 3)
    assert record.to_json() == {"id": "0" * 24, "label": "Acme", "entityName": "companies",
                                "name": "Acme", "address": {"city": "X", "zip": "1"}}
    assert not record.is_new and Record("companies").is_new
