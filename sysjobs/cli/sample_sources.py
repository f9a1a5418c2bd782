"""Turn the paths a user names into sample runs, each with what it must do.

A path is a folder of ``*.js`` samples, one ``.js`` file, or a page (Markdown or text) whose
samples :mod:`sysjobs.cli.sample_pages` finds. What a sample must do comes from, in order:

1. its sidecar ``NAME.expected.yaml`` beside ``NAME.js`` (:mod:`sysjobs.cli.sample_schema`);
2. else the expectation comments inside it (:mod:`sysjobs.cli.sample_comments`);
3. else only that it runs without an uncaught error.

Anything unreadable is a :class:`SampleSourceError` (a ``badRequest``) that names the file,
and the line or the sidecar key — never a traceback: a typo must not check nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sysjobs.cli.sample_checks import SampleRun
from sysjobs.cli.sample_comments import SampleSourceError, has_directives, parse_directives
from sysjobs.cli.sample_pages import page_samples
from sysjobs.cli.sample_schema import validate_sidecar

SIDECAR_SUFFIX = ".expected.yaml"
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
#: The run name of a sample judged by its comments, or by "no uncaught error" alone.
COMMENTED = "as commented"
UNCAUGHT_ONLY = "runs without an uncaught error"


def discover(paths: Iterable[Path]) -> list[SampleRun]:
    """Every run of every sample under ``paths``, in the order given (folders sorted)."""
    runs: list[SampleRun] = []
    for path in paths:
        runs += _runs_of_path(Path(path))
    return runs


def _runs_of_path(path: Path) -> list[SampleRun]:
    if path.is_dir():
        return _runs_of_folder(path)
    if not path.is_file():
        raise SampleSourceError(f"{path}: no such file or folder (give a folder of .js samples, "
                                "a .js file, or a Markdown/text page)")
    if path.name.endswith(SIDECAR_SUFFIX):
        return _runs_of_script(_script_of(path))
    if path.suffix == ".js":
        return _runs_of_script(path)
    return _runs_of_page(path)


def _runs_of_folder(folder: Path) -> list[SampleRun]:
    scripts = sorted(folder.glob("*.js"))
    orphans = sorted(
        p for p in folder.glob(f"*{SIDECAR_SUFFIX}") if not _script_for(p).exists()
    )
    if orphans:
        raise SampleSourceError(
            f"{orphans[0]}: a sidecar without its sample (expected {_script_for(orphans[0])})"
        )
    if not scripts:
        raise SampleSourceError(f"{folder}: no .js samples in this folder")
    runs: list[SampleRun] = []
    for script in scripts:
        runs += _runs_of_script(script)
    return runs


def _script_for(sidecar: Path) -> Path:
    return sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)] + ".js")


def _script_of(sidecar: Path) -> Path:
    script = _script_for(sidecar)
    if not script.is_file():
        raise SampleSourceError(f"{sidecar}: a sidecar without its sample (expected {script})")
    return script


def _runs_of_script(script: Path) -> list[SampleRun]:
    source = _read(script)
    sidecar = script.with_name(script.stem + SIDECAR_SUFFIX)
    if sidecar.exists():
        return _runs_of_sidecar(script, source, sidecar)
    return [_commented_run(script.stem, source, script, None)]


def _runs_of_page(page: Path) -> list[SampleRun]:
    text = _read(page)
    samples = page_samples(text, markdown=page.suffix.lower() in MARKDOWN_SUFFIXES)
    if not samples:
        raise SampleSourceError(
            f"{page}: no samples in this page (```js fences, or the contract's 'Samples' blocks)"
        )
    return [
        _commented_run(f"{page.name}:{s.line}", s.text, page, s.line)
        for s in samples
    ]


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8-sig")  # a BOM is not part of the first line
    except UnicodeDecodeError as exc:
        raise SampleSourceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SampleSourceError(f"{path}: cannot be read ({exc.strerror})") from None


def _runs_of_sidecar(script: Path, source: str, sidecar: Path) -> list[SampleRun]:
    if has_directives(source):
        raise SampleSourceError(
            f"{script}: has both a sidecar ({sidecar.name}) and expectation comments; keep one"
        )
    raw = _load_yaml(sidecar)
    try:
        spec = validate_sidecar(raw)
    except ValidationError as exc:
        raise SampleSourceError(f"{sidecar}: {_describe(exc)}") from None
    return [
        SampleRun(
            sample=script.stem,
            name=run["name"],
            source=source,
            in_job=bool(run.get("in_job", False)),
            workers=bool(run.get("workers", True)),
            timeout_s=float(run.get("timeout_s", 30.0)),
            given=(run.get("given") or {}).get("script"),
            expect=run.get("expect") or {},
            origin=str(script),
        )
        for run in spec["runs"]
    ]


def _load_yaml(sidecar: Path) -> Any:
    text = _read(sidecar)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SampleSourceError(f"{sidecar}: not valid YAML{where}: {problem}") from None


def _describe(exc: ValidationError) -> str:
    """Pydantic's errors as ``runs.0.expcet: Extra inputs are not permitted; …``."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "the document"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _commented_run(sample: str, source: str, file: Path, line: int | None) -> SampleRun:
    """A sample without a sidecar; ``line`` is where it starts in its page (None: a .js)."""
    found = parse_directives(source, origin=str(file), first_line=line or 1)
    expect = dict(found.expect)
    if found.logs:
        expect["log"] = list(found.logs)
    return SampleRun(
        sample=sample,
        name=COMMENTED if found.seen else UNCAUGHT_ONLY,
        source=source,
        in_job=found.in_job,
        workers=found.workers,
        timeout_s=found.timeout_s,
        expect=expect,
        origin=str(file) if line is None else f"{file}:{line}",
    )


__all__ = ["COMMENTED", "UNCAUGHT_ONLY", "SampleSourceError", "discover"]
