"""The input rules every script value meets (``sysjobs.jobs.values``), the ``period`` scanner
on pathological text of 100k characters, and the one message of a job id and a status.

The pathological inputs are the ones that made the former backtracking regex run for
seconds (``'1d' + ' ' * 250 + 'x'``: 2.4 s; 450 spaces: ~30 s): each must now finish with its
answer — the test asserts the answer, the suite's own run shows it finishes.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from sysjobs.errors import BadRequest
from sysjobs.jobs.ids import check_job_id
from sysjobs.jobs.periods import MAX_CHARS, duration_ms, period_range
from sysjobs.jobs.queries import FindQuery, LogsQuery
from sysjobs.jobs.status import check_statuses
from sysjobs.jobs.values import (
    INT64_MAX,
    MAX_MS,
    MAX_PATTERN_CHARS,
    check_json,
    check_ms,
    check_pattern,
    escape_surrogates,
    shown,
)

NOW = int(datetime(2026, 3, 10, 15, 30, tzinfo=UTC).timestamp() * 1000)
BIG = 100_000

PATHOLOGICAL_PERIODS = [
    "1d" + " " * 250 + "x",
    "1d" + " " * BIG + "x",
    " " * BIG,
    "1" * BIG,
    "1d" * (BIG // 2),
    "1 " * (BIG // 2) + "x",
    "\t\n " * (BIG // 3) + "1d",
    "1d 2h 3m 4s" + " " * BIG,
]


@pytest.mark.parametrize("text", PATHOLOGICAL_PERIODS, ids=lambda t: f"{t[:12]!r}…{len(t)}")
def test_a_pathological_period_is_a_bad_request_naming_period(text: str) -> None:
    with pytest.raises(BadRequest, match=r"for parameter 'period'\. Allowed values: today"):
        period_range(text, NOW)


def test_a_period_longer_than_the_cap_says_the_cap() -> None:
    with pytest.raises(BadRequest, match=f"at most {MAX_CHARS} characters"):
        period_range("1d" + " " * MAX_CHARS, NOW)


def test_the_scanner_still_reads_every_documented_form() -> None:
    assert duration_ms("1d 2h 3m 4s") == 93_784_000
    assert duration_ms("2 h 30 m") == 9_000_000
    assert duration_ms("\t10m\n") == 600_000


@pytest.mark.parametrize("text", ["1h 1h", "1m 1h", "1d2d", "h", "1", "1e3s", "\u0661m", "+1m"])
def test_repeated_out_of_order_or_foreign_parts_are_refused(text: str) -> None:
    with pytest.raises(BadRequest, match="parameter 'period'"):
        duration_ms(text)


def test_a_duration_past_what_a_date_can_reach_is_refused_not_overflowed() -> None:
    with pytest.raises(BadRequest, match="parameter 'period'"):
        duration_ms("99999999999999999999d")


def test_a_logs_period_of_100k_characters_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="parameter 'period'"):
        LogsQuery.parse({"period": "1d" + " " * BIG + "x"}, NOW)


@pytest.mark.parametrize("value", [1e20, 10**20, -1, MAX_MS + 1, math.nan, math.inf, -math.inf,
                                   "1" * 30, "1e20", True, "²", 1.5])  # fmt: skip
def test_a_time_bound_outside_a_dates_range_or_not_finite_names_the_parameter_and_range(
    value: Any,
) -> None:
    with pytest.raises(BadRequest) as raised:
        FindQuery.parse({"createFrom": value}, set())
    message = raised.value.message
    assert "parameter 'createFrom'" in message and f"integer from 0 to {MAX_MS}" in message


def test_time_bounds_at_the_edges_of_the_range_are_kept() -> None:
    assert FindQuery.parse({"createFrom": 0, "createTo": MAX_MS}, set()).created == (0, MAX_MS)
    assert check_ms(str(MAX_MS), "to") == MAX_MS


@pytest.mark.parametrize("value", [0, 2**63, 1e300, math.nan, "9" * 5000])
def test_size_must_be_a_whole_number_within_64_bits(value: Any) -> None:
    with pytest.raises(BadRequest, match=rf"parameter '_size'\. Allowed values: a positive integer \(1 to {INT64_MAX}\)"):
        FindQuery.parse({"_size": value}, set())


@pytest.mark.parametrize(("message", "allowed"), [
    ("x" * (MAX_PATTERN_CHARS + 1), f"at most {MAX_PATTERN_CHARS} characters"),
    ("x" * 60_000, f"at most {MAX_PATTERN_CHARS} characters"),
    ("a\ud800b", "lone UTF-16 surrogates"),
    ("\udfff", "lone UTF-16 surrogates"),
    ("a\x00b", "without NUL"),
    (42, "a string"),
])  # fmt: skip
def test_a_logs_message_filter_is_a_bounded_pattern(message: Any, allowed: str) -> None:
    with pytest.raises(BadRequest) as raised:
        LogsQuery.parse({"message": message}, NOW)
    assert "parameter 'message'" in raised.value.message and allowed in raised.value.message


def test_a_message_filter_at_the_cap_with_an_emoji_is_kept() -> None:
    text = "😀" + "x" * (MAX_PATTERN_CHARS - 1)
    assert LogsQuery.parse({"message": text}, NOW).message == text


def test_values_are_shown_as_the_script_wrote_them_never_in_python_spelling() -> None:
    assert shown(None) == "null" and shown(True) == "true" and shown({"a": [1]}) == '{"a": [1]}'
    assert shown(math.nan) == "NaN" and shown("\ud800") == "'\\ud800'"
    assert shown("x" * BIG).endswith("…'") and len(shown("x" * BIG)) < 100
    circular: dict[str, Any] = {}
    circular["self"] = circular
    assert shown(circular) == "dict"


def test_unknown_keys_are_named_without_python_repr() -> None:
    with pytest.raises(BadRequest, match=r"Unknown parameter 'x\\ud800'\."):
        FindQuery.parse({"x\ud800": 1}, set())
    with pytest.raises(BadRequest, match=r"Invalid query true: expected an object"):
        FindQuery.parse(True, set())


def test_escaping_surrogates_keeps_pairs_and_is_read_back_by_json() -> None:
    import json

    assert escape_surrogates("a😀b") == "a😀b"
    text = escape_surrogates(json.dumps({"m": "a\ud800b"}, ensure_ascii=False))
    assert text == '{"m": "a\\ud800b"}' and json.loads(text) == {"m": "a\ud800b"}


@pytest.mark.parametrize(("value", "path", "allowed"), [
    ({"a": [1, {"b": math.nan}]}, "params.a.b", "finite numbers"),
    ([math.inf], "params", "finite numbers"),
    ({"a": 2**63}, "params.a", "integers from"),
    ({"a": -(2**63) - 1}, "params.a", "integers from"),
    ({"k\ud800": 1}, "params.k\\ud800", "lone UTF-16 surrogates"),
    (["ok", ["\udc00"]], "params", "lone UTF-16 surrogates"),
])  # fmt: skip
def test_a_json_argument_is_checked_whole_and_the_path_is_named(
    value: Any, path: str, allowed: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        check_json(value, "params")
    assert f"parameter '{path}'" in raised.value.message and allowed in raised.value.message


def test_a_json_argument_nested_too_deep_is_refused_and_the_edges_pass() -> None:
    deep: Any = "x"
    for _ in range(BIG):
        deep = [deep]
    with pytest.raises(BadRequest, match="nested more than"):
        check_json(deep, "params")
    assert check_json({"a": [2**63 - 1, -(2**63), 1.5, "😀", None, True]}, "p") is not None


def test_a_like_pattern_is_checked_once_with_the_field_named() -> None:
    with pytest.raises(BadRequest, match=r"parameter 'name'.*at most"):
        check_pattern("%" * BIG, "name")
    assert check_pattern("50%_off", "name") == "50%_off"


@pytest.mark.parametrize("bad", [None, 42, "x", "0123456789ABCDEF01234567", "0" * 23, "0" * 25,
                                 "0" * BIG, "\ud800" * 24, ["0" * 24]])  # fmt: skip
def test_a_job_id_has_one_check_and_one_message(bad: Any) -> None:
    with pytest.raises(BadRequest) as raised:
        check_job_id(bad, "id")
    message = raised.value.message
    assert message.startswith(f"Invalid value {shown(bad)} for parameter 'id'. ")
    assert message.endswith("Allowed values: a job id of 24 lowercase hexadecimal characters (0-9, a-f)")


@pytest.mark.parametrize(("bad", "named"), [
    ("DONE", "'DONE'"), ([], "[]"), (["FINISHED", 7], "7"), ({"s": 1}, '{"s": 1}'), (None, "null"),
])  # fmt: skip
def test_desired_statuses_have_one_check_and_one_message(bad: Any, named: str) -> None:
    with pytest.raises(BadRequest) as raised:
        check_statuses(bad)
    assert raised.value.message.startswith(f"Invalid value {named} for parameter 'desiredStatus'.")
    assert "PENDING, RUNNING, FINISHED" in raised.value.message
    assert check_statuses(["FINISHED", "STOPPED"]) == ("FINISHED", "STOPPED")


@pytest.mark.parametrize("raw", [",".join(["PENDING"] * 30_000), " ," * BIG, "x" * BIG])
def test_a_status_list_of_100k_characters_is_read_or_refused_in_one_pass(raw: str) -> None:
    try:
        assert FindQuery.parse({"status": raw}, set()).statuses == ("PENDING",)
    except BadRequest as exc:
        assert "parameter 'status'" in exc.message
