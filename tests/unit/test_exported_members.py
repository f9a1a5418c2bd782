"""The public surface of the package is deliberate: adding or removing a name is a decision."""

from __future__ import annotations

import sysjobs

# Widened deliberately (issue 21): what an embedder's own code names in type hints —
# operation and job handler contexts, a run's outcome and error, the Host's settings.
EXPECTED = {
    "BadRequest", "CallContext", "EngineSettings", "Governance", "Host", "Job", "JobContext",
    "JobType", "Limits", "Namespace", "NotFound", "Operation", "Outcome", "RunResult",
    "Sandbox", "ScriptError", "SysError", "Timeout",
}


def test_package_exports_exactly_the_public_names() -> None:
    assert set(sysjobs.__all__) == EXPECTED


def test_every_exported_name_resolves() -> None:
    for name in sysjobs.__all__:
        assert getattr(sysjobs, name) is not None, name


def test_exported_names_are_the_classes_the_host_hands_out() -> None:
    from sysjobs.runtime import Outcome, RunResult, ScriptError

    assert sysjobs.Outcome is Outcome and sysjobs.ScriptError is ScriptError
    assert sysjobs.RunResult is RunResult
    assert {"BadRequest", "NotFound", "SysError", "Timeout"} <= set(dir(sysjobs))


def test_the_package_is_typed_and_licensed() -> None:
    from pathlib import Path

    package = Path(sysjobs.__file__).parent
    assert (package / "py.typed").exists()
    assert (package.parent / "LICENSE").read_text().startswith("MIT License")


def test_error_codes_table_covers_every_error_class() -> None:
    from sysjobs import errors

    classes = {
        obj for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, errors.SysError) and obj is not errors.SysError
    }
    for cls in classes:
        assert errors.code_of(cls()) in errors.ERROR_CODES.values(), cls
    documented = {"badRequest", "notFound", "timeout", "validationErrors", "forbidden",
                  "optimisticLocking", "systemException", "unknown", "limitExceeded"}
    assert set(errors.ERROR_CODES.values()) == documented
    assert set(errors.CODE_CONSTANTS.values()) == documented
