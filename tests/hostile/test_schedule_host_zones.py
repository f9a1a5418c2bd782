"""A schedule's time zone is an IANA name that means the same instant on every machine. The
zoneinfo folder of a host also holds names that are that host's settings, not zones:
``localtime`` (the machine's own zone: workers on machines set differently would disagree
on every tick, and the one that validated the manifest on yet another), ``posixrules`` (the
zone POSIX TZ strings borrow rules from, a distribution's choice), and the ``posix/`` and
``right/`` copies some distributions ship (absent elsewhere: a manifest valid on one worker
would not load on another). Each is refused where the manifest is read, as an unknown zone
is."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysjobs.app.definition import load_app
from sysjobs.cron import Cron
from sysjobs.errors import SysError

HOST_NAMES = ["localtime", "posixrules", "right/UTC", "posix/Europe/Paris", "right/Asia/Tokyo",
              "posix/UTC"]  # fmt: skip


@pytest.mark.parametrize("zone", HOST_NAMES)
def test_a_hosts_own_zone_file_is_not_a_schedules_time_zone(zone: str) -> None:
    with pytest.raises(ValueError) as info:
        Cron.parse("0 2 * * *", zone)
    assert "Allowed values: an IANA time zone name" in str(info.value)
    assert repr(zone) in str(info.value)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires",
                                  "Etc/GMT+12", "EST5EDT", "Factory"])  # fmt: skip
def test_iana_zone_names_stay_accepted(zone: str) -> None:
    assert Cron.parse("0 2 * * *", zone).next_after(0) is not None


def test_a_manifest_naming_localtime_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(
        "name: zones\nschedules:\n  nightly:\n    cron: '0 2 * * *'\n"
        "    timezone: localtime\n    source: 'log(1)'\n", "utf-8")  # fmt: skip
    with pytest.raises((SysError, ValueError)) as info:
        load_app(tmp_path)
    assert "localtime" in str(info.value)
