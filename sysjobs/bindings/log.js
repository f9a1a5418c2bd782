// log(...values): one line per call, values joined by spaces; strings as they are,
// errors by their stack, everything else as JSON.
(function (host) {
  "use strict";
  const Str = String;
  const ErrorCtor = Error;
  function text(v) {
    if (typeof v === "string") return v;
    if (v === undefined || typeof v === "function" || typeof v === "symbol") {
      try { return Str(v); } catch (_) { return typeof v; }
    }
    if (v instanceof ErrorCtor) {
      try { const s = v.stack; if (typeof s === "string") return s; } catch (_) { /* fall through */ }
    }
    try {
      const t = host.stringify(v);
      return t === undefined ? Str(v) : t;
    } catch (_) {
      try { return Str(v); } catch (__) { return "[unprintable]"; }
    }
  }
  return function log() {
    let line = "";
    for (let i = 0; i < arguments.length; i++) line += (i ? " " : "") + text(arguments[i]);
    host.call("write", { message: line });
  };
})
