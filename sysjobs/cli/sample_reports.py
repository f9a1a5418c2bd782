"""The verdicts of a samples run as JUnit XML (for CI dashboards) and JSON (for scripts).

Both carry the same facts per run: its id, where the sample comes from, pass or fail, the
problems, the error and the log lines it printed. Log lines are whatever a script printed,
so text that XML 1.0 cannot hold (NUL, other control characters, lone surrogates) is
written as ``\\xNN``/``\\uNNNN`` escapes instead of producing a file no parser reads.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from sysjobs.cli.sample_runner import Report

#: Characters XML 1.0 does not allow, lone surrogates included.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _NOT_XML.sub(escape, text)


def junit_xml(reports: Sequence[Report], *, suite: str) -> str:
    """One ``<testsuite>`` with a ``<testcase>`` per run; a failing run has a ``<failure>``."""
    failures = sum(not r.ok for r in reports)
    total_s = sum(r.ms for r in reports) / 1000
    root = ET.Element("testsuites", name=suite, tests=str(len(reports)),
                      failures=str(failures), errors="0", time=f"{total_s:.3f}")
    tests = ET.SubElement(root, "testsuite", name=suite, tests=str(len(reports)),
                          failures=str(failures), errors="0", skipped="0", time=f"{total_s:.3f}")
    for report in reports:
        case = ET.SubElement(
            tests, "testcase",
            classname=_xml_text(report.run.origin or report.run.sample),
            name=_xml_text(report.run.id), time=f"{report.ms / 1000:.3f}",
        )
        if not report.ok:
            failure = ET.SubElement(case, "failure", message=_xml_text(report.problems[0]))
            failure.text = _xml_text("\n".join(report.problems))
        output = [*report.logs, *([f"error: {report.error}"] if report.error else [])]
        if output:
            ET.SubElement(case, "system-out").text = _xml_text("\n".join(output))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def json_report(reports: Sequence[Report]) -> dict[str, Any]:
    """``{"passed", "failed", "runs": [...]}``: one entry per run, in the order run."""
    failed = sum(not r.ok for r in reports)
    return {
        "passed": len(reports) - failed,
        "failed": failed,
        "runs": [
            {
                "id": r.run.id,
                "sample": r.run.sample,
                "run": r.run.name,
                "origin": r.run.origin,
                "ok": r.ok,
                "ms": r.ms,
                "problems": list(r.problems),
                "error": r.error,
                "logs": list(r.logs),
            }
            for r in reports
        ],
    }
