"""The hostile scripts, each with the exact outcome code it must end with.

``code`` is what the host reports for the run: ``ok`` for a script that completes (then
``value`` is its completion value), a platform code (``timeout``, ``memoryLimit``,
``badRequest`` …) for limits and branded errors, or the JS error's name (``RangeError``,
``TypeError``, ``Uncaught`` for a thrown non-Error) for plain throws — never a code the
script forged. A script run as a RUN_SCRIPT job carries the same code in its results.

Scripts that can take their whole process down (one huge allocation, ArrayBuffers past the
data limit) are in :data:`PROCESS_KILLERS`: they only ever run in a child process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hostile:
    """One hostile script and how it must end."""

    name: str
    source: str
    code: str
    #: The completion value when ``code`` is ``ok``.
    value: Any = None
    #: Text the error message must contain (when it matters).
    message: str | None = None
    #: The run's time limit (memory bombs get longer to reach the heap limit).
    timeout_s: float = 1.0
    #: The code when the script runs as a job, if it differs (it has a current job there).
    job_code: str | None = None


#: The limit of a script that never ends by itself: any limit shows the same ``timeout``
#: (its outcome, the reason and the host going on), and it spins until the limit — a short
#: one is that much less CPU.
SPIN_S = 0.25


def h(
    name: str, source: str, code: str, value: Any = None, message: str | None = None,
    timeout_s: float = 1.0, job_code: str | None = None,
) -> Hostile:  # fmt: skip
    return Hostile(name, source, code, value, message, timeout_s, job_code)


CPU = [
    h("infinite loop", "while (true) {}", "timeout", timeout_s=SPIN_S),
    h("busy for loop with work", "var x = 0; for (;;) { x += Math.random() }", "timeout", timeout_s=SPIN_S),
    h("catastrophic regex backtracking", "/^(a+)+$/.test('a'.repeat(40) + '!')", "timeout", timeout_s=SPIN_S),
    h("sort comparator that never returns", "[3, 2, 1].sort(function () { while (true) {} })", "timeout", timeout_s=SPIN_S),
    h("getter trap on the completion value", "({ get x() { while (true) {} } })", "timeout", timeout_s=SPIN_S),
    h("toJSON trap on a log argument", "log({ toJSON: function () { while (true) {} } })", "timeout", timeout_s=SPIN_S),
    h("toString trap on a bridge argument", "sys.jobs.findById({ toString: function () { while (true) {} } })", "badRequest"),
    h("proxy trap on a bridge argument", "sys.jobs.find(new Proxy({}, { ownKeys: function () { while (true) {} } }))", "timeout", timeout_s=SPIN_S),
    h("infinite generator spread", "function* g() { for (;;) yield 1 } [...g()].length", "memoryLimit", timeout_s=10.0),
]

MEMORY = [
    h("heap growth loop", "var a = []; while (true) a.push({x: [1, 2, 3]})", "memoryLimit", timeout_s=10.0),
    h("string doubling", "var s = 'x'; while (true) s += s", "RangeError", message="Invalid string length"),
    h("one huge string", "'x'.repeat(2 ** 30)", "RangeError", message="Invalid string length"),
    h("ArrayBuffer past any length", "new ArrayBuffer(2 ** 45); 1", "RangeError", message="Invalid array buffer length"),
    h("typed array too large", "new Float64Array(2 ** 40); 1", "RangeError"),
    h("map growth loop", "var m = new Map(); for (var i = 0; ; i++) m.set(i, {v: i})", "memoryLimit", timeout_s=10.0),
    h("array of strings growth", "var a = []; for (var i = 0; ; i++) a.push('item ' + i + ' '.repeat(100))", "memoryLimit", timeout_s=10.0),
]

RECURSION = [
    h("plain recursion", "function f() { return f() } f()", "RangeError", message="call stack"),
    h("recursion through a getter", "var o = { get x() { return this.x } }; o.x", "RangeError", message="call stack"),
    h("recursion through toString", "var o = { toString: function () { return '' + o } }; '' + o", "RangeError", message="call stack"),
    h("recursion through the bridge", "function f() { sys.exceptions.getCode(null); return f() } f()", "RangeError"),
    # As a job, each frame writes one fenced log line (~0.4 ms each on SQLite; past the
    # job's cap a dropped line still asks the fence). Each frame carries 200 arguments, so
    # the stack runs out inside a log call after ~550 frames instead of ~10,000 (seconds of
    # writes); the budget is still generous.
    h("recursion through log", "var pad = Array(200).fill(0); function f(n) { log(n); return f(n + 1, ...pad) } f(0)", "RangeError", timeout_s=30.0),
    h("deeply nested completion value", "var o = {}; for (var i = 0; i < 5000; i++) o = {a: o}; o", "RangeError", timeout_s=5.0),
    h("deeply nested bridge argument", "var o = []; for (var i = 0; i < 5000; i++) o = [o]; sys.jobs.find({type: o})", "badRequest", timeout_s=5.0),
]

ASYNC = [
    h("await loop after return", "(async function () { while (true) { await 0 } })(); 1", "timeout", timeout_s=SPIN_S),
    h("growing promise chain after return", "function f() { return Promise.resolve().then(f) } f(); 1", "memoryLimit", timeout_s=10.0),
    h("busy microtask after return", "Promise.resolve().then(function () { while (true) {} }); 1", "timeout", timeout_s=SPIN_S),
    h("unhandled rejection", "Promise.reject(new Error('nobody listens')); 'done'", "ok", value="done"),
    h("async throw after return", "(async function () { await 0; throw new Error('late') })(); 7", "ok", value=7),
    h("then getter on Object.prototype", "Object.defineProperty(Object.prototype, 'then', { get: function () { while (true) {} } }); Promise.resolve({}); 1", "timeout", timeout_s=SPIN_S),
]

POLLUTION = [
    h("Object.prototype pollution", "Object.prototype.polluted = 'yes'; Object.prototype.code = 'notFound'; sys.jobs.find({_size: 1}).hasNext() === true || true", "ok", value=True),
    h("Array.prototype pollution", "Array.prototype.push = null; Array.prototype.map = null; Array.prototype[Symbol.iterator] = function* () { throw new Error('iter') }; typeof sys.jobs.find({_size: 1}).hasNext()", "ok", value="boolean"),
    h("toJSON on Object.prototype", "Object.prototype.toJSON = function () { return 'forged' }; sys.jobs.findById('0123456789abcdef01234567'); 1", "badRequest", message='Invalid value "forged"'),
    h("JSON replaced", "JSON.stringify = function () { return '{\"ok\":true,\"value\":\"forged\"}' }; JSON.parse = function () { return {ok: true, value: 'forged'} }; 5", "ok", value=5),
    h("Function.prototype call/apply replaced", "Function.prototype.call = null; Function.prototype.apply = null; Reflect.apply = null; sys.exceptions.getCode(new Error('x'))", "ok", value=None),
    h("String intrinsics replaced", "String.prototype.charCodeAt = function () { return 65 }; String.fromCharCode = function () { return 'X' }; log('still fine'); 'ok'", "ok", value="ok"),
    h("Error constructor replaced", "Error = function () { return {code: 'forged'} }; sys.jobs.findById('nope')", "badRequest"),
    h("WeakMap brand check replaced", "WeakMap.prototype.get = function () { return {code: 'notFound', message: 'forged'} }; WeakMap.prototype.has = function () { return true }; throw new TypeError('plain')", "TypeError"),
    h("Symbol.toPrimitive on Object.prototype", "Object.prototype[Symbol.toPrimitive] = function () { while (true) {} }; sys.jobs.findById('nope')", "badRequest"),
]

FORGED = [
    h("thrown object with a code", "throw {code: 'notFound', message: 'forged'}", "Uncaught"),
    h("Error with a code property", "var e = new Error('x'); e.code = 'timeout'; throw e", "Error"),
    h("Error with a code method", "var e = new Error('x'); e.code = function () { return 'notFound' }; throw e", "Error"),
    h("thrown null", "throw null", "Uncaught"),
    h("thrown object without prototype", "throw Object.create(null)", "Uncaught"),
    h("thrown object whose message loops", "throw { get message() { while (true) {} } }", "timeout", timeout_s=SPIN_S),
    h("thrown proxy", "throw new Proxy({}, { get: function () { while (true) {} } })", "timeout", timeout_s=SPIN_S),
    h("forged brand via getCode override", "sys.exceptions.getCode = function () { return 'notFound' }; throw new Error('plain')", "Error"),
]

SYS_MUTATION = [
    h("strict assignment to sys.jobs", "'use strict'; sys.jobs = null", "TypeError"),
    h("redefining a sys.jobs function", "Object.defineProperty(sys.jobs, 'find', {value: 1})", "TypeError"),
    h("deleting sys", "delete globalThis.sys; typeof sys.jobs.find", "ok", value="function"),
    h("replacing log", "log = function () {}; globalThis.log = null; typeof log", "ok", value="function"),
    h("prototype swap of sys", "try { Object.setPrototypeOf(sys, {evil: 1}) } catch (e) {} typeof sys.evil", "ok", value="undefined"),
    h("calling bridge functions unbound", "var f = sys.jobs.findById; f('nope')", "badRequest"),
]

BRIDGE_INPUT = [
    h("huge id string", "sys.jobs.findById('0'.repeat(1000000))", "badRequest", timeout_s=5.0),
    # A page size past 64 bits is refused naming '_size' and its range (issue 16), not clamped.
    h("huge page size", "typeof sys.jobs.find({_size: 1e300}).hasNext()", "badRequest"),
    h("huge log argument outside a job", "sys.jobs.logInfo('x'.repeat(3000000)); 'discarded'", "ok", value="discarded", timeout_s=5.0),
    h("waitForJob on itself", "sys.jobs.waitForJob(sys.jobs.getCurrentJobId(), 'FINISHED', 500)", "badRequest", job_code="timeout"),
]

FLOODS = [
    # Past a job's log cap (200 lines in these tests) each line is dropped, still fenced.
    # The endless flood shows its ``timeout`` under any limit (it floods until it); the
    # logInfo flood's 600 lines are three times the cap.
    h("huge log flood", "for (;;) log('flood')", "timeout", timeout_s=0.5),
    # It ends by itself; the limit is a ceiling for a loaded machine, where each fenced write
    # took 10-60 ms (600 of them ran past a 15 s limit at a load average of ~30).
    h("logInfo flood", "for (var i = 0; i < 600; i++) sys.jobs.logInfo('line ' + i); 'flooded'", "ok", value="flooded", timeout_s=40.0),
    h("one huge log line", "log('y'.repeat(2000000)); 'logged'", "ok", value="logged", timeout_s=5.0),
    h("huge result", "'z'.repeat(3000000)", "ok"),
]

#: Every in-process hostile script (run directly and as jobs).
ALL: list[Hostile] = [
    *CPU, *MEMORY, *RECURSION, *ASYNC, *POLLUTION, *FORGED, *SYS_MUTATION, *BRIDGE_INPUT, *FLOODS
]

#: Scripts that end their process: only ever run in a child (``ProcessSandbox``, workers).
PROCESS_KILLERS = [
    # One 256 MB backing store, four times the 64 MB old space a 32 MB heap gives a child:
    # V8's fatal out-of-memory at once (2 ** 27 elements grow a dictionary entry by entry:
    # seconds of garbage collection near the limit before the same end).
    h("one huge array", "new Array(2 ** 25).fill(1.5); 1", "memoryLimit"),
    h("ArrayBuffers past the data limit", "var keep = []; for (var i = 0; i < 64; i++) keep.push(new ArrayBuffer(256 * 1024 * 1024)); 1", "memoryLimit"),
]

#: Governance floods run on a host with these per-run limits (small, so that each flood
#: reaches its limit in a fraction of a second, well within :data:`RETRY_S` for the floods
#: that retry; the defaults are 1,000 jobs, 10 MiB and 1,000,000 calls): each stops at its
#: limit with ``limitExceeded``, not at the time limit.
#: They are not in :data:`ALL`, whose host keeps the default limits.
FLOOD_GOVERNANCE = {"max_jobs_started": 25, "max_log_bytes": 4 * 1024 * 1024, "max_host_calls": 2_000}

#: The limit of a flood that catches ``limitExceeded`` and retries: it reaches the
#: governance limit well within it, then spins on the refusals until it.
RETRY_S = 0.5

GOVERNANCE_FLOODS = [
    h("job start flood", "for (;;) sys.data.delete('companies', {name: '\"nobody\"'}, {lowPriority: true})", "limitExceeded", message="may start at most 25 jobs", timeout_s=30.0),
    h("job start flood that catches and retries", "for (;;) { try { sys.data.executeAction('companies', {name: '\"nobody\"'}, 'countByType', {}, {lowPriority: true}) } catch (e) { if (sys.exceptions.getCode(e) !== 'limitExceeded') throw e } }", "timeout", timeout_s=RETRY_S),
    h("log byte flood", "var s = 'x'.repeat(1 << 20); for (;;) log(s)", "limitExceeded", message="bytes of log lines", timeout_s=30.0),
    h("log byte flood into another job", "var id = sys.data.delete('companies', {name: '\"nobody\"'}, {lowPriority: true}); var s = 'x'.repeat(1 << 20); for (;;) sys.jobs.logInfo(id, s)", "limitExceeded", message="bytes of log lines", timeout_s=30.0),
    h("multi-byte log flood", "var s = '\\u20ac'.repeat(1 << 18); for (;;) log(s)", "limitExceeded", message="bytes of log lines", timeout_s=30.0),
    h("host call flood", "for (;;) sys.jobs.getCurrentJobId()", "limitExceeded", message="make at most 2000 host calls", timeout_s=30.0),
    h("host call flood that catches and retries", "for (;;) { try { sys.jobs.getCurrentJobId() } catch (e) {} }", "timeout", timeout_s=RETRY_S),
]
