"""A job's results are escaped before they are stored (lone surrogates, NUL); the common
flat record of plain values skips the JSON round trip and must give what it gives."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import pytest

from sysjobs.jobs import values
from sysjobs.jobs.values import escape_surrogates_in

CASES: list[Any] = [
    {"value": 1},
    {"value": None},
    {"value": True, "count": 0, "ratio": 0.5},
    {"value": math.inf, "low": -math.inf, "big": 10**30},
    {},
    {"value\x00": 1},  # NUL in a key: stored as U+FFFD
    {"\ud800": 1},  # a lone surrogate in a key
    {"clé": 1},  # a non-ASCII key, no surrogate
    {"value": "\ud800"},  # text: the full path
    {"value": "a\x00b"},
    {"value": {"nested": 1}},
    {"value": [1, 2, "\udfff"]},
    {1: 2},  # a non-text key
    OrderedDict(value=1),  # not a plain dict
    {"k" * 1_000_000: 1},  # a 1 MB key
]


def _full_path(value: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(values, "_plain_record", lambda _value: False)
        return escape_surrogates_in(value)


@pytest.mark.parametrize("results", CASES, ids=range(len(CASES)))
def test_the_short_path_gives_what_the_json_round_trip_gives(
    results: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert escape_surrogates_in(results) == _full_path(results, monkeypatch)


def test_a_flat_record_of_plain_values_is_returned_as_it_is() -> None:
    record = {"value": 1, "ok": True, "none": None, "x": 1.5}
    assert escape_surrogates_in(record) is record


def test_nan_in_a_flat_record_is_kept_as_the_full_path_keeps_it() -> None:
    kept = escape_surrogates_in({"value": math.nan})
    assert math.isnan(kept["value"])


def test_text_anywhere_still_takes_the_full_path() -> None:
    assert escape_surrogates_in({"value\x00": 1}) == {"value\ufffd": 1}
    assert escape_surrogates_in({"value": "\ud800"}) == {"value": "\\ud800"}
    assert escape_surrogates_in({"\udc00": None}) == {"\\udc00": None}
