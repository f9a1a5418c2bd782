"""Find the JavaScript samples printed in a page: Markdown fences or the contract's plain layout.

Two layouts, because docs come in both:

- Markdown: every fenced block whose info string starts with ``js`` or ``javascript``
  (```` ``` ```` or ``~~~`` fences, any length; other languages are prose, not samples).
- Plain text, as the API contract is written: a block of code lines (comments, blank lines
  and lines ending in ``;``, ``{`` or ``}``) after a line reading ``Samples``, split into
  one sample per leading comment; or the object after a line ending in
  ``A query looks like this:`` (a fragment). The function a sample belongs to is the nearest
  heading above it that looks like a signature, ``find(query)``.

The plain layout is how ``sysjobs/samples/*.js`` were extracted from the contract, and the
test that keeps them verbatim uses this very module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_JS_INFO = frozenset({"js", "javascript"})
_HEADING = re.compile(r"^(\w+)\([\w, ]*\)$")
_INTRO = "A query looks like this:"


@dataclass(frozen=True)
class PageSample:
    """One sample of a page: its text (ending in one newline) and where it starts."""

    text: str
    #: 1-based line of the sample's first line in the page.
    line: int
    #: The signature heading it sits under (plain layout), else "".
    function: str = ""
    #: Its position under that heading; -1 for a query-shape fragment.
    index: int = 0


def fenced_samples(text: str) -> list[PageSample]:
    """The ``js``/``javascript`` fenced blocks of a Markdown page, in order."""
    lines = text.split("\n")
    found: list[PageSample] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening.group("fence")
        end = _closing(lines, i + 1, fence)
        info = opening.group("info").strip().split()
        if info and info[0].lower() in _JS_INFO:
            indent = len(opening.group("indent"))
            body = [_dedent(line, indent) for line in lines[i + 1 : end]]
            found.append(PageSample("\n".join(body) + "\n", line=i + 2))
        i = end + 1
    return found


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing ``fence`` (the page's end when it is never closed)."""
    for j in range(start, len(lines)):
        stripped = lines[j].strip()
        if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
            return j
    return len(lines)


def _dedent(line: str, indent: int) -> str:
    return line[min(indent, len(line) - len(line.lstrip(" "))) :]


def plain_samples(text: str) -> list[PageSample]:
    """The samples of a page in the contract's plain layout, in order of appearance."""
    lines = text.split("\n")
    found: list[PageSample] = []
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
                found += [
                    PageSample("\n".join(part) + "\n", j + offset + 1, function, k)
                    for k, (offset, part) in enumerate(_split(block))
                ]
            elif block:
                found.append(PageSample("\n".join(block) + "\n", j + 1, function, -1))
            continue
        i += 1
    return found


def page_samples(text: str, *, markdown: bool) -> list[PageSample]:
    """A Markdown page's fenced samples; a text page's fenced ones, else its plain ones."""
    fenced = fenced_samples(text)
    if markdown or fenced:
        return fenced
    return plain_samples(text)


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


def _split(block: list[str]) -> list[tuple[int, list[str]]]:
    """Several samples under one heading: each starts with a comment after a blank line.

    Each comes with its offset in ``block``.
    """
    out: list[tuple[int, list[str]]] = []
    for i, line in enumerate(block):
        starts = line.startswith("//") and (i == 0 or not block[i - 1].strip())
        if starts or not out:
            out.append((i, []))
        out[-1][1].append(line)
    for _, sample in out:
        while sample and not sample[-1].strip():
            sample.pop()
    return [(offset, sample) for offset, sample in out if sample]
