// sysjobs bootstrap: runs once per V8 context, before any user code.
//
// It is one function expression, called from Python with the synchronous callback `cb`
// and the transport buffer's size. Everything privileged (the callback, the shared
// buffer, the real intrinsics, the error brands) stays in this closure: user code only
// ever sees the frozen `sys` object, the `log` function and hardened globals.
//
// Transport (see sysjobs/runtime/bridge.py for the Python half): messages are JSON text
// written as UTF-16 code units into a fixed-size, non-growable SharedArrayBuffer. UTF-16
// rather than UTF-8 because bare V8 has no TextEncoder and a JS string already *is*
// UTF-16: the copy is a plain loop and Python decodes it in C. Header (Uint32 words):
// [0] kind, [1] units in this chunk, [2] units in the whole message; payload at byte 16.
(function (cb, bufferBytes, namespaceSpecs) {
  "use strict";

  // ---- intrinsics, captured before user code can replace them -------------------
  const G = globalThis;
  const R = Reflect;
  const rApply = R.apply;
  const rDefine = R.defineProperty;
  const rOwnKeys = R.ownKeys;
  const rGetPrototypeOf = R.getPrototypeOf;
  const oFreeze = Object.freeze;
  const oCreate = Object.create;
  const oHasOwn = Object.hasOwn;
  const oKeys = Object.keys;
  const oIsFrozen = Object.isFrozen;
  const jStringify = JSON.stringify;
  const jParse = JSON.parse;
  const sFromCharCode = String.fromCharCode;
  const sCharCodeAt = String.prototype.charCodeAt;
  const sSlice = String.prototype.slice;
  const mMin = Math.min;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;
  const DateCtor = Date;
  const StringCtor = String;
  const NumberIsFinite = Number.isFinite;
  const WeakMapCtor = WeakMap;
  const wmGet = WeakMap.prototype.get;
  const wmSet = WeakMap.prototype.set;
  const wmHas = WeakMap.prototype.has;
  const typedSubarray = rGetPrototypeOf(Uint16Array.prototype).subarray;
  const indirectEval = G.eval;
  const SAB = G.SharedArrayBuffer;

  // ---- transport -----------------------------------------------------------------
  const KIND_CALL = 1, KIND_PART = 2, KIND_MORE = 3, KIND_END = 4, KIND_PIN = 5;
  const REPLY_DONE = 1, REPLY_PART = 2;
  const HEADER_BYTES = 16;
  const sab = new SAB(bufferBytes);
  const u32 = new Uint32Array(sab, 0, 4);
  const u16 = new Uint16Array(sab, HEADER_BYTES);
  const capacity = u16.length;
  const CHUNK = 8192;

  function writeChunk(s, from, len) {
    for (let i = 0; i < len; i++) u16[i] = rApply(sCharCodeAt, s, [from + i]);
  }

  function readChunk(len) {
    let out = "";
    for (let at = 0; at < len; at += CHUNK) {
      const end = mMin(at + CHUNK, len);
      out += rApply(sFromCharCode, null, rApply(typedSubarray, u16, [at, end]));
    }
    return out;
  }

  function transport(request) {
    const total = request.length;
    let sent = 0;
    do {
      const len = mMin(capacity, total - sent);
      writeChunk(request, sent, len);
      sent += len;
      u32[0] = sent < total ? KIND_PART : KIND_CALL;
      u32[1] = len;
      u32[2] = total;
      cb();
    } while (sent < total);
    return readReply();
  }

  function readReply() {
    // The reply is in the buffer (its first chunk); ask for the rest chunk by chunk.
    let reply = readChunk(u32[1]);
    while (u32[0] === REPLY_PART) {
      u32[0] = KIND_MORE;
      cb();
      reply += readChunk(u32[1]);
    }
    if (u32[0] !== REPLY_DONE) throw makeError("systemException", "The host did not answer.");
    return reply;
  }

  function signal(kind) {
    u32[0] = kind;
    u32[1] = 0;
    cb();
  }

  // Pin, at the end of the bootstrap: the host keeps one Python thread state on this
  // isolate's thread from now on, so every later callback (calls, task results) is cheap.
  // Unpin, called by the host only when it closes the context.
  function unpin() { signal(KIND_END); }

  // ---- branded platform errors ---------------------------------------------------
  // A platform error is a real Error (with a stack) registered in this private map, so
  // user code cannot forge a code by setting properties or prototypes.
  const brands = new WeakMapCtor();

  function callableText(text) {
    // `e.message` must read as the string in string contexts *and* be callable, because
    // the documented samples use both `e.message` and `e.message()`.
    const f = function message() { return text; };
    rDefine(f, "toString", { value: function toString() { return text; } });
    rDefine(f, "valueOf", { value: function valueOf() { return text; } });
    rDefine(f, Symbol.toPrimitive, { value: function () { return text; } });
    rDefine(f, "length", { value: text.length });
    return oFreeze(f);
  }

  function brand(e, code, message, info, kind) {
    rApply(wmSet, brands, [e, oFreeze({ code: code, message: message, info: info, kind: kind })]);
    rDefine(e, "message", { value: callableText(message), writable: false, enumerable: false, configurable: false });
    rDefine(e, "code", { value: function code_() { return code; }, enumerable: false });
    rDefine(e, "additionalInfo", { value: function additionalInfo() { return info; }, enumerable: false });
    return e;
  }

  function makeError(code, message, info) {
    const text = StringCtor(message);
    return brand(new ErrorCtor(text), StringCtor(code), text, info === undefined ? null : info, "platform");
  }

  function brandOf(e) {
    if ((typeof e !== "object" && typeof e !== "function") || e === null) return undefined;
    return rApply(wmHas, brands, [e]) ? rApply(wmGet, brands, [e]) : undefined;
  }

  // ---- host calls ----------------------------------------------------------------
  // Envelopes (requests, error reports) have no prototype: a script that sets
  // Object.prototype.toJSON must not be able to rewrite them while they are serialised.
  // Arguments travel as JSON; what JSON cannot say is refused with badRequest naming it,
  // never changed silently: NaN and ±Infinity (JSON.stringify writes null: a dropped
  // filter), BigInt, circular values and values nested deeper than the host reads
  // (JSON.stringify throws an uncoded TypeError or RangeError). The fast path is one plain
  // stringify; only a text with a `null` in it (where a NaN may hide) or a failed one is
  // serialised again through a checking replacer, and that second text is the one sent.
  // The replacer runs as script time: its cost is bounded by the script's own time limit.
  // An error a script's getter or toJSON throws passes through as it is.
  const sIndexOf = String.prototype.indexOf;
  const MAX_DEPTH = 1000;  // Python's JSON reader refuses deeper values anyway
  const isArray = Array.isArray;
  function unsendable(holder, key, shown, allowed, param) {
    const name = key.length > 40 ? rApply(sSlice, key, [0, 40]) + "…" : key;
    // A nested value says whose: "an array item (index 0) of parameter 'items'",
    // "parameter 'a' (in 'items')".
    const of = param !== null && isArray(holder) ? " of parameter '" + param + "'" : "";
    const inside = param !== null && param !== key ? " (in '" + param + "')" : "";
    const where = isArray(holder) ? "an array item (index " + key + ")" + of : "parameter '" + name + "'" + inside;
    return makeError("badRequest", "Invalid value " + shown + " for " + where + ". Allowed values: " + allowed, null);
  }
  function sendableReplacer(args) {
    const path = [];  // the objects being serialised, outermost first
    let param = null;  // the top-level argument being serialised
    return function sendable(key, value) {
      while (path.length > 0 && path[path.length - 1] !== this) path.length -= 1;
      if (this === args && args !== null && typeof args === "object") param = key;
      const kind = typeof value;
      if ((kind === "number" && !NumberIsFinite(value)) || kind === "bigint") {
        const text = StringCtor(value) + (kind === "bigint" ? "n" : "");
        throw unsendable(this, key, text.length > 40 ? "(a BigInt)" : text,
          "finite numbers (not NaN, ±Infinity or BigInt)", param);
      }
      if ((kind === "object" || kind === "function") && value !== null) {
        if (path.length >= MAX_DEPTH) {
          throw unsendable(this, key, "(a value nested " + MAX_DEPTH + " levels deep)", "plain JSON data nested less deeply", param);
        }
        for (let i = 0; i < path.length; i++) {
          if (path[i] === value) throw unsendable(this, key, "[Circular]", "plain JSON data without circular references", param);
        }
        path[path.length] = value;
      }
      return value;
    };
  }
  function serialise(op, args) {
    const envelope = { __proto__: null, op: op, args: args === undefined ? null : args };
    let text;
    try { text = jStringify(envelope); } catch (_) { return jStringify(envelope, sendableReplacer(envelope.args)); }
    return rApply(sIndexOf, text, ["null"]) < 0 ? text : jStringify(envelope, sendableReplacer(envelope.args));
  }

  function call(op, args) {
    const request = serialise(op, args);
    const reply = jParse(transport(request));
    if (oHasOwn(reply, "err")) {
      const err = reply.err;
      throw makeError(err.code, err.message, oHasOwn(err, "info") ? err.info : null);
    }
    return oHasOwn(reply, "ok") ? reply.ok : null;
  }

  function deepFreeze(o) {
    if ((typeof o !== "object" && typeof o !== "function") || o === null || oIsFrozen(o)) return o;
    oFreeze(o);
    const keys = rOwnKeys(o);
    for (let i = 0; i < keys.length; i++) {
      const d = R.getOwnPropertyDescriptor(o, keys[i]);
      if (d && oHasOwn(d, "value")) deepFreeze(d.value);
    }
    return o;
  }

  const globalAdapters = oCreate(null);
  const namespaces = oCreate(null);
  // What a prelude keeps for one run only (sys.data's createRecord answers) is dropped by
  // its hook when the next run starts: a recycled context may serve a newer definition.
  const runStartHooks = [];

  // Each namespace's prelude gets its own host: `host.call("findById", …)` in the jobs
  // prelude reaches the Python operation "jobs.findById" and nothing else's.
  function makeHost(nsName) {
    const prefix = nsName + ".";
    return oFreeze({
      call: function (op, args) {
        const name = StringCtor(op);
        return call(rApply(sSlice, name, [0, prefix.length]) === prefix ? name : prefix + name, args);
      },
      error: makeError,
      brand: function (e, code, message, info) { return brand(e, StringCtor(code), StringCtor(message), info === undefined ? null : info, "script"); },
      codeOf: function (e) { const b = brandOf(e); return b ? b.code : null; },
      messageOf: function (e) { const b = brandOf(e); return b ? b.message : undefined; },
      infoOf: function (e) { const b = brandOf(e); return b ? b.info : null; },
      isBranded: function (e) { return brandOf(e) !== undefined; },
      date: function (ms) { return ms === null || ms === undefined ? null : new DateCtor(ms); },
      freeze: oFreeze,
      stringify: jStringify,
      parse: jParse,
      ns: function (name) { return namespaces[name]; },
      adaptGlobal: function (name, fn) { globalAdapters[name] = fn; },
      onRunStart: function (fn) { runStartHooks[runStartHooks.length] = fn; },
    });
  }

  // ---- namespaces and the `sys` global --------------------------------------------
  const sys = oCreate(null);
  for (let i = 0; i < namespaceSpecs.length; i++) {
    const spec = namespaceSpecs[i];
    const obj = spec.prelude(makeHost(spec.name));
    namespaces[spec.name] = obj;
    if (spec.globalName) {
      rDefine(G, spec.globalName, { value: obj, writable: false, enumerable: false, configurable: false });
    } else {
      sys[spec.name] = obj;
    }
  }
  deepFreeze(sys);
  for (const name in namespaces) deepFreeze(namespaces[name]);
  rDefine(G, "sys", { value: sys, writable: false, enumerable: false, configurable: false });

  // ---- hardening -----------------------------------------------------------------
  const refuse = function () { throw new TypeErrorCtor("Code generation from strings is disabled in sysjobs scripts."); };
  const FunctionProto = Function.prototype;
  const tamedFunction = function Function() { refuse(); };
  rDefine(tamedFunction, "prototype", { value: FunctionProto, writable: false });
  const constructorsOf = [
    FunctionProto,
    rGetPrototypeOf(async function () {}),
    rGetPrototypeOf(function* () {}),
    rGetPrototypeOf(async function* () {}),
  ];
  for (let i = 0; i < constructorsOf.length; i++) {
    rDefine(constructorsOf[i], "constructor", { value: tamedFunction, writable: false, configurable: false });
  }
  rDefine(G, "Function", { value: tamedFunction, writable: false, configurable: false });
  const removed = ["eval", "WebAssembly", "SharedArrayBuffer", "Atomics", "WeakRef",
    "FinalizationRegistry", "setTimeout", "clearTimeout", "setInterval", "clearInterval",
  ];
  for (let i = 0; i < removed.length; i++) delete G[removed[i]];

  // ---- recycling -------------------------------------------------------------------
  // Building a context costs milliseconds; running a script in one costs microseconds.
  // So a context may serve another script, but only once it is proven to be as this
  // bootstrap left it. The proof: every object reachable from the global object and from
  // the intrinsics that only syntax reaches (iterator and generator prototypes…) is
  // recorded here — its prototype, extensibility, own keys in order and each property's
  // descriptor (value or getter/setter identity, attributes) — except frozen objects,
  // which cannot change (Intl and Temporal are frozen whole, see below). Built-in functions
  // that are not constructors (Array.prototype.map, Math.max, getters…) are frozen first:
  // nothing legitimate writes properties onto them, and it halves the record.
  // Constructors, prototypes and namespaces (Math, JSON…) stay writable, exactly as in V8,
  // so polyfills and overrides work within a script.
  // Before the first script of another session, in the same call (see run), the globals
  // earlier scripts declared are deleted (indirect-eval declarations are configurable),
  // the RegExp legacy statics are overwritten, and the record is compared. Any difference
  // — a polluted prototype, a replaced built-in, a non-deletable global, a frozen
  // intrinsic — and the context is thrown away instead. What a recycled context can still
  // tell apart from a fresh one is not state a script put there: JIT warmth, the
  // Math.random stream, the Symbol.for registry (README, "Security model of the sandbox").
  const rGetOwnDesc = R.getOwnPropertyDescriptor;
  const rIsExtensible = R.isExtensible;
  const rDeleteProperty = R.deleteProperty;
  const oIs = Object.is;
  const ObjectProto = Object.prototype;
  const reExec = RegExp.prototype.exec;
  const blankRe = /(?:)/;

  function hiddenIntrinsics() {
    const gp = rGetPrototypeOf;
    const out = [
      gp(function* () {}), gp(async function () {}), gp(async function* () {}),
      gp((function* () {})()), gp((async function* () {})()),
      gp([][Symbol.iterator]()), gp(new Map().entries()), gp(new Set().values()),
      gp(""[Symbol.iterator]()), gp(/a/[Symbol.matchAll]("")),
      gp(gp(gp((async function* () {})()))),
    ];
    try { out[out.length] = gp([].values().map(function (x) { return x; })); } catch (_) { /* no iterator helpers */ }
    try { out[out.length] = gp(Iterator.from({ next: function () { return { done: true }; } })); } catch (_) { /* idem */ }
    try {
      const segments = new Intl.Segmenter().segment("a");
      out[out.length] = gp(segments);
      out[out.length] = gp(segments[Symbol.iterator]());
    } catch (_) { /* no Intl.Segmenter */ }
    return out;
  }

  // One record per object that can change: [object, prototype, extensible, own keys,
  // checks]. `checks` holds, flat, six slots per property that can change: its index in
  // the keys, 1 for a data property (0 for an accessor), enumerable, configurable, then
  // writable and value (or getter and setter). A non-configurable property that is an
  // accessor or read-only can never change (the language's invariants); its key is still
  // compared. Flat slots instead of the descriptor objects: the proof runs before every
  // recycled run, and reading them costs a third less. The record's arrays are not frozen:
  // only this closure holds them (nothing a script can reach), they are packed and read
  // within bounds (a prototype getter a script installed cannot answer for them), and
  // frozen arrays made every read of them a generic keyed load — the proof took twice as
  // long (~230 against ~100 us).
  function snapshotRealm() {
    const seen = new Set();
    const records = [];
    const stack = hiddenIntrinsics();
    stack.push(G);
    while (stack.length) {
      const o = stack.pop();
      if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
      seen.add(o);
      const keys = rOwnKeys(o);
      const checks = [];
      for (let i = 0; i < keys.length; i++) {
        const d = rGetOwnDesc(o, keys[i]);
        const data = oHasOwn(d, "value");
        if (data) stack.push(d.value);
        else stack.push(d.get, d.set);
        if (d.configurable || (data && d.writable)) {
          checks.push(i, data ? 1 : 0, d.enumerable, d.configurable,
                      data ? d.writable : d.get, data ? d.value : d.set);
        }
      }
      const proto = rGetPrototypeOf(o);
      stack.push(proto);
      if (typeof o === "function" && o !== FunctionProto && !oHasOwn(o, "prototype")) oFreeze(o);
      if (!oIsFrozen(o)) records.push([o, proto, rIsExtensible(o), keys, checks]);
    }
    // reset() compares Object.prototype first, then the global object: records[0], [1].
    const front = [], rest = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (r[0] === ObjectProto) front[0] = r;
      else if (r[0] === G) front[1] = r;
      else rest.push(r);
    }
    if (!front[0] || !front[1]) throw new TypeErrorCtor("the realm's record lacks Object.prototype or the global object");
    return front.concat(rest);
  }

  function unchanged(record, ownKeys) {
    // `ownKeys`: the object's own keys when the caller has just read them (else read here).
    // The descriptors' fields are read plainly: a field a descriptor lacks (`writable` of
    // an accessor's, `get` of a data property's) is looked up on Object.prototype, and
    // reset() proves Object.prototype first — its keys before any of its descriptors —
    // so by then no field name can reach a getter a script put there.
    const o = record[0], keys = record[3], checks = record[4];
    if (rGetPrototypeOf(o) !== record[1] || rIsExtensible(o) !== record[2]) return false;
    const now = ownKeys === undefined ? rOwnKeys(o) : ownKeys;
    if (now.length !== keys.length) return false;
    for (let i = 0; i < keys.length; i++) if (now[i] !== keys[i]) return false;
    for (let j = 0; j < checks.length; j += 6) {
      const d = rGetOwnDesc(o, keys[checks[j]]);
      if (d.enumerable !== checks[j + 2] || d.configurable !== checks[j + 3]) return false;
      if (checks[j + 1] === 1) {
        // (a data descriptor always has a boolean `writable`; an accessor's has none)
        if (d.writable !== checks[j + 4] || !oIs(d.value, checks[j + 5])) return false;
      } else if (d.writable !== undefined || d.get !== checks[j + 4] || d.set !== checks[j + 5]) {
        return false;
      }
    }
    return true;
  }

  function dropNewGlobals(baselineKeys) {
    // Globals a script declares come after the baseline's own, in order: one pass finds
    // them. A key out of place is looked for in the whole baseline (and the record's
    // comparison of the global object's keys then decides). Answers the global object's
    // own keys when it deleted none — the proof compares them next, and nothing that runs
    // in between can change them — undefined when it deleted some (they are read again),
    // false when a global could not be deleted.
    const now = rOwnKeys(G);
    let deleted = false;
    for (let i = 0; i < now.length; i++) {
      const k = now[i];
      if (i < baselineKeys.length && baselineKeys[i] === k) continue;
      let known = false;
      for (let j = 0; j < baselineKeys.length && !known; j++) known = baselineKeys[j] === k;
      if (known) continue;
      if (!rDeleteProperty(G, k)) return false;
      deleted = true;
    }
    return deleted ? undefined : now;
  }

  let baseline = null;

  function reset() {
    // True when the context is again as the bootstrap left it (see above). Object.prototype
    // is compared first (records[0], see snapshotRealm), the global object's next.
    try {
      if (!unchanged(baseline[0])) return false;
      const globalKeys = dropNewGlobals(baseline[1][3]);
      if (globalKeys === false) return false;
      // The RegExp legacy statics: the captured exec, on a regexp only this closure holds,
      // runs no script code, so the global object's keys are still those just read.
      rApply(reExec, blankRe, [""]);
      if (!unchanged(baseline[1], globalKeys)) return false;
      for (let i = 2; i < baseline.length; i++) if (!unchanged(baseline[i])) return false;
      return true;
    } catch (_) {
      return false;
    }
  }

  // ---- the run -------------------------------------------------------------------
  function describe(e) {
    const b = brandOf(e);
    if (b) return { __proto__: null, code: b.code, name: "Error", message: b.message, info: b.info, stack: safeStack(e) };
    if (e instanceof ErrorCtor) {
      let msg;
      try { msg = StringCtor(e.message); } catch (_) { msg = ""; }
      let name;
      try { name = StringCtor(e.name); } catch (_) { name = "Error"; }
      return { __proto__: null, code: null, name: name, message: msg, info: null, stack: safeStack(e) };
    }
    let text;
    try { text = jStringify(e); } catch (_) { text = undefined; }
    if (text === undefined) { try { text = StringCtor(e); } catch (_) { text = typeof e; } }
    return { __proto__: null, code: null, name: "Uncaught", message: text, info: null, stack: null };
  }

  // The stack a script sees names its own frames `NAME:line:column` (run() appends a
  // sourceURL comment to the source); the bootstrap's frames (named BOOT_URL, see
  // isolate.py) and the indirect eval that enters the script say nothing to its author.
  const BOOT_URL = "sysjobs:bootstrap";
  const EVAL_FRAME = "    at eval (<anonymous>)";
  const FRAME = "    at ";
  const sSplit = String.prototype.split;
  const sIncludes = String.prototype.includes;
  const sStartsWith = String.prototype.startsWith;
  const aJoin = Array.prototype.join;
  const aPush = Array.prototype.push;

  function isBootFrame(line) {
    return rApply(sStartsWith, line, [FRAME]) && rApply(sIncludes, line, [BOOT_URL]);
  }

  function userStack(s) {
    const lines = rApply(sSplit, s, ["\n"]);
    const kept = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (isBootFrame(line)) continue;
      if (line === EVAL_FRAME && i + 1 < lines.length && isBootFrame(lines[i + 1])) continue;
      rApply(aPush, kept, [line]);
    }
    return rApply(aJoin, kept, ["\n"]);
  }

  function safeStack(e) {
    // The host's report formats an unread stack with the bootstrap's hook (defined below),
    // whatever the script put on Error.prepareStackTrace (a hook returning CallSites or
    // throwing left no stack at all); the script's property is put back afterwards.
    const saved = rGetOwnDesc(ErrorCtor, "prepareStackTrace");
    const swapped = rDefine(ErrorCtor, "prepareStackTrace", {
      value: prepareStackTrace, writable: true, enumerable: false, configurable: true,
    });
    try { const s = e.stack; return typeof s === "string" ? userStack(s) : null; } catch (_) { return null; }
    finally {
      if (swapped && saved !== undefined) rDefine(ErrorCtor, "prepareStackTrace", saved);
      else if (swapped) rDeleteProperty(ErrorCtor, "prepareStackTrace");
    }
  }

  // `e.stack` read by the script itself leaves out the same frames. V8 formats a stack at
  // its first read through Error.prepareStackTrace, with one CallSite per frame; the hook
  // defined here formats as V8 does, minus the frames whose script is the bootstrap (the
  // sys namespaces' too) and the indirect eval entering the script. It uses only the
  // CallSite methods captured here, and CallSite.prototype is frozen: a script that
  // installs a hook of its own sees CallSites but cannot change what the next run's stacks
  // say, and a replaced hook is a change the recycling proof sees (the context goes). A
  // frame's file name is a script's name or the bootstrap's, never a host path.
  let callSiteProto = null;
  rDefine(ErrorCtor, "prepareStackTrace", {
    value: function (_e, sites) { callSiteProto = rGetPrototypeOf(sites[0]); return ""; },
    writable: true, enumerable: false, configurable: true,
  });
  void new ErrorCtor().stack;
  const csToString = callSiteProto.toString;
  const csScriptName = callSiteProto.getScriptNameOrSourceURL;
  oFreeze(callSiteProto);
  const errorToString = ErrorCtor.prototype.toString;
  const EVAL_SITE = "eval (<anonymous>)";

  function isBootSite(site) {
    return rApply(csScriptName, site, []) === BOOT_URL;
  }

  function prepareStackTrace(e, sites) {
    let head;
    try { head = rApply(errorToString, e, []); } catch (_) { head = "Error"; }
    const lines = [head];
    for (let i = 0; i < sites.length; i++) {
      if (isBootSite(sites[i])) continue;
      const text = rApply(csToString, sites[i], []);
      if (text === EVAL_SITE && i + 1 < sites.length && isBootSite(sites[i + 1])) continue;
      rApply(aPush, lines, [FRAME + text]);
    }
    return rApply(aJoin, lines, ["\n"]);
  }
  rDefine(ErrorCtor, "prepareStackTrace", {
    value: prepareStackTrace, writable: true, enumerable: false, configurable: true,
  });

  function serialize(value) {
    if (value === undefined) return '{"ok":true}';
    try {
      const text = jStringify(value);
      return text === undefined ? '{"ok":true}' : '{"ok":true,"value":' + text + "}";
    } catch (e) {
      return jStringify({ __proto__: null, ok: true, unserializable: describe(e).message });
    }
  }

  function failed(e) {
    try { return jStringify({ __proto__: null, ok: false, error: describe(e) }); }
    catch (_) { return '{"ok":false,"error":{"code":null,"name":"Uncaught","message":"unprintable error"}}'; }
  }

  function defineGlobals(globals) {
    const names = oKeys(globals);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const adapt = globalAdapters[name];
      const value = adapt ? adapt(globals[name]) : globals[name];
      rDefine(G, name, { value: value, writable: true, enumerable: false, configurable: true });
    }
  }

  // An item's outcome goes to the host before the next item starts; the host answers
  // whether to go on (a stop, a cancel, a failed write). The mark (see isolate.py
  // REPORT_MARK) starts no request a script can make: those are all `{"op": …}`.
  const REPORT_MARK = "\x01";
  function report(index, envelope) {
    return transport(REPORT_MARK + index + REPORT_MARK + envelope) === "1";
  }

  function runEach(source, items) {
    // One call, many runs of the same script (an action over a chunk of records): each
    // item's globals, then the script, its outcome reported as data — a throw fails that
    // item only. Microtasks cannot run inside this call: what an item leaves pending runs
    // after the last item, never inside another item's run.
    for (let i = 0; i < items.length; i++) {
      let envelope;
      try {
        defineGlobals(items[i]);
        envelope = serialize(indirectEval(source));
      } catch (e) {
        envelope = failed(e);
      }
      if (!report(i, envelope)) break;
    }
    return '{"ok":true}';
  }

  function run() {
    // Runs the user's script as a global script (indirect eval), serialises its
    // completion value inside the same timed call, and reports every throw as data.
    // The input, {"source": …, "globals": {…}, "reset": bool, "each"?: [{…}, …]}, is
    // waiting in the transport buffer as if it were a reply: passing it as arguments
    // would cost a round trip per argument.
    try {
      const input = jParse(readReply());
      // A recycled context is proven clean here, in the same call as the script it is
      // for: no round trip of its own, and nothing can run in between.
      if (input.reset === true && !reset()) return '{"dirty":true}';
      for (let i = 0; i < runStartHooks.length; i++) runStartHooks[i]();
      defineGlobals(input.globals);
      // Appended, not prepended: the script's lines keep their numbers. The host passes
      // a sanitised name (one line, no quotes or spaces: see isolate.py script_url).
      const url = typeof input.name === "string" ? "\n//# sourceURL=" + input.name : "";
      if (isArray(input.each)) return runEach(input.source + url, input.each);
      return serialize(indirectEval(input.source + url));
    } catch (e) {
      return failed(e);
    }
  }

  // Some families are frozen whole (namespaces, constructors, prototypes): Intl and
  // Temporal (a third of the realm's properties), binary data (the typed arrays and their
  // shared %TypedArray%, ArrayBuffer, DataView), Reflect, the weak collections, BigInt and
  // the disposable stacks — a quarter of what was left. The proof compares each property
  // of each object that can change before every recycled run, and these are not what
  // platform scripts patch. Error types, Object, Array, String, Date, Math, Map, Set,
  // Promise, JSON, RegExp… stay writable. Instances of a frozen family take their own
  // properties, but shadow a frozen method only through defineProperty (the override rule).
  const wholeFrozen = ["Intl", "Temporal", "Int8Array", "Uint8Array", "Uint8ClampedArray",
    "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float16Array", "Float32Array",
    "Float64Array", "BigInt64Array", "BigUint64Array", "ArrayBuffer", "DataView", "Reflect",
    "WeakMap", "WeakSet", "BigInt", "DisposableStack", "AsyncDisposableStack",
  ];
  deepFreeze(rGetPrototypeOf(Uint16Array));  // %TypedArray%, which no global names
  for (let i = 0; i < wholeFrozen.length; i++) {
    if (oHasOwn(G, wholeFrozen[i])) deepFreeze(G[wholeFrozen[i]]);
  }
  baseline = snapshotRealm();
  signal(KIND_PIN);
  return [sab, run, unpin];
})
