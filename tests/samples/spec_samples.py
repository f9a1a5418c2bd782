"""Extract the JavaScript samples printed in the spec, exactly as printed.

The spec is plain text: a sample is a block of code lines (comments, blank lines and lines
ending in ``;``, ``{`` or ``}``) that follows a ``Samples`` heading, or the query shape that
follows "A query looks like this:". Re-extracting them in a test is what keeps
``jsdocs_samples/*.js`` verbatim: a file that drifts from the spec fails, whoever edits it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "sys-jobs-api.txt"

_HEADING = re.compile(r"^(\w+)\([\w, ]*\)$")
_INTRO = "A query looks like this:"
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


@dataclass(frozen=True)
class SpecSample:
    """One sample: the function it documents, its position, and its exact text."""

    function: str
    index: int
    text: str

    @property
    def stem(self) -> str:
        return NAMES[(self.function, self.index)]


def _is_code(line: str) -> bool:
    s = line.rstrip()
    return s == "" or s.startswith("//") or s.endswith((";", "{", "}"))


def _block(lines: list[str], start: int) -> tuple[list[str], int]:
    """Code lines from ``start`` on, without trailing blank lines; and where it ended."""
    end = start
    while end < len(lines) and _is_code(lines[end]):
        end += 1
    block = lines[start:end]
    while block and not block[-1].strip():
        block.pop()
    return block, end


def _split(block: list[str]) -> list[list[str]]:
    """Several samples under one heading: each starts with a comment after a blank line."""
    out: list[list[str]] = []
    for i, line in enumerate(block):
        if line.startswith("//") and (i == 0 or not block[i - 1].strip()):
            out.append([])
        out[-1].append(line)
    for sample in out:
        while not sample[-1].strip():
            sample.pop()
    return out


def extract(text: str) -> list[SpecSample]:
    """Every sample of the spec, in order of appearance."""
    lines = text.split("\n")
    found: list[SpecSample] = []
    function = ""
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if _HEADING.match(line):
            function = line.split("(", 1)[0]
        if line == "Samples" or line.endswith(_INTRO):
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            block, i = _block(lines, j)
            if line == "Samples":
                parts = _split(block)
                found += [SpecSample(function, k, "\n".join(p) + "\n") for k, p in enumerate(parts)]
            else:
                found.append(SpecSample(function, -1, "\n".join(block) + "\n"))
            continue
        i += 1
    return found
