// sys.logs: the app's own log (levels INFO, WARN, ERROR, DEBUG), separate from job logs.
// info|warn|error|debug(message, exception): `exception` is optional; an Error is kept as
// its name, message and stack, any other value as it is (plain JSON).
(function (host) {
  "use strict";
  const ErrorCtor = Error;
  const Str = String;
  const wellFormed = String.prototype.toWellFormed;
  function text(v) {
    try { return typeof v === "string" ? wellFormed.call(v) : (v === undefined ? null : Str(v)); }
    catch (_) { return null; }
  }
  function asInfo(exception) {
    if (!(exception instanceof ErrorCtor)) return exception;
    let name = null, message = null, stack = null;
    try { name = text(exception.name); } catch (_) { /* a hostile getter: left out */ }
    try { message = text(exception.message); } catch (_) { /* idem */ }
    try { stack = text(exception.stack); } catch (_) { /* idem */ }
    return { name: name, message: message, stack: stack };
  }
  function write(level, args) {
    const request = { level: level, message: args[0] };
    if (args.length > 1 && args[1] !== undefined) request.exception = asInfo(args[1]);
    host.call("logs.write", request);
  }
  return {
    info: function info(message, exception) { write("INFO", arguments); },
    warn: function warn(message, exception) { write("WARN", arguments); },
    error: function error(message, exception) { write("ERROR", arguments); },
    debug: function debug(message, exception) { write("DEBUG", arguments); },
  };
})
