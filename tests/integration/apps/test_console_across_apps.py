"""The dashboard's script console runs in the app the request is about (the switcher's
``X-Sysjobs-App``): a run for app B sees B's jobs and none of A's, whether it runs now (in
B's console child process) or in a job; an app's token runs in its own app only. Both
databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.limits import WebLimits
from sysjobs.web.scripts import Consoles
from tests.integration.apps.conftest import app_folder

OPERATOR, ALPHA, BETA = "op-token", "alpha-token", "beta-token"


class Console:
    """A dashboard over apps alpha (its first) and beta, one job in each."""

    def __init__(self, db_url: str, root: Path, launcher: Launcher) -> None:
        self.hosts = {name: Host(db_url, app_folder(root, name), pool_size=1, launcher=launcher)
                      for name in ("alpha", "beta")}  # fmt: skip
        self.jobs = {name: host.start_script_job("1", label=f"{name} job").id
                     for name, host in self.hosts.items()}  # fmt: skip
        auth = AuthConfig(OPERATOR, app_tokens={ALPHA: "alpha", BETA: "beta"})
        app = create_app(self.hosts["alpha"], auth, db_url=db_url, apps=[self.hosts["beta"]])
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()  # the lifespan: it ends the console child processes

    def run(self, token: str, app: str | None, source: str, **body: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        if app is not None:
            headers["X-Sysjobs-App"] = app
        reply = self.client.post("/api/scripts", json={"source": source, **body},
                                 headers=headers)  # fmt: skip
        return reply.status_code, reply.json()

    def labels(self, token: str, app: str | None) -> dict[str, Any]:
        """What a run sees of each app's job: its label, or None (not found)."""
        source = f"""
            var seen = {{}};
            {json.dumps(list(self.jobs.items()))}.forEach(function (pair) {{
                var job = sys.jobs.findById(pair[1]);
                seen[pair[0]] = job === null ? null : job.label();
            }});
            seen"""
        status, body = self.run(token, app, source)
        assert status == 200, body
        assert body["result"]["outcome"] == "ok", body
        value: dict[str, Any] = body["result"]["value"]
        return value

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        for host in self.hosts.values():
            host.close()


@pytest.fixture(scope="module")
def shared_console(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory, launcher: Launcher
) -> Iterator[Console]:
    """One console for the module's tests, so each child starts once per module, not once
    per test (a console child's start — a fresh interpreter importing sysjobs and opening
    its Host — is ~0.75 s of CPU, most of these tests' cost). Each test still sees what a
    console of its own would: the two jobs every check looks up are never changed; a test
    that adds a job counts or looks up only its own; a test whose script ends its child's
    V8 context (or the child) is followed by a fresh one, as any run would be; the web app
    of the test that bounds the children alive is its own (its own consoles)."""
    opened = Console(module_db_url, tmp_path_factory.mktemp("console"), launcher)
    yield opened
    opened.close()


def test_a_console_run_for_app_b_sees_bs_data_only(shared_console: Console) -> None:
    assert shared_console.labels(OPERATOR, "beta") == {"alpha": None, "beta": "beta job"}
    assert shared_console.labels(OPERATOR, "alpha") == {"alpha": "alpha job", "beta": None}
    assert shared_console.labels(OPERATOR, None) == {"alpha": "alpha job", "beta": None}


def test_an_apps_token_runs_the_console_in_its_own_app(shared_console: Console) -> None:
    assert shared_console.labels(BETA, None) == {"alpha": None, "beta": "beta job"}
    assert shared_console.labels(BETA, "beta") == {"alpha": None, "beta": "beta job"}
    assert shared_console.labels(ALPHA, None) == {"alpha": "alpha job", "beta": None}


@pytest.mark.parametrize("in_job", [False, True])
def test_an_apps_token_cannot_run_a_script_in_another_app(
    shared_console: Console, in_job: bool
) -> None:
    hosts = shared_console.hosts
    before = {name: len(list(host.engine.find({}))) for name, host in hosts.items()}
    status, body = shared_console.run(ALPHA, "beta", "sys.jobs.find({})", inJob=in_job)
    assert status == 403, body
    assert body["code"] == "forbidden"
    assert {name: len(list(host.engine.find({}))) for name, host in hosts.items()} == before


def test_a_script_job_from_the_console_is_the_chosen_apps(shared_console: Console) -> None:
    status, body = shared_console.run(OPERATOR, "beta", "1", inJob=True,
                                      label="console in beta")  # fmt: skip
    assert status == 202, body
    job_id = body["job"]["id"]
    assert shared_console.hosts["beta"].engine.require(job_id).label == "console in beta"
    assert shared_console.hosts["alpha"].engine.get(job_id) is None


# ---- header tricks: the app a run goes to is the one the checks looked at -------------

SEES_ALPHA_ONLY = {"alpha": "alpha job", "beta": None}


def _post(console: Console, token: str, headers: list[tuple[str, str | bytes]]) -> Any:
    source = f"var j = sys.jobs.findById({json.dumps(console.jobs['beta'])}); j && j.label()"
    return console.client.post("/api/scripts", json={"source": source},
                               headers=[("Authorization", f"Bearer {token}"), *headers])  # fmt: skip


@pytest.mark.parametrize("values", [["alpha", "beta"], ["beta", "alpha"], ["", "beta"]])
def test_two_app_headers_never_take_an_apps_token_into_another_app(
    shared_console: Console, values: list[str]
) -> None:
    reply = _post(shared_console, ALPHA, [("X-Sysjobs-App", v) for v in values])
    assert reply.status_code in (200, 403), reply.text
    if reply.status_code == 200:
        assert reply.json()["result"]["value"] is None  # ran in alpha: beta's job unseen


@pytest.mark.parametrize("value", ["Beta", "BETA", " beta", "beta ", "nope", "x" * 10_000,
                                   "b\u00e9ta".encode("latin-1"), "alpha\tbeta"])  # fmt: skip
def test_an_app_key_that_is_not_exactly_one_served_is_refused_not_guessed(
    shared_console: Console, value: str | bytes
) -> None:
    for token in (OPERATOR, ALPHA):
        reply = _post(shared_console, token, [("x-SYSJOBS-app", value)])
        assert reply.status_code in (403, 404, 431), reply.text
        assert len(reply.content) < 2_000


# ---- one console child per app: bounded, and a crashed one replaced -------------------


def test_console_children_alive_at_once_are_bounded_whatever_the_apps_used(
    shared_console: Console, module_db_url: str, tmp_path: Path
) -> None:
    """A dashboard of its own (its own consoles, none started) over the module's Hosts of
    alpha and beta and a Host of gamma."""
    names = ("alpha", "beta", "gamma")
    gamma = Host(module_db_url, app_folder(tmp_path, "gamma"), pool_size=1,
                 launcher=shared_console.hosts["alpha"].launcher)
    hosts = [shared_console.hosts["alpha"], shared_console.hosts["beta"], gamma]
    app = create_app(hosts[0], AuthConfig(OPERATOR), db_url=module_db_url, apps=hosts[1:],
                     limits=WebLimits(max_consoles=2))  # fmt: skip
    consoles: Consoles = app.state.consoles
    assert not any(consoles[n].started for n in names)
    alive: list[int] = []
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            for name in (*names, "alpha"):
                reply = client.post("/api/scripts", json={"source": "sys.jobs.find({}).length"},
                                    headers={"Authorization": f"Bearer {OPERATOR}",
                                             "X-Sysjobs-App": name})  # fmt: skip
                assert reply.status_code == 200 and reply.json()["result"]["outcome"] == "ok"
                alive.append(sum(consoles[n].started for n in names))
            last_two = [consoles[n].started for n in names]
    finally:
        gamma.close()
    assert alive == [1, 2, 2, 2]
    assert last_two == [True, False, True]  # beta was the least recently used


def test_a_console_run_that_kills_its_child_leaves_the_next_run_a_fresh_one(
    shared_console: Console,
) -> None:
    console = shared_console
    # The run ends on its memory limit, not its time: 120 s only bounds a hang (at 20 s the
    # garbage collection up to the 256 MiB heap ran out of time on a machine at load 50).
    status, body = console.run(OPERATOR, "beta", "globalThis.left = 'beta'; var a = []; "
                               "for (;;) a.push(new Array(1e6).fill(1))", timeoutS=120)  # fmt: skip
    assert status == 200, body
    assert body["result"]["outcome"] in ("memoryLimit", "crashed"), body
    after = console.run(OPERATOR, "beta", "typeof left")
    assert after == (200, after[1]) and after[1]["result"]["value"] == "undefined", after
    assert console.labels(OPERATOR, "beta") == {"alpha": None, "beta": "beta job"}
    assert console.labels(OPERATOR, "alpha") == SEES_ALPHA_ONLY


@pytest.mark.parametrize("field", [{"label": "a\u0000b"}, {"source": "'a\u0000b'"}])
def test_a_console_script_job_with_nul_in_its_text_is_a_bad_request(
    shared_console: Console, field: dict[str, str]
) -> None:
    """A job's label and source are stored as text: PostgreSQL cannot hold a NUL in one."""
    body = {"source": "1", "inJob": True, **field}
    status, reply = shared_console.run(OPERATOR, "beta", body.pop("source"), **body)
    assert status == 400 and reply["code"] == "badRequest", reply
    assert next(iter(field)) in reply["message"], reply
