"""More attacks on context reuse, each tried as a script author would: what survives one run
into the next run of the same trust domain. Each one either sends the context away (the
proof of cleanliness sees it), cannot change anything (the object is frozen), or has no
way in (the global it needs is not there). The list grows with every attack tried.
"""

from __future__ import annotations

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import Limits, Outcome, Sandbox

#: Globals a leftover would need to run code, or to reach memory, after its run: weak
#: references and finalizers (callbacks the GC runs later, in whatever run is current),
#: shared memory and Atomics (``Atomics.wait`` blocks the isolate; ``waitAsync`` resolves
#: on a timer), timers, WebAssembly, and a manual GC.
ABSENT = (
    "WeakRef", "FinalizationRegistry", "SharedArrayBuffer", "Atomics", "WebAssembly",
    "setTimeout", "setInterval", "queueMicrotask", "gc", "eval",
)  # fmt: skip


def test_weak_refs_finalizers_shared_memory_atomics_and_timers_are_not_there(
    sandbox: Sandbox,
) -> None:
    probe = "JSON.stringify([" + ", ".join(f"typeof {name}" for name in ABSENT) + "])"
    assert sandbox.run(probe).value == '["' + '","'.join(["undefined"] * len(ABSENT)) + '"]'


def test_atomics_cannot_be_had_through_an_array_buffer(sandbox: Sandbox) -> None:
    # A growable ArrayBuffer is no SharedArrayBuffer, and no constructor leads to one.
    script = (
        "var b = new ArrayBuffer(8, {maxByteLength: 16}); "
        "JSON.stringify([b.constructor === ArrayBuffer, typeof globalThis.Atomics, "
        "Object.getOwnPropertyNames(globalThis).filter((n) => /Shared|Atomic|Weak(Ref)|Final/.test(n))])"
    )
    assert sandbox.run(script).value == '[true,"undefined",[]]'


#: Changes to intrinsics beyond ``test_recycling.POLLUTIONS``: each is seen by the proof.
MORE_POLLUTIONS = {
    "console property": "console.leaked = 'secret'",
    "console.log replaced": "console.log = function () { return 'secret' }",
    "Iterator.prototype": "Iterator.prototype.leaked = 'secret'",
    "Symbol.iterator of arrays": (
        "const it = Array.prototype[Symbol.iterator]; "
        "Array.prototype[Symbol.iterator] = function () { return it.call(this) }"
    ),
    "Symbol.toPrimitive on Object.prototype": (
        "Object.prototype[Symbol.toPrimitive] = function () { return 'secret' }"
    ),
    "Promise species getter": (
        "Object.defineProperty(Promise, Symbol.species, {get() { return Promise }, configurable: true})"
    ),
    "RegExp Symbol.replace": (
        "const r = RegExp.prototype[Symbol.replace]; "
        "RegExp.prototype[Symbol.replace] = function (a, b) { return r.call(this, a, b) }"
    ),
    "Function.prototype.toString": "Function.prototype.toString = function () { return 'secret' }",
    "Error.prototype.toString": "Error.prototype.toString = function () { return 'secret' }",
    "Error.captureStackTrace": "Error.captureStackTrace = function () {}",
    "Date.now": "Date.now = function () { return 0 }",
    "Math.random": "Math.random = function () { return 0 }",
    "async generator prototype": "Object.getPrototypeOf(async function* () {}).leaked = 'secret'",
    "async iterator prototype": (
        "Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype).leaked = 'secret'"
    ),
    "array iterator next": (
        "Object.getPrototypeOf([][Symbol.iterator]()).next = function () { return {done: true} }"
    ),
    "iterator helper prototype": "Object.getPrototypeOf([].values().map((x) => x)).leaked = 'secret'",
    "platform error's prototype chain": (
        "try { sys.test.notFound() } catch (e) { "
        "Object.getPrototypeOf(Object.getPrototypeOf(e)).leaked = 'secret' }"
    ),
    "prototype of sys functions": "Object.getPrototypeOf(sys.test.echo).leaked = 'secret'",
    "__proto__ accessor replaced": (
        "Object.defineProperty(Object.prototype, '__proto__', "
        "{get() { return null }, set(v) {}, configurable: true})"
    ),
    "Proxy in the prototype chain of arrays": (
        "Object.setPrototypeOf(Array.prototype, new Proxy(Object.prototype, {}))"
    ),
    "hidden symbol on the global": "Object.defineProperty(globalThis, Symbol('x'), {value: 'secret'})",
    "length of Array.prototype": "Array.prototype.length = 5",
    "Object.prototype made non-extensible": "Object.preventExtensions(Object.prototype)",
    "Array.prototype sealed": "Object.seal(Array.prototype)",
    "global made non-extensible": "Object.preventExtensions(globalThis)",
    "RegExp exec replaced": "RegExp.prototype.exec = function () { return null }",
    "Error.prototype.message": "Error.prototype.message = 'secret'",
    "thenable Object.prototype": "Object.prototype.then = function (r) { r('secret') }",
    "Array species getter": (
        "Object.defineProperty(Array, Symbol.species, {get() { return Object }, configurable: true})"
    ),
    "legacy __defineGetter__": (
        "Object.prototype.__defineGetter__('leaked', function () { return 'secret' })"
    ),
    "Date.prototype.toJSON": "Date.prototype.toJSON = function () { return 'secret' }",
}


@pytest.mark.parametrize("script", MORE_POLLUTIONS.values(), ids=MORE_POLLUTIONS.keys())
def test_a_changed_intrinsic_sends_the_context_away(sandbox: Sandbox, script: str) -> None:
    assert sandbox.run(script + "; 1").outcome is Outcome.OK
    assert sandbox.run("1").value == 1
    assert sandbox.counts["rejected"] == 1
    assert sandbox.counts["built"] == 2, "the next script ran in a new context"


#: Attempts on objects the host provides; each read back by the next run in the same context.
FROZEN = {
    "a sys function's property": ("sys.test.echo.leaked = 'secret'", "sys.test.echo.leaked"),
    "log's property": ("log.leaked = 'secret'", "log.leaked"),
    "a new sys namespace": ("sys.leaked = {}", "sys.leaked"),
    "sys.exceptions replaced": ("sys.exceptions = {}", "typeof sys.exceptions.getCode"),
    "ResultSet prototype": (
        "sys.commons.ResultSet.prototype.hasNext = function () { return 'secret' }",
        "String(sys.commons.ResultSet.prototype.hasNext).includes('secret') ? 'secret' : null",
    ),
    "ScriptException prototype": (
        "sys.exceptions.ScriptException.prototype.leaked = 'secret'",
        "sys.exceptions.ScriptException.prototype.leaked",
    ),
    "DisposableStack prototype": (
        "DisposableStack.prototype.leaked = 'secret'", "DisposableStack.prototype.leaked",
    ),
    "a symbol-keyed global": ("globalThis[Symbol.for('leak')] = 'secret'", "globalThis[Symbol.for('leak')]"),
    "sys deleted": ("delete globalThis.sys", "typeof sys === 'object' || 'secret'"),
    "sys redefined": ("Object.defineProperty(globalThis, 'sys', {value: {}})",
                      "typeof sys.exceptions.getCode"),
    "log replaced": ("globalThis.log = function () { return 'secret' }",
                     "String(log).includes('secret') ? 'secret' : null"),
    "Proxy.revocable removed": ("Proxy.revocable = null", "typeof Proxy.revocable"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "read"), FROZEN.values(), ids=FROZEN.keys())
def test_host_provided_objects_keep_nothing_for_the_next_run(
    sandbox: Sandbox, change: str, read: str
) -> None:
    assert sandbox.run(f"try {{ {change} }} catch (e) {{}}; 1").outcome is Outcome.OK
    after = sandbox.run(f"var v = {read}; v === undefined ? null : v")
    assert after.outcome is Outcome.OK and after.value in (None, True, "function"), after


#: Calls made ever closer to the end of the stack: V8 may throw RangeError anywhere inside
#: the bridge's JS (encoding the request, decoding a reply, a chunk of a large one).
STACK_EDGE = """
function plain(d) { if (d > 0) return plain(d - 1); return 1; }
var lo = 0, hi = 1000000;
while (lo < hi) { var mid = (lo + hi + 1) >> 1; try { plain(mid); lo = mid; } catch (e) { hi = mid - 1; } }
var out = {ok: 0, range: 0, other: [], wrong: []}, tag = 0;
function at(depth, size, t) {
  if (depth > 0) return at(depth - 1, size, t);
  var v;
  try { v = sys.test.echo({tag: t, s: 'y'.repeat(size)}); }
  catch (e) { if (e instanceof RangeError) out.range++; else out.other.push(String(e.message)); return; }
  if (!v || v.tag !== t || v.s.length !== size) out.wrong.push(t); else out.ok++;
}
for (var k = 0, streak = 0; k < lo && streak < 20; k += 5) {
  var before = out.ok;
  for (var size of [10, 300000]) {
    tag++;
    try { at(lo - k, size, tag); } catch (e) { out.range++; }
    if (sys.test.echo({tag: -tag}).tag !== -tag) out.wrong.push(-tag);
  }
  streak = out.ok === before + 2 ? streak + 1 : 0;
}
[out.ok > 0, out.range > 0, out.other, out.wrong]
"""


def test_a_host_call_at_the_edge_of_the_stack_answers_its_own_request_or_throws_range_error(
    sandbox: Sandbox,
) -> None:
    result = sandbox.run(STACK_EDGE, timeout_s=60)
    assert result.outcome is Outcome.OK and result.value == [True, True, [], []], result
    nxt = sandbox.run("[sys.test.echo('next'), sys.test.jobId()]", job_id="j2")
    assert nxt.value == ["next", "j2"]


#: The return-override trick stamps a private field onto Object.prototype (invisible to the
#: proof) holding ArrayBuffers: their memory lives outside V8's heap, where the retained-heap
#: check does not look.
STASH_BUFFERS = (
    "class Base { constructor(o) { return o; } }"
    "class Stash extends Base { #x; constructor(o, v) { super(o); this.#x = v; } }"
    "var keep = []; for (var i = 0; i < COUNT; i++) keep.push(new ArrayBuffer(MIB * 1024 * 1024));"
    "new Stash(Object.prototype, keep); 1"
)


def test_array_buffers_hidden_in_private_fields_of_intrinsics_send_the_context_away() -> None:
    with Sandbox(core_namespaces(), Limits(timeout_s=20.0), pool_size=0) as sandbox:
        script = STASH_BUFFERS.replace("COUNT", "4").replace("MIB", "32")
        assert sandbox.run(script).outcome is Outcome.OK
        assert sandbox.run("1").value == 1
        assert (sandbox.counts["built"], sandbox.counts["reused"]) == (2, 0), sandbox.counts


def test_array_buffers_stashed_a_little_per_run_cannot_pile_up() -> None:
    # Each run stays under the limit; what the context gained over its runs does not.
    with Sandbox(core_namespaces(), Limits(timeout_s=20.0), pool_size=0, max_grown_bytes=64 * 1024 * 1024) as sandbox:
        script = STASH_BUFFERS.replace("COUNT", "1").replace("MIB", "24")
        for _ in range(4):
            assert sandbox.run(script).outcome is Outcome.OK
        assert sandbox.counts["built"] >= 2, sandbox.counts  # not 96 MiB in one context


def test_a_context_whose_runs_keep_no_memory_is_still_reused() -> None:
    with Sandbox(core_namespaces(), Limits(timeout_s=20.0), pool_size=0) as sandbox:
        for _ in range(50):
            assert sandbox.run("var a = []; for (var i = 0; i < 1000; i++) a.push({i}); a.length").value == 1000
        assert sandbox.counts["built"] == 1, sandbox.counts
