"""The public surface of the package is deliberate: adding or removing a name is a decision."""

from __future__ import annotations

import sysjobs

EXPECTED = {
    "BadRequest", "Host", "JobType", "Limits", "Namespace", "NotFound", "Operation",
    "RunResult", "Sandbox", "SysError", "Timeout",
}


def test_package_exports_exactly_the_public_names() -> None:
    assert set(sysjobs.__all__) == EXPECTED


def test_every_exported_name_resolves() -> None:
    for name in sysjobs.__all__:
        assert getattr(sysjobs, name) is not None, name


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
