"""The ``sys`` API: one module per namespace (a JS prelude + pydantic-validated handlers)."""

from __future__ import annotations

from sysjobs.bindings.commons import commons_namespace
from sysjobs.bindings.exceptions import exceptions_namespace
from sysjobs.bindings.log import log_namespace
from sysjobs.runtime.namespace import Namespace


def core_namespaces() -> list[Namespace]:
    """The namespaces every sandbox has, in bootstrap order (later ones may use earlier)."""
    return [exceptions_namespace(), commons_namespace(), log_namespace()]


__all__ = ["core_namespaces"]
