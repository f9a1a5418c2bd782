// sys.exceptions: platform error codes and helpers. Codes live in the bootstrap's private
// brand map, never in properties, so `e.code = 'notFound'` forges nothing.
(function (host) {
  "use strict";
  const C = __CONSTANTS__;
  const Str = String;
  const ErrorCtor = Error;

  class ScriptException extends ErrorCtor {
    constructor(code, message, additionalInfo) {
      super(message === undefined || message === null ? "" : Str(message));
      host.brand(this, code === undefined || code === null ? C.UNKNOWN_ERROR : code,
        message === undefined || message === null ? "" : message, additionalInfo);
    }
    code() { return host.codeOf(this); }
    message() { return host.messageOf(this); }
    additionalInfo() { return host.infoOf(this); }
    throw() { throw this; }
  }
  Object.defineProperty(ScriptException.prototype, "name", { value: "ScriptException" });

  function getMessage(e) {
    const m = host.messageOf(e);
    if (m !== undefined) return m;
    if (e instanceof ErrorCtor) { try { return Str(e.message); } catch (_) { return null; } }
    if (e === undefined || e === null) return null;
    try { return Str(e); } catch (_) { return null; }
  }

  const ns = {
    getCode: function getCode(e) { return host.codeOf(e); },
    getMessage: getMessage,
    getAdditionalInfo: function getAdditionalInfo(e) { return host.infoOf(e); },
    throwException: function throwException(code, message, additionalInfo) {
      throw new ScriptException(code, message, additionalInfo);
    },
    ScriptException: ScriptException,
  };
  for (const name in C) ns[name] = C[name];
  return ns;
})
