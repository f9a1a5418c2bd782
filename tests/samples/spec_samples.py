"""Extract the JavaScript samples printed in the spec, exactly as printed.

The spec is plain text: a sample is a block of code lines (comments, blank lines and lines
ending in ``;``, ``{`` or ``}``) that follows a ``Samples`` heading, or the query shape that
follows "A query looks like this:". Re-extracting them in a test is what keeps
``sysjobs/samples/*.js`` verbatim: a file that drifts from the spec fails, whoever edits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sysjobs.cli.sample_pages import plain_samples

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "sys-jobs-api.txt"

#: File stem of each sample: (function heading, index of the sample under it).
NAMES: dict[tuple[str, int], str] = {
    ("findById", 0): "find_by_id",
    ("find", -1): "find_query_shape",
    ("find", 0): "find",
    ("logs", 0): "logs",
    ("logInfo", 0): "log_info",
    ("logError", 0): "log_error",
    ("waitForJob", 0): "wait_for_job",
    ("waitForJob", 1): "wait_for_job_finished_or_stopped",
    ("setLowPriority", 0): "set_low_priority",
    ("removeLowPriority", 0): "remove_low_priority",
    ("getCurrentJobId", 0): "get_current_job_id",
    ("getCurrentJob", 0): "get_current_job",
}

#: Samples beyond the spec (file stem -> function), each verbatim from the issue that added
#: the function: issue 20's ``waitForJobs`` and ``executeInJob`` (``docs/jobs-api.md``).
ISSUE_SAMPLES: dict[str, str] = {
    "wait_for_jobs": "waitForJobs",
    "execute_in_job": "executeInJob",
    "execute_in_job_without_step": "executeInJob",
}


@dataclass(frozen=True)
class SpecSample:
    """One sample: the function it documents, its position, and its exact text."""

    function: str
    index: int
    text: str

    @property
    def stem(self) -> str:
        return NAMES[(self.function, self.index)]


def extract(text: str) -> list[SpecSample]:
    """Every sample of the spec, in order of appearance (the runner's own plain-layout reader)."""
    return [SpecSample(s.function, s.index, s.text) for s in plain_samples(text)]
