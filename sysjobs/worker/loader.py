"""Resolve ``"package.module:name"`` import paths (what worker processes are given).

Worker processes are fresh interpreters, not forks, so they cannot inherit objects: they
receive the import paths of the job-type setup, of the script-runner factory and of an
embedder's namespaces and job types, and build each after start, inside the child.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sysjobs.errors import BadRequest
from sysjobs.jobs import JobType
from sysjobs.runtime import Namespace

T = TypeVar("T")


def load(path: str) -> Callable[..., Any]:
    """The callable named by ``module:attribute``."""
    target = _resolve(path)
    if not callable(target):
        raise TypeError(f"{path} is not callable")
    return target  # type: ignore[no-any-return]


def _resolve(path: str) -> Any:
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected 'package.module:name', got {path!r}")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def load_object(path: object, expected: type[T], parameter: str) -> T:
    """The ``expected`` object that ``module:name`` names: the attribute itself, or what
    calling it without arguments returns (a factory).

    Anything else — not a string, no such module or attribute, a factory that fails or
    returns something else — is a ``badRequest`` naming ``parameter`` and the value.
    """
    kind = expected.__name__
    allowed = f"Allowed values: 'package.module:name' naming a {kind} or a function returning one"
    if not isinstance(path, str):
        raise BadRequest(f"Invalid value of type {type(path).__name__} for parameter "
                         f"'{parameter}': expected an import path. {allowed}")  # fmt: skip
    shown = _shown(path)
    try:
        found = _resolve(path)
        value = found if isinstance(found, expected) or not callable(found) else found()
    except Exception as exc:  # the embedder's module: any failure is a wrong path
        why = _escaped(f"{type(exc).__name__}: {exc}")
        raise BadRequest(f"Invalid value {shown} for parameter '{parameter}' ({why}). {allowed}",
                         info={"parameter": parameter}) from exc  # fmt: skip
    if not isinstance(value, expected):
        got = type(value).__name__
        raise BadRequest(f"Invalid value {shown} for parameter '{parameter}': it names a "
                         f"{got}, not a {kind}. {allowed}")  # fmt: skip
    return value


def _shown(text: str) -> str:
    """``text`` quoted for a message (see :func:`_escaped`)."""
    return f"'{_escaped(text)}'"


def _escaped(text: str, limit: int = 200) -> str:
    """``text`` for a message: cut at ``limit`` characters, non-ASCII escaped (so a lone
    surrogate never reaches an encoder)."""
    cut = text if len(text) <= limit else text[:limit] + "..."
    return cut.encode("ascii", "backslashreplace").decode("ascii")


@dataclass(frozen=True)
class Extensions:
    """An embedder's namespaces and job types, resolved, with the import paths they came
    from: worker processes rebuild them from those paths."""

    namespaces: tuple[Namespace, ...] = ()
    job_types: tuple[JobType, ...] = ()
    namespace_paths: tuple[str, ...] = ()
    job_type_paths: tuple[str, ...] = ()
    #: ``namespaces: greeter`` … for each one given as an object (no path to rebuild it).
    objects: tuple[str, ...] = ()

    @classmethod
    def of(cls, namespaces: Sequence[Namespace | str], job_types: Sequence[JobType | str]
           ) -> Extensions:  # fmt: skip
        """Resolve every import path now, so a wrong one fails here, in the host."""
        ns = [_given(n, Namespace, "namespaces") for n in namespaces]
        types = [_given(t, JobType, "job_types") for t in job_types]
        return cls(
            namespaces=tuple(value for value, _ in ns),
            job_types=tuple(value for value, _ in types),
            namespace_paths=tuple(path for _, path in ns if path),
            job_type_paths=tuple(path for _, path in types if path),
            objects=tuple(f"namespaces: {v.name}" for v, path in ns if not path)
            + tuple(f"job_types: {v.name}" for v, path in types if not path),
        )

    def require_importable(self, hint: str) -> None:
        """``badRequest`` when one of them was given as an object (workers in processes)."""
        if self.objects:
            given = "; ".join(self.objects)
            raise BadRequest(
                f"Invalid value for parameter '{self.objects[0].split(':')[0]}': worker "
                f"processes build namespaces and job types from import paths, and these were "
                f"given as objects ({given}). Allowed values: 'package.module:name' naming the "
                f"object or a function returning it, {hint}",
                info={"parameter": self.objects[0].split(":")[0]},
            )


def _given(value: T | str, expected: type[T], parameter: str) -> tuple[T, str | None]:
    """``(object, its import path or None)`` for one item of ``parameter``."""
    if isinstance(value, expected):
        return value, None
    return load_object(value, expected, parameter), str(value)
