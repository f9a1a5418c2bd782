"""Opening the app: seeded once per database, however many processes open it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sysjobs.app.app import App
from sysjobs.jobs import Engine


def test_many_openers_seed_the_demo_app_exactly_once(app_url: str) -> None:
    engines = [Engine.open(app_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            apps = list(pool.map(App.open, engines))
        app = apps[0]
        assert app.records.count("companies", {}) == 5
        assert app.records.count("contacts", {}) == 3
        assert len(app.users.all()) == 3
        acme = app.records.find_one("companies", {"name": "Acme"})
        contact = app.records.find_one("contacts", {"email": "wile@acme.example"})
        assert acme is not None and contact is not None
        assert contact.fields["company"] == acme.id
    finally:
        for engine in engines:
            engine.close()
