"""Job ids and the user transition table."""

from __future__ import annotations

import pytest

from sysjobs.errors import BadRequest, Conflict
from sysjobs.jobs.ids import JobIds, check_job_id, id_time_ms, is_job_id, new_job_id
from sysjobs.jobs.status import ALL_STATUSES, JobStatus, illegal, paths_for


def test_job_ids_are_24_lowercase_hex_and_time_ordered() -> None:
    source = JobIds()  # an engine's id source (EngineParts.ids): ordered within it
    ids = [source.new() for _ in range(1000)]
    assert all(is_job_id(i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 1000


def test_ids_made_without_an_engine_are_well_formed_and_distinct() -> None:
    ids = [new_job_id(1_700_000_000_123) for _ in range(1000)]
    assert all(is_job_id(i) and id_time_ms(i) == 1_700_000_000_123 for i in ids)
    assert len(set(ids)) == 1000


def test_a_job_id_encodes_its_creation_millisecond() -> None:
    assert id_time_ms(new_job_id(1_700_000_000_123)) == 1_700_000_000_123


@pytest.mark.parametrize("bad", ["", "abc", "G" * 24, "A" * 24, "a" * 25, 12, None])
def test_malformed_ids_are_rejected_naming_the_parameter(bad: object) -> None:
    assert not is_job_id(bad)
    with pytest.raises(BadRequest, match=r"for parameter 'jobId'\. Allowed values: a job id of 24"):
        check_job_id(bad)


def test_statuses_are_exactly_the_specs() -> None:
    assert ALL_STATUSES == (
        "PENDING", "RUNNING", "FINISHED", "STOPPING", "STOPPED", "CANCELING", "CANCELED",
    )  # fmt: skip


def test_cancel_passes_through_canceling_and_lands_at_once_when_not_running() -> None:
    paths = paths_for("cancel")
    assert paths["PENDING"] == ("CANCELING", "CANCELED")
    assert paths["STOPPED"] == ("CANCELING", "CANCELED")
    assert paths["RUNNING"] == ("CANCELING",)
    assert "FINISHED" not in paths and "CANCELED" not in paths


def test_stop_is_legal_only_while_running_and_resume_only_when_stopped() -> None:
    assert paths_for("stop") == {"RUNNING": ("STOPPING",)}
    assert paths_for("resume") == {"STOPPED": ("PENDING",)}


def test_an_illegal_transition_names_the_current_status_and_what_is_allowed() -> None:
    error = illegal("resume", "a" * 24, JobStatus.RUNNING)
    assert isinstance(error, Conflict) and isinstance(error, BadRequest)
    assert error.message == (
        f"Cannot resume job {'a' * 24}: its status is RUNNING. "
        "Allowed only when the status is: STOPPED"
    )
    assert error.code == "badRequest" and error.info == {"status": "RUNNING"}
