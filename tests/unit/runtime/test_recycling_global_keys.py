"""The proof of a recycled context reads the global object's keys once.

``reset()`` deletes the globals a script declared, then compares the global object with
its record. When it deleted none, the keys it read to find them are the ones compared
(nothing runs in between that could change them); when it deleted some, the keys are read
again. Each case tampers with the global object's keys — alone, or together with globals
to delete — and the next script must get a context as the bootstrap left it.
"""

from __future__ import annotations

import pytest

from sysjobs.runtime import Outcome, Sandbox

#: Puts a built-in global back as it was, but last among the keys: only the order differs.
_JSON_LAST = (
    "const J = JSON; delete globalThis.JSON; Object.defineProperty(globalThis, 'JSON', "
    "{value: J, writable: true, enumerable: false, configurable: true});"
)

TAMPERINGS = {
    "order only": _JSON_LAST,
    "order, and globals to delete": "var fresh = 1; globalThis.other = 2; " + _JSON_LAST,
    "globals to delete, then the order": _JSON_LAST + " var fresh = 1;",
    "a built-in removed": "delete globalThis.Math;",
    "a built-in removed, and globals to delete": "var fresh = 1; delete globalThis.Math;",
    "a global that cannot be deleted": (
        "Object.defineProperty(globalThis, 'kept', {value: 1, configurable: false});"
    ),
    "a deletable global with a built-in's name put back as data": (
        "delete globalThis.Map; globalThis.Map = 'secret';"
    ),
    "a symbol-keyed global that cannot be deleted": (
        "Object.defineProperty(globalThis, Symbol.for('kept'), {value: 1});"
    ),
}

PROBE = (
    "[Object.getOwnPropertyNames(globalThis).indexOf('JSON') < "
    "Object.getOwnPropertyNames(globalThis).indexOf('sys'), typeof Math, typeof Map, "
    "typeof fresh, typeof kept, typeof other, globalThis[Symbol.for('kept')]]"
)
CLEAN = [True, "object", "function", "undefined", "undefined", "undefined", None]


def test_the_probe_sees_a_fresh_realm_in_a_fresh_context(sandbox: Sandbox) -> None:
    assert sandbox.run(PROBE).value == CLEAN


@pytest.mark.parametrize("script", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_a_script_that_tampers_with_the_global_object_s_keys_sends_its_context_away(
    sandbox: Sandbox, script: str
) -> None:
    assert sandbox.run(script + " 1").outcome is Outcome.OK
    assert sandbox.run(PROBE).value == CLEAN
    assert sandbox.counts["rejected"] == 1
    assert sandbox.counts["built"] == 2, "the probe ran in a new context"


@pytest.mark.parametrize(
    "script",
    ["1", "var fresh = 1; 1", "globalThis.other = 2; var fresh = 1; 1",
     "for (var i = 0; i < 300; i++) globalThis['g' + i] = i; 1"],
)  # fmt: skip
def test_globals_a_script_declared_are_deleted_and_the_context_is_reused(
    sandbox: Sandbox, script: str
) -> None:
    assert sandbox.run(script).outcome is Outcome.OK
    assert sandbox.run(PROBE).value == CLEAN
    assert sandbox.counts == {"built": 1, "reused": 1, "rejected": 0}


def test_the_proof_holds_run_after_run_on_one_context(sandbox: Sandbox) -> None:
    """Many proofs in a row (the shortcut's path each time), then one tampering."""
    for i in range(50):
        assert sandbox.run(f"var fresh{i} = {i}; {i}").value == i
    assert sandbox.run(_JSON_LAST + " 1").outcome is Outcome.OK
    assert sandbox.run(PROBE).value == CLEAN
    # the recycled context was taken 51 times: 50 proofs passed, the last one failed
    assert sandbox.counts == {"built": 2, "reused": 51, "rejected": 1}
