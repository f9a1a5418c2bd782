"""``save``'s quick argument check and ``check_json``'s quick pass: each may only say "fine"
where the full validation says the same, with the same result; everything else goes to the
full validation, which words the refusal (badRequest naming the parameter)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sysjobs.bindings.data import EntityArgs, SaveArgs, quick_entity_args, quick_save_args
from sysjobs.errors import BadRequest
from sysjobs.jobs.values import INT64_MAX, MAX_DEPTH, check_json, surely_json_clean
from sysjobs.runtime.dispatch import validate
from sysjobs.runtime.namespace import Operation

#: JSON values with the hostile ones mixed in: NaN, ±Infinity, integers past 64 bits, lone
#: surrogates in strings and keys, bools where numbers go.
hostile_scalars = (
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats()
    | st.text(max_size=8) | st.sampled_from(["\ud800", "a\udfff", "\ud83d\ude00", "x" * 50])
)  # fmt: skip
hostile_json = st.recursive(
    hostile_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=4) | st.just("\udc00"), children, max_size=3),
    max_leaves=10,
)
wire_keys = st.sampled_from(["id", "entityName", "label", "version", "fields", "fieldNames"])
records = st.dictionaries(wire_keys, hostile_json, max_size=6) | st.fixed_dictionaries(
    {"id": st.none() | st.text(max_size=4), "entityName": st.text(max_size=6),
     "label": st.none() | st.text(max_size=4), "version": st.integers(-2, 2**64),
     "fields": st.dictionaries(st.text(max_size=4), hostile_json, max_size=3),
     "fieldNames": st.lists(st.text(max_size=4) | hostile_json, max_size=3)},
)  # fmt: skip

OP: Operation[SaveArgs] = Operation("save", SaveArgs, lambda ctx, a: None)
PRELUDE_SHAPE = {"record": {"id": None, "entityName": "companies", "label": None, "version": 0,
                            "fields": {"name": "bench 1", "type": "a", "address.city": None},
                            "fieldNames": ["name", "type", "address.city"]}}  # fmt: skip


def _full(args: Any) -> SaveArgs | str:
    try:
        return SaveArgs.model_validate(args)
    except Exception as exc:  # the refusal itself is what is compared
        return type(exc).__name__


def test_the_prelude_shape_is_taken_quickly_and_equals_the_full_validation() -> None:
    quick = quick_save_args(PRELUDE_SHAPE)
    assert quick is not None
    assert quick == SaveArgs.model_validate(PRELUDE_SHAPE)
    assert quick.record.model_dump() == SaveArgs.model_validate(PRELUDE_SHAPE).record.model_dump()


@settings(max_examples=300, deadline=None)
@given(record=records, extra=st.booleans())
def test_whatever_the_quick_check_takes_the_full_validation_takes_the_same(
    record: dict[str, Any], extra: bool
) -> None:
    args: dict[str, Any] = {"record": record, **({"other": 1} if extra else {})}
    quick = quick_save_args(args)
    if quick is not None:
        full = _full(args)
        assert isinstance(full, SaveArgs)
        assert quick.record.model_dump() == full.record.model_dump()


@pytest.mark.parametrize(("record", "why"), [
    ({**PRELUDE_SHAPE["record"], "fields": {"name": "\ud800"}}, "a lone surrogate in a value"),
    ({**PRELUDE_SHAPE["record"], "fields": {"\udfff": "x"}}, "a lone surrogate in a key"),
    ({**PRELUDE_SHAPE["record"], "entityName": "comp\ud800"}, "a lone surrogate in the entity"),
    ({**PRELUDE_SHAPE["record"], "fields": {"n": math.nan}}, "NaN"),
    ({**PRELUDE_SHAPE["record"], "fields": {"n": -math.inf}}, "-Infinity"),
    ({**PRELUDE_SHAPE["record"], "fields": {"n": INT64_MAX + 1}}, "an integer past 64 bits"),
    ({**PRELUDE_SHAPE["record"], "version": INT64_MAX}, "a version past the bound"),
    ({**PRELUDE_SHAPE["record"], "version": -1}, "a negative version"),
    ({**PRELUDE_SHAPE["record"], "fieldNames": [1]}, "a field name not text"),
    ({**PRELUDE_SHAPE["record"], "fields": []}, "fields not a map"),
    ({**PRELUDE_SHAPE["record"], "extra": 1}, "an unknown key"),
    ({"id": None}, "no entity"),
    ({**PRELUDE_SHAPE["record"], "fields": {"n": "x" * 1_000_000 + "\ud800"}}, "1 MB then a surrogate"),
])  # fmt: skip
def test_a_hostile_record_is_left_to_the_full_validation_which_names_the_parameter(
    record: dict[str, Any], why: str
) -> None:
    args = {"record": record}
    assert quick_save_args(args) is None, why
    with pytest.raises(BadRequest) as refused:
        validate(OP, args)
    assert "'record" in refused.value.message, why


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_a_record_nested_past_the_limit_is_refused_in_the_walks_words() -> None:
    args = {"record": {**PRELUDE_SHAPE["record"], "fields": {"deep": _nested(MAX_DEPTH + 2)}}}
    assert quick_save_args(args) is None
    with pytest.raises(BadRequest, match="nested more than"):
        validate(OP, args)


@pytest.mark.parametrize("version", [True, "1", 1.0])
def test_a_version_only_the_lax_validation_reads_as_1_is_left_to_it(version: Any) -> None:
    args = {"record": {**PRELUDE_SHAPE["record"], "version": version}}
    assert quick_save_args(args) is None
    model = validate(OP, args)
    assert isinstance(model, SaveArgs) and model.record.version == 1


def test_other_argument_shapes_are_left_to_the_full_validation() -> None:
    shapes: list[Any] = [None, [], {"record": None}, {},
                         {"record": PRELUDE_SHAPE["record"], "x": 1}]  # fmt: skip
    for args in shapes:
        assert quick_save_args(args) is None


@settings(max_examples=500, deadline=None)
@given(value=hostile_json)
def test_the_quick_pass_says_clean_only_where_the_walk_refuses_nothing(value: Any) -> None:
    if surely_json_clean(value):
        assert check_json(value, "v") is value
    else:
        try:
            check_json(value, "v")
        except BadRequest as exc:
            assert "'v" in exc.message


ENTITY_OP: Operation[EntityArgs] = Operation("createRecord", EntityArgs, lambda ctx, a: None)


def test_create_records_entity_name_is_taken_quickly_as_the_full_validation_reads_it() -> None:
    quick = quick_entity_args({"entityName": "companies"})
    assert quick == EntityArgs.model_validate({"entityName": "companies"})


@pytest.mark.parametrize("args", [
    {"entityName": "comp\ud800"}, {"entityName": None}, {"entityName": 1}, {},
    {"entityName": "companies", "x": 1}, {"entityName": ["companies"]}, None, "companies",
])  # fmt: skip
def test_any_other_create_record_argument_gets_the_full_validations_refusal(args: Any) -> None:
    assert quick_entity_args(args) is None
    with pytest.raises(BadRequest):
        validate(ENTITY_OP, args)
