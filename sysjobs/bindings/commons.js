// sys.commons.ResultSet: a lazy cursor over a Python iterator. Items come in pages;
// nothing is materialised beyond the current page.
(function (host) {
  "use strict";
  const MAX_ARRAY = 1000;
  const secret = {};
  let openResultSet = null;

  class ResultSet {
    #id; #wrap; #buffer; #at; #done;
    constructor(token, handle, wrap) {
      if (token !== secret) throw host.error("badRequest", "ResultSet cannot be constructed directly; it is returned by find() and logs().");
      this.#id = handle.id;
      this.#wrap = wrap;
      this.#buffer = handle.items;
      this.#at = 0;
      this.#done = handle.done;
    }
    hasNext() {
      if (this.#at < this.#buffer.length) return true;
      if (this.#done) return false;
      const page = host.call("page", { id: this.#id });
      this.#buffer = page.items;
      this.#at = 0;
      this.#done = page.done;
      return this.#buffer.length > 0;
    }
    next() {
      if (!this.hasNext()) throw host.error("badRequest", "No more items in the result set: check hasNext() before calling next().");
      const item = this.#buffer[this.#at];
      this.#at += 1;
      return this.#wrap(item);
    }
    count() { return host.call("count", { id: this.#id }); }
    toArray() {
      const out = [];
      while (this.hasNext()) {
        if (out.length >= MAX_ARRAY) {
          throw host.error("systemException", "toArray() returns at most " + MAX_ARRAY + " items; iterate with hasNext() and next() instead.");
        }
        out[out.length] = this.next();
      }
      return out;
    }
    close() {
      if (!this.#done) host.call("close", { id: this.#id });
      this.#buffer = [];
      this.#at = 0;
      this.#done = true;
    }
  }

  return {
    ResultSet: ResultSet,
    // For other namespaces' preludes: turn a handle from open_result_set into a ResultSet.
    resultSet: function (handle, wrap) { return new ResultSet(secret, handle, wrap || function (x) { return x; }); },
  };
})
