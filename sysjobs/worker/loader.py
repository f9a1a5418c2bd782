"""Resolve ``"package.module:function"`` import paths (hooks given to worker processes).

Worker processes are spawned, not forked, so they cannot inherit objects: they receive the
import path of the job-type setup and of the script-runner factory, and build both after
start, inside the child.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def load(path: str) -> Callable[..., Any]:
    """The callable named by ``module:attribute``."""
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected 'package.module:function', got {path!r}")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{path} is not callable")
    return target  # type: ignore[no-any-return]
