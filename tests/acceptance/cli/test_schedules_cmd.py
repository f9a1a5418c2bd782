"""``sysjobs schedules``: an app's schedules as a table and as the dashboard API's JSON —
next run, last run (tick, job id, status), removed ones marked — and a bad schedule in an
app folder as one ``badRequest`` line naming the schedule and the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.acceptance.cli.conftest import Cli
from tests.integration.app.schedule_apps import HOUR_MS, HOURLY, START_MS, opened, write_app
from tests.integration.engine.helpers import ManualClock

NIGHTLY = '  nightly: {cron: "30 2 * * *", timezone: Europe/Paris, source: "log(1)"}\n'


def listed(cli: Cli, *args: str) -> dict[str, Any]:
    done = cli("schedules", "--json", *args)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def test_schedules_lists_an_app_folders_schedules_as_a_table_and_as_json(
    cli: Cli, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "clocks", "clocks", HOURLY + NIGHTLY)
    table = cli("schedules", "--app", str(folder))
    body = listed(cli, "--app", str(folder))
    assert table.returncode == 0, table.stderr
    assert all(c in table.stdout for c in ("NAME", "CRON", "TIMEZONE", "TARGET", "STATE",
                                           "NEXT RUN", "LAST RUN"))  # fmt: skip
    assert "Schedules of app clocks (2)" in table.stdout
    assert "listener:tidy" in table.stdout and "Europe/Paris" in table.stdout
    assert body["app"] == "clocks" and body["count"] == 2
    hourly, nightly = body["schedules"]
    assert set(hourly) == {"name", "cron", "timezone", "target", "enabled", "state", "nextRunAt",
                           "lastTickAt", "lastRunAt", "lastJobId", "lastJobStatus"}
    assert (nightly["name"], nightly["cron"], nightly["timezone"], nightly["target"]) == (
        "nightly", "30 2 * * *", "Europe/Paris", "script:(inline)")
    assert isinstance(hourly["nextRunAt"], int) and hourly["lastJobId"] is None


def test_schedules_shows_the_last_run_and_the_next_after_a_tick(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "clocks", "clocks", HOURLY)
    clock = ManualClock(START_MS)
    with opened(db_url, folder, clock) as one:
        clock.advance(HOUR_MS)
        [job] = one.engine.schedules.tick()
    [hourly] = listed(cli, "--app", "clocks")["schedules"]
    table = cli("schedules", "--app", "clocks")
    assert (hourly["lastJobId"], hourly["lastJobStatus"]) == (job.id, "PENDING")
    assert (hourly["lastTickAt"], hourly["nextRunAt"]) == (START_MS + HOUR_MS, START_MS + 2 * HOUR_MS)
    assert f"2027-01-15T09:00+00:00 {job.id} PENDING" in table.stdout
    assert "2027-01-15T10:00+00:00" in table.stdout


def test_schedules_marks_a_schedule_gone_from_the_manifest_as_removed(
    cli: Cli, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "clocks", "clocks", HOURLY + NIGHTLY)
    listed(cli, "--app", str(folder))
    write_app(folder, "clocks", HOURLY)
    states = {s["name"]: (s["state"], s["nextRunAt"]) for s in
              listed(cli, "--app", str(folder))["schedules"]}
    assert states["nightly"] == ("removed", None) and states["hourly"][0] == "active"


def test_schedules_of_one_app_key_leaves_the_other_apps_out(cli: Cli, tmp_path: Path) -> None:
    listed(cli, "--app", str(write_app(tmp_path / "a", "alpha", HOURLY)))
    listed(cli, "--app", str(write_app(tmp_path / "b", "beta", NIGHTLY)))
    assert [s["name"] for s in listed(cli, "--app", "alpha")["schedules"]] == ["hourly"]
    assert [s["name"] for s in listed(cli, "--app", "beta")["schedules"]] == ["nightly"]


def test_a_bad_schedule_in_the_app_folder_is_one_bad_request_line(
    cli: Cli, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "clocks", "clocks",
                       '  "bad": {cron: "* * * * * * *", listener: tidy}\n')
    done = cli("schedules", "--app", str(folder))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("badRequest: app.yaml: schedules.bad.cron: invalid cron "
                                  "expression '* * * * * * *' (7 fields)"), done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    write_app(folder, "clocks", '  "\\ud800": {cron: "@daily", listener: tidy}\n')
    done = cli("schedules", "--app", str(folder))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    write_app(folder, "clocks", '  n: {cron: "@daily", timezone: "Mars/Olympus", listener: tidy}\n')
    done = cli("schedules", "--app", str(folder))
    assert "badRequest: app.yaml: schedules.n.timezone: unknown time zone 'Mars/Olympus'" in done.stderr


def _everything(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to tell whether a command wrote anything."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: sorted(map(tuple, conn.execute(sa.text(f'SELECT * FROM "{name}"'))), key=repr)
                    for name in sa.inspect(conn).get_table_names()}  # fmt: skip
    finally:
        engine.dispose()


def test_read_only_commands_on_an_unchanged_app_write_nothing(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "clocks", "clocks", HOURLY + NIGHTLY)
    listed(cli, "--app", str(folder))  # the first look defines the app's schedules
    before = _everything(db_url)
    for args in (("schedules", "--app", str(folder)), ("schedules", "--json", "--app", str(folder)),
                 ("jobs", "ls", "--app", str(folder)), ("workers", "--app", str(folder)),
                 ("logs", "app", "--app", str(folder))):  # fmt: skip
        done = cli(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert _everything(db_url) == before, args
