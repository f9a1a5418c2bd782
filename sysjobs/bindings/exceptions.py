"""``sys.exceptions``: error codes, ``getCode``/``getMessage``, ``ScriptException``.

All of it is JavaScript (the brand map that makes codes unforgeable lives in the
bootstrap); Python only supplies the code constants from the one table in
:mod:`sysjobs.errors`.
"""

from __future__ import annotations

import json
from importlib import resources

from sysjobs.errors import CODE_CONSTANTS
from sysjobs.runtime.namespace import Namespace

_PRELUDE = resources.files("sysjobs.bindings").joinpath("exceptions.js").read_text("utf-8")


def exceptions_namespace() -> Namespace:
    """The ``sys.exceptions`` namespace."""
    prelude = _PRELUDE.replace("__CONSTANTS__", json.dumps(CODE_CONSTANTS))
    return Namespace(name="exceptions", prelude=prelude)
