"""Cron expressions in a time zone (``sysjobs.cron``): which forms are accepted, when ticks
fall, and what croniter does where a zone's clock jumps (docs/schedules.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sysjobs.cron import LAST_MS, Cron


def ms(text: str) -> int:
    """An ISO instant (with its offset) as milliseconds since the epoch."""
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def iso(value: int) -> str:
    return datetime.fromtimestamp(value / 1000, UTC).isoformat()


def ticks(cron: Cron, after: str, count: int) -> list[str]:
    found, at = [], ms(after)
    for _ in range(count):
        at = cron.next_after(at)
        found.append(iso(at))
    return found


def test_the_next_tick_is_strictly_after_the_time_given() -> None:
    cron = Cron.parse("0 * * * *")
    assert iso(cron.next_after(ms("2027-01-15T08:00:00+00:00"))) == "2027-01-15T09:00:00+00:00"
    assert iso(cron.next_after(ms("2027-01-15T08:59:59.999+00:00"))) == "2027-01-15T09:00:00+00:00"


def test_fields_are_read_in_the_schedules_time_zone() -> None:
    cron = Cron.parse("0 9 * * *", "America/New_York")
    assert ticks(cron, "2027-01-15T00:00:00+00:00", 1) == ["2027-01-15T14:00:00+00:00"]


def test_macros_are_accepted_in_any_case() -> None:
    assert Cron.parse("@DAILY").expression == "@daily"
    assert ticks(Cron.parse("@hourly"), "2027-01-15T08:10:00+00:00", 1) == [
        "2027-01-15T09:00:00+00:00"]


def test_a_local_time_in_the_spring_gap_runs_once_at_the_end_of_the_gap() -> None:
    # Europe/Paris skips 02:00-03:00 on 2027-03-28: 02:30 does not exist that night.
    cron = Cron.parse("30 2 * * *", "Europe/Paris")
    assert ticks(cron, "2027-03-26T12:00:00+00:00", 3) == [
        "2027-03-27T01:30:00+00:00",  # 02:30 CET
        "2027-03-28T01:00:00+00:00",  # 03:00 CEST, the first instant after the gap
        "2027-03-29T00:30:00+00:00",  # 02:30 CEST
    ]


def test_a_local_time_in_the_autumn_overlap_runs_at_both_instants() -> None:
    # Europe/Paris repeats 02:00-03:00 on 2027-10-31: 02:30 happens twice that night.
    cron = Cron.parse("30 2 * * *", "Europe/Paris")
    assert ticks(cron, "2027-10-29T12:00:00+00:00", 4) == [
        "2027-10-30T00:30:00+00:00",
        "2027-10-31T00:30:00+00:00",  # 02:30 CEST
        "2027-10-31T01:30:00+00:00",  # 02:30 CET, an hour later
        "2027-11-01T01:30:00+00:00",
    ]


def test_the_latest_due_tick_is_the_one_before_the_next() -> None:
    cron = Cron.parse("0 * * * *")
    first, following = ms("2027-01-15T09:00:00+00:00"), ms("2027-01-15T14:00:00+00:00")
    assert iso(cron.latest_until(first, following)) == "2027-01-15T13:00:00+00:00"
    assert cron.latest_until(first, first + 3_600_000) == first


@pytest.mark.parametrize(
    "expression,reason",
    [
        ("* * * * * *", "6 fields"),
        ("* * * * * * *", "7 fields"),
        ("* * * *", "4 fields"),
        ("", "empty"),
        ("   ", "empty"),
        ("61 * * * *", "out of range"),
        ("*/0 * * * *", "step '0'"),
        ("1-99999999999999999 * * * *", "out of bands"),
        ("nan * * * *", "not acceptable"),
        ("H * * * *", "hash"),
        ("@reboot", "unknown macro"),
        ("0 2 * * \ud800", "unexpected characters"),
        ("0 2 * * *; rm -rf /", "unexpected characters"),
        ("1," * 200 + "2 * * * *", "longer than 200 characters"),
    ],
)
def test_a_bad_expression_is_refused_saying_why_and_what_is_allowed(
    expression: str, reason: str
) -> None:
    with pytest.raises(ValueError) as info:
        Cron.parse(expression)
    message = str(info.value)
    assert reason.lower() in message.lower(), message
    assert "Allowed values: five fields" in message
    message.encode("utf-8")  # (no lone surrogate reaches an encoder)


@pytest.mark.parametrize("value", [None, 5, float("nan"), float("inf"), 10**100, ["* * * * *"]])
def test_an_expression_that_is_not_a_string_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="expected a string"):
        Cron.parse(value)


def test_an_expression_that_never_matches_is_refused() -> None:
    with pytest.raises(ValueError, match="matches no date"):
        Cron.parse("0 0 31 2 *")


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "\ud800", "UTC\n", 7,
             "A" * 500, "Europe/../UTC"],
)
def test_an_unknown_or_malformed_time_zone_is_refused(zone: object) -> None:
    with pytest.raises(ValueError) as info:
        Cron.parse("0 2 * * *", zone)
    assert "Allowed values: an IANA time zone name" in str(info.value)
    str(info.value).encode("utf-8")


ZONES = ("UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu")
EXPRESSIONS = ("* * * * *", "30 2 * * *", "*/15 * * * *", "0 0 L * *", "@weekly", "0 9-17 * * 1-5")


@settings(max_examples=300, deadline=None)
@given(
    after=st.integers(min_value=ms("2000-01-01T00:00:00+00:00"),
                      max_value=ms("2099-12-31T00:00:00+00:00")),
    expression=st.sampled_from(EXPRESSIONS),
    zone=st.sampled_from(ZONES),
)
def test_ticks_always_move_forward_and_none_is_skipped_between_two(
    after: int, expression: str, zone: str
) -> None:
    cron = Cron.parse(expression, zone)
    first = cron.next_after(after)
    second = cron.next_after(first)
    assert after < first < second
    assert cron.next_after(first - 1) == first  # no tick between 'after' and 'first'
    assert cron.latest_until(first, second) == first



@pytest.mark.parametrize("zone", ["UTC", "Australia/Lord_Howe", "Pacific/Apia", "Etc/GMT+12"])
@pytest.mark.parametrize("expression", ["@yearly", "0 0 29 2 *", "*/30 * * * *", "0 0 L * *"])
def test_past_the_last_tick_a_calendar_holds_there_is_no_next_one(
    expression: str, zone: str
) -> None:
    """A clock near the end of year 9999 (what a date holds): no next tick, not an error."""
    cron = Cron.parse(expression, zone)
    assert cron.next_after(ms("9999-12-31T23:59:00+00:00")) is None
    assert cron.next_after(LAST_MS + 1) is None
    due = ms("9999-12-01T00:00:00+00:00")
    assert due <= cron.latest_until(due, None) <= LAST_MS
