"""The idle dispatcher's pace (``sysjobs.worker.pacing``): a claim at once on a wake-up,
otherwise once per safety poll by the injected clock — which may stand still or step back."""

from __future__ import annotations

import pytest

from sysjobs.errors import BadRequest
from sysjobs.worker.pacing import ClaimPacer, check_safety_poll


class SteppedClock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def now_ms(self) -> int:
        return self.ms


def _pacer(clock: SteppedClock, every_s: float = 5.0) -> ClaimPacer:
    return ClaimPacer(clock, lambda _rounds: every_s)


def test_the_first_claim_is_due_at_once_and_then_one_per_safety_poll() -> None:
    clock = SteppedClock()
    pacer = _pacer(clock)
    claims = 0
    for _ in range(100):  # 50 s in 0.5 s steps
        if pacer.due(hinted=False):
            claims += 1
            pacer.claimed(took=False)
        clock.ms += 500
    assert claims == 10


def test_a_wakeup_is_always_due() -> None:
    clock = SteppedClock()
    pacer = _pacer(clock)
    pacer.claimed(took=False)
    assert not pacer.due(hinted=False) and pacer.due(hinted=True)


def test_the_wait_never_exceeds_one_safety_poll_and_never_goes_negative() -> None:
    clock = SteppedClock()
    pacer = _pacer(clock)
    assert pacer.wait_s() == 0.0
    pacer.claimed(took=False)
    assert pacer.wait_s() == 5.0
    clock.ms += 60_000
    assert pacer.wait_s() == 0.0 and pacer.due(hinted=False)


def test_a_clock_stepped_back_does_not_silence_the_safety_poll() -> None:
    clock = SteppedClock()
    pacer = _pacer(clock)
    pacer.claimed(took=False)
    clock.ms -= 3_600_000  # an NTP step back by an hour
    assert pacer.due(hinted=False)
    pacer.claimed(took=False)
    assert pacer.wait_s() == 5.0


@pytest.mark.parametrize(
    "value", [0, -1, float("nan"), float("inf"), -float("inf"), 1e300, 10**400,
              True, "5", None, 86_401]
)
def test_a_bad_safety_poll_is_refused_naming_the_parameter(value: object) -> None:
    with pytest.raises(BadRequest, match="safety_poll_s"):
        check_safety_poll(value)


def test_a_good_safety_poll_is_kept() -> None:
    assert check_safety_poll(5) == 5.0 and check_safety_poll(0.25) == 0.25
