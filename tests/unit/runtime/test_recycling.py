"""Recycled contexts: a script never sees what an earlier script put into the realm.

After a session, ``reset()`` deletes the globals its scripts declared and proves the rest
of the realm is as the bootstrap left it; a context that fails the proof is closed and the
next script gets a new one. Each case runs a script, then a probe in the next context the
sandbox hands out, and checks both what the probe saw and what happened to the context.
"""

from __future__ import annotations

import pytest

from sysjobs.runtime import Outcome, Sandbox


def _reused(sandbox: Sandbox) -> int:
    return sandbox.counts["reused"]


def test_a_clean_context_serves_the_next_script(sandbox: Sandbox) -> None:
    assert sandbox.run("1").value == 1
    assert sandbox.run("2").value == 2
    assert sandbox.counts == {"built": 1, "reused": 1, "rejected": 0}


@pytest.mark.parametrize(
    "script",
    [
        "var leaked = 'secret'; 1",
        "function leaked() { return 'secret'; } 1",
        "leaked = 'secret'; 1",  # sloppy-mode implicit global
        "globalThis.leaked = 'secret'; 1",
        "Object.defineProperty(globalThis, 'leaked', {value: 'secret', configurable: true}); 1",
        "globalThis[Symbol.for('leaked')] = 'secret'; 1",
        "for (var i = 0; i < 300; i++) globalThis['g' + i] = i; var leaked = 'secret'; 1",
    ],
)
def test_globals_a_script_declared_are_gone_in_the_next_script(
    sandbox: Sandbox, script: str
) -> None:
    assert sandbox.run(script).outcome is Outcome.OK
    probe = sandbox.run("[typeof leaked, typeof globalThis[Symbol.for('leaked')]]")
    assert probe.value == ["undefined", "undefined"]
    assert _reused(sandbox) == 1, "a deletable global does not cost a new context"


def test_top_level_let_const_and_class_can_be_declared_again(sandbox: Sandbox) -> None:
    script = "const a = 1; let b = 2; class C {} a + b"
    assert sandbox.run(script).value == 3
    assert sandbox.run(script).value == 3
    assert _reused(sandbox) == 1


POLLUTIONS = {
    "Object.prototype property": "Object.prototype.leaked = 'secret'",
    "replaced built-in method": "Array.prototype.map = function () { return 'secret'; }",
    "JSON.stringify wrapped": "const s = JSON.stringify; JSON.stringify = (v) => s(v) + 'secret'",
    "toJSON on Object.prototype": "Object.prototype.toJSON = function () { return 'secret'; }",
    "stack trace hook": "Error.prepareStackTrace = () => 'secret'",
    "stack trace limit": "Error.stackTraceLimit = 0",
    "non-deletable global": "Object.defineProperty(globalThis, 'leaked', {value: 'secret'})",
    "global prototype swapped": "Object.setPrototypeOf(globalThis, {leaked: 'secret'})",
    "frozen intrinsic": "Object.freeze(Math)",
    "removed built-in": "delete globalThis.JSON",
    "built-in global put back last": (
        "const J = JSON; delete globalThis.JSON; Object.defineProperty(globalThis, 'JSON', "
        "{value: J, writable: true, enumerable: false, configurable: true})"
    ),
    "getter installed": "Object.defineProperty(Array.prototype, 'leaked', {get() { return 'secret'; }})",
    "index getter on arrays": (
        "Object.defineProperty(Array.prototype, '2', {get() { globalThis.leaked = 'secret'; "
        "return 'secret'; }, configurable: true})"
    ),
    "iterator prototype": "Object.getPrototypeOf([][Symbol.iterator]()).leaked = 'secret'",
    "generator prototype": "Object.getPrototypeOf(function* () {}).leaked = 'secret'",
    "promise then replaced": "Promise.prototype.then = function () { return 'secret'; }",
}

PROBE = """
JSON.stringify([
  ({}).leaked, [].leaked, typeof leaked, Math.max(1, 2), [1].map((x) => x + 1),
  Object.isFrozen(Math), typeof JSON, Error.stackTraceLimit, typeof Error.prepareStackTrace,
  Object.getPrototypeOf([][Symbol.iterator]()).leaked,
  Object.getPrototypeOf(function* () {}).leaked, typeof Promise.prototype.then,
])
"""
CLEAN = '[null,null,"undefined",2,[2],false,"object",10,"function",null,null,"function"]'


@pytest.mark.parametrize("script", POLLUTIONS.values(), ids=POLLUTIONS.keys())
def test_a_polluted_realm_is_never_handed_to_the_next_script(
    sandbox: Sandbox, script: str
) -> None:
    assert sandbox.run(script + "; 1").outcome is Outcome.OK
    assert sandbox.run(PROBE).value == CLEAN
    assert sandbox.counts["rejected"] == 1
    assert sandbox.counts["built"] == 2, "the probe ran in a new context"


def test_a_pollution_still_works_within_its_own_script(sandbox: Sandbox) -> None:
    """Prototypes stay writable, as in V8: a script may polyfill for itself."""
    result = sandbox.run("Array.prototype.second = function () { return this[1]; }; [1, 2].second()")
    assert result.value == 2


def test_the_last_regexp_match_is_not_visible_to_the_next_script(sandbox: Sandbox) -> None:
    sandbox.run("/(s.cret)/.exec('the secret'); RegExp.input = 'the secret'; 1")
    assert sandbox.run("[RegExp.$1, RegExp.input, RegExp.lastMatch]").value == ["", "", ""]
    assert _reused(sandbox) == 1


def test_built_in_functions_that_are_not_constructors_are_frozen(sandbox: Sandbox) -> None:
    script = "'use strict'; try { Math.max.leaked = 1; 'written' } catch (e) { e.name }"
    assert sandbox.run(script).value == "TypeError"
    assert sandbox.run("Object.isFrozen(Array.prototype.map) && !Object.isFrozen(Array)").value


def test_intl_and_temporal_are_frozen_whole_and_still_work(sandbox: Sandbox) -> None:
    """They are a third of the realm's properties, compared before every recycled run; a
    script uses them but cannot patch them (strict mode: TypeError)."""
    patch = "'use strict'; try { %s; 'written' } catch (e) { e.name }"
    for target in ("Intl.NumberFormat = null", "Intl.DateTimeFormat.prototype.leaked = 1",
                   "Intl.leaked = 1"):  # fmt: skip
        assert sandbox.run(patch % target).value == "TypeError", target
    formatted = sandbox.run(
        "[new Intl.NumberFormat('de-DE').format(1234.5), (1234.5).toLocaleString('en-US'),"
        " [...new Intl.Segmenter().segment('ab')].length]"
    )
    assert formatted.value == ["1.234,5", "1,234.5", 2]
    if sandbox.run("typeof Temporal").value == "object":
        assert sandbox.run(patch % "Temporal.Now = null").value == "TypeError"
        added = "Temporal.PlainDate.from('2026-11-25').add({days: 7}).toString()"
        assert sandbox.run(added).value == "2026-12-02"
    assert sandbox.counts["rejected"] == 0 and sandbox.counts["built"] == 1


@pytest.mark.parametrize(
    "target",
    [
        "Uint8Array.prototype.leaked = 1", "Object.getPrototypeOf(Uint8Array).from = null",
        "Object.getPrototypeOf(Uint8Array.prototype).at = null", "DataView.prototype.leaked = 1",
        "ArrayBuffer.isView = null", "Reflect.leaked = 1", "WeakMap.prototype.get = null",
        "WeakSet.leaked = 1", "BigInt.asIntN = null",
    ],
)
def test_binary_data_reflect_weak_collections_and_bigint_are_frozen_whole(
    sandbox: Sandbox, target: str
) -> None:
    """A quarter of what the proof compared before every recycled run: a script uses them
    but cannot patch them (strict mode: TypeError), and the context is still recycled."""
    patch = "'use strict'; try { %s; 'written' } catch (e) { e.name }"
    assert sandbox.run(patch % target).value == "TypeError"
    used = sandbox.run(
        "const b = new Uint8Array([1, 2, 3]); b.custom = 'own'; const w = new WeakMap();"
        " w.set(b, 1); [Array.from(b.map((x) => x * 2)), new DataView(b.buffer).getUint8(2),"
        " Reflect.ownKeys({a: 1}), w.get(b), String(BigInt.asUintN(8, 257n)), b.custom]"
    )
    assert used.value == [[2, 4, 6], 3, ["a"], 1, "1", "own"]
    assert sandbox.counts["rejected"] == 0 and sandbox.counts["built"] == 1


def test_an_instance_of_a_frozen_family_shadows_a_method_only_by_define_property(
    sandbox: Sandbox,
) -> None:
    """Assigning under an inherited non-writable name fails (the language's rule), as the
    README says; ``Object.defineProperty`` on the instance still works."""
    script = (
        "'use strict'; const b = new Uint8Array(2); let assigned;"
        " try { b.map = () => 'mine'; assigned = 'yes'; } catch (e) { assigned = e.name; }"
        " Object.defineProperty(b, 'map', {value: () => 'mine'}); [assigned, b.map()]"
    )
    assert sandbox.run(script).value == ["TypeError", "mine"]


def test_error_types_and_the_common_prototypes_stay_writable(sandbox: Sandbox) -> None:
    """What scripts do patch (a format method, a custom error name) still works."""
    script = (
        "'use strict'; String.prototype.shout = function () { return this.toUpperCase(); };"
        " Date.prototype.iso = function () { return this.toISOString(); };"
        " const e = new TypeError('x'); e.name = 'Custom';"
        " ['a'.shout(), new Date(0).iso(), e.name]"
    )
    assert sandbox.run(script).value == ["A", "1970-01-01T00:00:00.000Z", "Custom"]


def test_a_getter_on_a_descriptor_field_of_object_prototype_never_runs_in_the_proof(
    sandbox: Sandbox,
) -> None:
    """The proof reads descriptors' fields plainly; Object.prototype is compared (keys
    first) before any of them, so a getter named like a field never runs in the proof —
    where it would log into the next script's run and answer for a built-in that became
    an accessor."""
    script = (
        "const map = Array.prototype.map;"
        " for (const field of ['writable', 'value']) Object.defineProperty(Object.prototype,"
        " field, {__proto__: null, get() { log('ran in the proof'); return field === 'value' ? map : true; },"
        " configurable: true});"
        " Object.defineProperty(Array.prototype, 'map', {__proto__: null,"
        " get() { return map; }, configurable: true}); 1"
    )
    assert sandbox.run(script).value == 1
    probe = sandbox.run("[typeof Object.getOwnPropertyDescriptor(Array.prototype, 'map').value,"
                        " ({}).writable]")  # fmt: skip
    assert probe.value == ["function", None]
    assert probe.logs == []
    assert sandbox.counts["rejected"] == 1


@pytest.mark.parametrize(
    "script",
    [
        "Object.defineProperty(Array.prototype, 'map', {enumerable: true})",
        "Object.defineProperty(Array.prototype, 'map', {writable: false})",
        "Object.defineProperty(Object.prototype, '__proto__', {set: undefined})",
        "Object.defineProperty(Object.prototype, '__proto__', {enumerable: true})",
        "Object.defineProperty(Math, 'max', {value: Math.max, configurable: false})",
    ],
)
def test_a_changed_attribute_alone_is_caught(sandbox: Sandbox, script: str) -> None:
    """Same value or getter, different attributes: the context is still not recycled."""
    assert sandbox.run(script + "; 1").outcome is Outcome.OK
    assert sandbox.run("1").value == 1
    assert sandbox.counts["rejected"] == 1


@pytest.mark.parametrize(
    ("script", "outcome"),
    [
        ("while (true) {}", Outcome.TIMEOUT),
        ("Promise.resolve().then(function loop() { return Promise.resolve().then(loop); }); 1",
         Outcome.TIMEOUT),
    ],
)  # fmt: skip
def test_a_context_that_hit_a_limit_is_closed(
    sandbox: Sandbox, script: str, outcome: Outcome
) -> None:
    assert sandbox.run(script, timeout_s=0.3).outcome is outcome
    assert sandbox.run("1").value == 1
    assert sandbox.counts["built"] == 2
    assert _reused(sandbox) == 0


def test_a_context_is_retired_after_its_run_budget(sandbox: Sandbox) -> None:
    small = Sandbox(sandbox.namespaces, sandbox.limits, pool_size=0, max_runs_per_isolate=3)
    try:
        for _ in range(7):
            assert small.run("1").value == 1
        assert small.counts["built"] == 3  # runs 1-3, 4-6, 7
    finally:
        small.close()


def test_recycling_can_be_turned_off(sandbox: Sandbox) -> None:
    fresh = Sandbox(sandbox.namespaces, sandbox.limits, pool_size=0, recycle=False)
    try:
        fresh.run("1")
        fresh.run("1")
        assert fresh.counts == {"built": 2, "reused": 0, "rejected": 0}
    finally:
        fresh.close()


def test_runs_of_one_session_share_globals_until_it_closes(sandbox: Sandbox) -> None:
    with sandbox.session() as session:
        session.run("var counter = 1")
        assert session.run("counter += 1; counter").value == 2
    assert sandbox.run("typeof counter").value == "undefined"
    assert _reused(sandbox) == 1
