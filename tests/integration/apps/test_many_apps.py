"""Ten apps on one database: each app's seed loads once, into that app; each reads and
changes only its own records, users, files and status."""

from __future__ import annotations

import pytest

from sysjobs.app.manifest import UserDef
from sysjobs.app.status import EndpointStatus
from sysjobs.errors import NotFound
from tests.integration.apps.conftest import Apps

TEN = [f"app{i}" for i in range(10)]
SEEDED_COMPANIES = 5


def test_each_of_ten_apps_sees_only_its_own_records(apps: Apps) -> None:
    opened = {name: apps.open(name) for name in TEN}
    ids: dict[str, set[str]] = {}
    for name, app in opened.items():
        rows = [app.records.validate("companies", {"name": f"{name} #{i}"}) for i in range(3)]
        ids[name] = {r.id for r in app.records.insert_many("companies", rows, announce=False)}
    for name, app in opened.items():
        found, count = app.records.find("companies", {})
        mine = {r.id for r in found}
        assert count() == SEEDED_COMPANIES + 3
        assert ids[name] <= mine
        others = set().union(*(ids[n] for n in TEN if n != name))
        assert not mine & others
        assert app.records.count("companies", {"name": "like(#)"}) == 3
        labels = {r.label for r in app.records.find("companies", {"name": "like(#)"})[0]}
        assert labels == {f"{name} #{i}" for i in range(3)}
        stranger = next(iter(ids[TEN[(TEN.index(name) + 1) % 10]]))
        assert app.records.find_by_id("companies", stranger) is None
        with pytest.raises(NotFound):
            app.records.remove("companies", stranger)


def test_each_of_ten_apps_seeds_once_into_itself(apps: Apps) -> None:
    opened = [apps.open(name) for name in TEN]
    for app in opened:
        assert app.records.count("companies", {}) == SEEDED_COMPANIES
        assert app.records.count("contacts", {}) == 3
        assert len(app.users.all()) == 3
    # Opening again (another worker process of the same app) seeds nothing more.
    again = apps.open("app3")
    assert again.records.count("companies", {}) == SEEDED_COMPANIES
    assert len(again.users.all()) == 3


def test_a_seed_is_not_reloaded_after_the_app_emptied_it(apps: Apps) -> None:
    first = apps.open("app0")
    for record in list(first.records.find("companies", {})[0]):
        first.records.remove("companies", record.id)
    assert apps.open("app0").records.count("companies", {}) == 0
    assert apps.open("app1").records.count("companies", {}) == SEEDED_COMPANIES


def test_seeded_relationships_point_into_the_same_app(apps: Apps) -> None:
    a, b = apps.open("app0"), apps.open("app1")
    for app in (a, b):
        for contact in app.records.find("contacts", {})[0]:
            company = contact.fields["company"]
            assert app.records.find_by_id("companies", company) is not None


def test_users_files_and_status_of_ten_apps_stay_apart(apps: Apps) -> None:
    opened = {name: apps.open(name) for name in TEN}
    files = {}
    for name, app in opened.items():
        app.users.add(UserDef(email=f"{name}@example.com", first_name=name, last_name="X"))
        files[name] = app.files.put("same-name.csv", name.encode())
        if name.endswith(("1", "3")):
            app.status.set_endpoint("hello", EndpointStatus.DEPLOYED)
    for name, app in opened.items():
        emails = {u.email for u in app.users.all()}
        assert f"{name}@example.com" in emails
        assert not {f"{n}@example.com" for n in TEN if n != name} & emails
        assert app.files.get(files[name]).content == name.encode()
        for other in TEN:
            if other != name:
                with pytest.raises(NotFound):
                    app.files.get(files[other])
        deployed = name.endswith(("1", "3"))
        expected = EndpointStatus.DEPLOYED if deployed else EndpointStatus.UNDEPLOYED
        assert app.status.endpoint("hello") is expected
