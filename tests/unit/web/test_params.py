"""The dashboard's parameter checkers on their own: ASCII digits within 64 bits, capped
texts, periods bounded before parsing, cursors, echoes cut short, line clipping."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request

from sysjobs.web import params
from sysjobs.web.errors import ApiError, Reply, echo
from sysjobs.web.limits import WebLimits
from sysjobs.web.logpages import _bounded, size_of


def request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query,
                    "headers": []})  # fmt: skip


@pytest.mark.parametrize("raw", ["0", "1", "9223372036854775807", "0001"])
def test_a_timestamp_is_ascii_digits_within_64_bits(raw: str) -> None:
    assert params.timestamp("from", raw) == int(raw)


@pytest.mark.parametrize("raw", ["\u0661", "\u00b2", "\U0001d7d9", "9" * 5000, "-1", "+1", " 1",
                                 "1 ", "1.0", "1e3", "NaN", "", "9223372036854775808", "\uff11"])  # fmt: skip
def test_anything_else_is_a_bad_timestamp_naming_the_parameter(raw: str) -> None:
    with pytest.raises(ApiError) as error:
        params.timestamp("from", raw)
    assert (error.value.status, error.value.code) == (400, "badRequest")
    assert "parameter 'from'" in error.value.message
    assert len(error.value.message) < 300


def test_sizes_seconds_flags_and_cursors() -> None:
    assert params.size(10)("_size", "10") == 10
    for raw in ("0", "11", "\u0661"):
        with pytest.raises(ApiError, match="'_size'"):
            params.size(10)("_size", raw)
    assert params.seconds(60)("window", "0.5") == 0.5
    for raw in ("0", "61", "nan", "inf", "1e1", "\u0661", "1." + "0" * 7):
        with pytest.raises(ApiError, match="'window'"):
            params.seconds(60)("window", raw)
    assert params.flag("hasErrors", " TRUE ") == "true"
    assert params.cursor("after", "5:7") == (5, 7)
    for raw in ("5", "5:", ":7", "5:7:9", "\u0665:7", "9223372036854775808:1"):
        with pytest.raises(ApiError, match="'after'"):
            params.cursor("after", raw)


@pytest.mark.parametrize("raw", ["1" * 41, "1234567890d", "2h\t30m", "2h\u00a030m", "\u0661h"])
def test_a_period_is_bounded_before_the_engine_parses_it(raw: str) -> None:
    with pytest.raises(ApiError, match="'period'"):
        params.period("period", raw)
    assert params.period("period", "999999999d 23h 59m 59s") == "999999999d 23h 59m 59s"


def test_texts_refuse_length_nul_and_lone_surrogates() -> None:
    check = params.text(5, "words")
    assert check("message", "abcde") == "abcde"
    for raw in ("abcdef", "a\x00", "\ud800"):
        with pytest.raises(ApiError, match="'message'"):
            check("message", raw)


def test_unknown_and_repeated_parameters_are_refused() -> None:
    spec = params.Params({"a": params.timestamp})
    assert spec.parse(request(b"a=1")) == {"a": 1}
    with pytest.raises(ApiError, match=r"Unknown parameter 'b'\. Allowed parameters: a"):
        spec.parse(request(b"b=1"))
    with pytest.raises(ApiError, match="given more than once"):
        spec.parse(request(b"a=1&a=2"))
    with pytest.raises(ApiError, match="Allowed parameters: none"):
        params.NONE.parse(request(b"x"))


def test_echo_cuts_long_values_and_escapes_surrogates() -> None:
    assert echo("\ud800") == "'\\ud800'"
    assert echo("9" * 5000) == repr("9" * 100) + "…"
    assert echo(list(range(1000))) == "<list of 1000 items>"
    assert echo(10**5000).startswith("<a value of type int")
    assert len(echo({"k": "v" * 1000})) <= 101


def test_a_line_over_the_bound_is_clipped_to_fit() -> None:
    line = {"id": 1, "message": "\x01" * 100_000, "additionalInfo": {"x": "y" * 100_000}}
    clipped, cost = _bounded(dict(line), 4096)
    assert cost == size_of(clipped) <= 4096
    assert clipped["clipped"] is True and clipped["additionalInfo"]["clipped"] is True
    small = {"id": 2, "message": "ok", "additionalInfo": None}
    assert _bounded(dict(small), 4096) == (small, len(json.dumps(small, separators=(",", ":"))))


def test_limits_refuse_a_line_bound_over_the_page_bound() -> None:
    with pytest.raises(ValueError, match="log_line_bytes"):
        WebLimits(logs_page_bytes=1000, log_line_bytes=2000)


def test_a_reply_always_encodes() -> None:
    body = Reply({"r": [float("nan"), float("inf"), 1.5], "s": "a\ud800b"}).body
    assert json.loads(body) == {"r": [None, None, 1.5], "s": "a?b"}


def test_a_jobs_cursor_is_created_ms_and_a_job_id() -> None:
    cursor = "1700000000000:0123456789abcdef01234567"
    assert params.job_cursor("after", cursor) == (1_700_000_000_000, "0123456789abcdef01234567")
    assert params.job_cursor("after", "9223372036854775807:" + "f" * 24)[0] == 2**63 - 1


@pytest.mark.parametrize("raw", ["", ":", "1:", ":0123456789abcdef01234567", "1:x",
                                 "9223372036854775808:0123456789abcdef01234567",
                                 "1:0123456789ABCDEF01234567", "1:0123456789abcdef0123456",
                                 "1:0123456789abcdef012345678", "\u0661:0123456789abcdef01234567",
                                 "1:0123456789abcdef01234567\n", "1:" + "a" * 1_000_000,
                                 "1:0123456789abcdef01234567:2", "-1:0123456789abcdef01234567"])  # fmt: skip
def test_anything_else_is_a_bad_jobs_cursor(raw: str) -> None:
    with pytest.raises(ApiError) as error:
        params.job_cursor("after", raw)
    assert "parameter 'after'" in error.value.message
    assert "the 'next' of a jobs reply" in error.value.message
    assert len(error.value.message) < 300
