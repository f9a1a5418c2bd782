"""``sysjobs jobs`` and the job tree: ``show`` gives parent, root and children counts,
``ls --root ID`` lists a tree, and ``cancel`` of a root cancels its whole tree."""

from __future__ import annotations

import json

from sysjobs.host import Host
from tests.acceptance.cli.conftest import Cli


def _tree(host: Host) -> tuple[str, str, str]:
    """A root, its child and its grandchild (all PENDING)."""
    root = host.engine.enqueue("STEPS", {"steps": 1}, label="Root job").id
    child = host.engine.enqueue("STEPS", {"steps": 1}, label="Child job", parent_id=root).id
    grandchild = host.engine.enqueue("STEPS", {"steps": 1}, parent_id=child).id
    return root, child, grandchild


def test_show_gives_parent_root_and_children_counts(cli: Cli, host: Host) -> None:
    root, child, grandchild = _tree(host)
    shown = json.loads(cli("jobs", "show", grandchild, "--json").stdout)
    assert shown["parentJob"] == {"id": child, "label": "Child job"}
    assert shown["rootJob"] == {"id": root, "label": "Root job"}
    top = json.loads(cli("jobs", "show", root, "--json").stdout)
    assert (top["parentJob"], top["rootJob"]) == (None, None)
    assert (top["childrenJobsCount"], top["childrenJobsProcessed"]) == (1, 0)
    text = cli("jobs", "show", child).stdout
    assert f"{root} Root job" in text and "1 (0 processed)" in text


def test_ls_root_lists_the_tree_newest_first(cli: Cli, host: Host) -> None:
    root, child, grandchild = _tree(host)
    host.engine.enqueue("STEPS", {"steps": 1}, label="Another root")
    listed = json.loads(cli("jobs", "ls", "--root", root, "--json").stdout)
    assert (listed["count"], [j["id"] for j in listed["jobs"]]) == (2, [grandchild, child])
    assert listed["jobs"][1]["childrenJobsCount"] == 1
    table = cli("jobs", "ls", "--tree", root)
    assert table.returncode == 0 and "2 of 2 jobs" in table.stdout


def test_ls_root_refuses_a_job_that_is_not_a_root_naming_its_root(cli: Cli, host: Host) -> None:
    root, child, _ = _tree(host)
    refused = cli("jobs", "ls", "--root", child)
    assert refused.returncode == 2
    assert refused.stderr.startswith("badRequest:") and root in refused.stderr


def test_ls_root_refuses_what_is_not_a_job_id_naming_root(cli: Cli, host: Host) -> None:
    for hostile in ("nope", "0" * 1_000_000, "\ud800" * 24, "A" * 24):
        refused = cli("jobs", "ls", "--root", hostile)
        assert refused.returncode == 2, hostile[:30]
        assert refused.stderr.startswith("badRequest:") and "option '--root'" in refused.stderr
        assert len(refused.stderr) < 1000
    unknown = cli("jobs", "ls", "--root", "f" * 24)
    assert unknown.returncode == 2 and unknown.stderr.startswith("notFound:")


def test_ls_root_goes_alone(cli: Cli, host: Host) -> None:
    root, _, _ = _tree(host)
    refused = cli("jobs", "ls", "--root", root, "--status", "PENDING")
    assert refused.returncode == 2 and "--root" in refused.stderr


def test_cancel_of_a_root_cancels_its_tree(cli: Cli, host: Host) -> None:
    root, child, grandchild = _tree(host)
    done = cli("jobs", "cancel", root, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["childrenJobsProcessed"] == 1
    statuses = {host.engine.require(i).status for i in (root, child, grandchild)}
    assert statuses == {"CANCELED"}
