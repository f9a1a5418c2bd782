"""pytest plugin: your docs' JavaScript samples as test items.

Registered through the ``pytest11`` entry point, so installing sysjobs is enough::

    pytest --sysjobs-samples docs/ --sysjobs-samples docs/guide.md

or, in the ini file (``[tool.pytest.ini_options]`` of ``pyproject.toml``)::

    sysjobs_samples = ["docs/", "docs/guide.md"]
    sysjobs_samples_app = "myapp/"

Each path is what ``sysjobs samples run`` takes (a folder of ``.js`` samples, a ``.js``
file, a Markdown/text page) and each run of each sample becomes one item, judged exactly as
``sysjobs samples run`` judges it. The items share one host: the app (``--sysjobs-app``, the
demo app by default) on one database (``--sysjobs-db``, by default a fresh SQLite file)
with in-process workers, opened at the first sample and closed when the session ends.

When neither the option nor the ini key is set the plugin adds nothing and imports nothing
of sysjobs, so a suite that does not use it runs exactly as before.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sysjobs.cli.demo_host import DemoHost
    from sysjobs.cli.sample_checks import SampleRun
    from sysjobs.cli.sample_runner import Report

_HOST = pytest.StashKey["_SharedHost"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sysjobs", "sysjobs documentation samples")
    group.addoption(
        "--sysjobs-samples", action="append", default=[], metavar="PATH",
        help="Collect the JavaScript samples of PATH (a folder of .js samples, a .js file, "
        "or a Markdown/text page) as tests; repeatable.",
    )
    group.addoption(
        "--sysjobs-app", default=None, metavar="DIR",
        help="App folder the samples run against (default: the demo app).",
    )
    group.addoption(
        "--sysjobs-db", default=None, metavar="URL",
        help="Database URL for the samples (default: a fresh SQLite file).",
    )
    parser.addini("sysjobs_samples", "Sample paths collected as tests.", type="paths")
    parser.addini("sysjobs_samples_app", "App folder the samples run against.", default="")


def _sample_paths(config: pytest.Config) -> list[Path]:
    given = [Path(p) for p in config.getoption("sysjobs_samples")]
    if given:
        return [p if p.is_absolute() else config.invocation_params.dir / p for p in given]
    return [Path(p) for p in config.getini("sysjobs_samples")]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the samples' items (first, so ``-k`` and ``-m`` select among them too)."""
    paths = _sample_paths(config)
    if not paths:
        return
    for path in paths:
        items.extend(SamplesFile.from_parent(session, path=path).collect())


class SamplesFile(pytest.File):
    """One path given to the plugin; its items are the runs of its samples."""

    def collect(self) -> Iterator[pytest.Item]:
        from sysjobs.cli.sample_sources import SampleSourceError, discover

        try:
            runs = discover([self.path])
        except SampleSourceError as exc:
            raise pytest.UsageError(f"sysjobs samples: {exc.message}") from None
        for run in runs:
            yield SampleItem.from_parent(self, name=run.id, run=run)


class SampleFailed(Exception):
    """A run that did not do what its sample says; carries the runner's report."""

    def __init__(self, report: Report) -> None:
        super().__init__("\n".join(report.problems))
        self.report = report


class SampleItem(pytest.Item):
    """One run of one sample."""

    def __init__(self, *, run: SampleRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run

    def runtest(self) -> None:
        from sysjobs.cli.sample_runner import judge

        report = judge(self.run, _shared_host(self.config))
        if not report.ok:
            raise SampleFailed(report)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, SampleFailed):
            return failure_text(excinfo.value.report)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, _line_of(self.run.origin), f"sample {self.run.id}"


def _line_of(origin: str) -> int | None:
    head, _, tail = origin.rpartition(":")
    return int(tail) - 1 if head and tail.isdigit() else None


def failure_text(report: Report) -> str:
    """What went wrong, then the log lines expected (regexes) beside the ones printed."""
    run = report.run
    lines = [f"sample {run.id} ({run.origin}) did not do what it says:"]
    lines += [f"  - {problem}" for problem in report.problems]
    if report.error:
        lines.append(f"script error: {report.error}")
    patterns = run.expect.get("log")
    if isinstance(patterns, list):
        lines.append("log lines, expected (regex) | printed:")
        lines += _log_diff([str(p) for p in patterns], report.logs)
    elif report.logs:
        lines.append("printed:")
        lines += [f"    {line!r}" for line in report.logs]
    return "\n".join(lines)


def _log_diff(patterns: Sequence[str], logs: Sequence[str]) -> list[str]:
    width = max([len(repr(p)) for p in patterns] + [8])
    out = []
    for i in range(max(len(patterns), len(logs))):
        pattern = patterns[i] if i < len(patterns) else None
        line = logs[i] if i < len(logs) else None
        mark = "✓" if pattern is not None and line is not None and _matches(pattern, line) else "✗"
        left = repr(pattern) if pattern is not None else "(none)"
        right = repr(line) if line is not None else "(none)"
        out.append(f"  {mark} {left:<{width}} | {right}")
    return out


def _matches(pattern: str, line: str) -> bool:
    try:
        return re.search(pattern, line) is not None
    except re.error:  # a pattern with placeholders such as {created[0].label}
        return False


class _SharedHost:
    """The one host every sample item of the session runs on, opened on first use."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._stack = ExitStack()
        self.host: DemoHost | None = None

    def get(self) -> DemoHost:
        if self.host is None:
            from sysjobs.cli.demo_host import open_demo_host
            from sysjobs.errors import SysError

            url = self._config.getoption("sysjobs_db") or self._fresh_sqlite()
            try:
                self.host = self._stack.enter_context(open_demo_host(url, app_dir=self._app()))
            except SysError as exc:  # a bad --sysjobs-app or --sysjobs-db: one clear line
                pytest.fail(f"sysjobs samples: cannot open the host: {exc.message}", False)
        return self.host

    def _app(self) -> Path | None:
        given = self._config.getoption("sysjobs_app") or self._config.getini("sysjobs_samples_app")
        if not given:
            return None
        path = Path(given)
        base = self._config.invocation_params.dir
        if self._config.getoption("sysjobs_app") is None and self._config.inipath is not None:
            base = self._config.inipath.parent
        return path if path.is_absolute() else base / path

    def _fresh_sqlite(self) -> str:
        folder = tempfile.mkdtemp(prefix="sysjobs-samples-")
        self._stack.callback(shutil.rmtree, folder, ignore_errors=True)
        return f"sqlite:///{Path(folder) / 'samples.db'}"

    def close(self) -> None:
        self._stack.close()


def _shared_host(config: pytest.Config) -> DemoHost:
    shared = config.stash.get(_HOST, None)
    if shared is None:
        shared = _SharedHost(config)
        config.stash[_HOST] = shared
        config.add_cleanup(shared.close)
    return shared.get()
