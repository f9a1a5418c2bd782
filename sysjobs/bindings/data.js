// sys.data: records of the app's entities, and the record jobs (executeAction, delete,
// importRecords). A Record keeps its JSON form privately; field(path).val(v) changes only
// that copy until sys.data.save(record) sends it back.
(function (host) {
  "use strict";
  const secret = {};
  const hasOwn = Object.prototype.hasOwnProperty;
  const oCreate = Object.create;
  const oKeys = Object.keys;
  const isArray = Array.isArray;

  // A primitive is its own copy (a stored value is JSON already: no NaN, no -0 in it).
  function copy(v) {
    if (v === undefined) return null;
    return typeof v === "object" && v !== null ? host.parse(host.stringify(v)) : v;
  }

  // A value given to field(path).val(v) is copied at once, under the rule of every host
  // call's arguments (see the bootstrap): NaN, ±Infinity, BigInt and circular values are a
  // badRequest naming the field — never a silent null or an uncoded TypeError. An error a
  // script's own getter or toJSON throws passes through as it is.
  const isFinite = Number.isFinite;
  const rApply = Reflect.apply;
  const indexOf = Array.prototype.indexOf;
  const Str = String;
  const MAX_DEPTH = 1000;  // as deep as a host call's arguments may go
  function copyIn(v, field) {
    // What JSON.stringify then JSON.parse would give, without them, for the values most
    // set: a string (lone surrogates and all), a finite number (-0 becomes 0), a boolean,
    // null. A primitive has no toJSON that stringify would call (only objects and BigInts
    // do), so the result is the same; NaN, ±Infinity, BigInt, symbols and every object
    // take the checked path below.
    const kind = typeof v;
    if (kind === "string" || kind === "boolean" || v === null) return v;
    if (kind === "number" && isFinite(v)) return v === 0 ? 0 : v;
    if (v === undefined) return null;
    const path = [];
    function refuse(shown, allowed) {
      return host.error("badRequest", "Invalid value " + shown + " for field '" + field + "'. Allowed values: " + allowed);
    }
    function checked(key, value) {
      while (path.length > 0 && path[path.length - 1] !== this) path.length -= 1;
      const kind = typeof value;
      if ((kind === "number" && !isFinite(value)) || kind === "bigint") {
        throw refuse(kind === "bigint" ? "(a BigInt)" : Str(value), "finite numbers (not NaN, ±Infinity or BigInt)");
      }
      if ((kind === "object" || kind === "function") && value !== null) {
        if (path.length >= MAX_DEPTH) throw refuse("(nested " + MAX_DEPTH + " levels deep)", "JSON data nested less deeply");
        if (rApply(indexOf, path, [value]) >= 0) throw refuse("[Circular]", "JSON data without circular references");
        path[path.length] = value;
      }
      return value;
    }
    const text = host.stringify(v, checked);
    return text === undefined ? null : host.parse(text);
  }

  class Field {
    #record; #path;
    constructor(token, record, path) {
      if (token !== secret) throw host.error("badRequest", "Fields are reached with record.field(path).");
      this.#record = record; this.#path = path;
    }
    val(value) {
      if (arguments.length === 0) return this.#record.__get(secret, this.#path);
      this.#record.__set(secret, this.#path, value);
      return this;
    }
    name() { return this.#path; }
  }

  class Record {
    #d;
    constructor(token, d) {
      if (token !== secret) throw host.error("badRequest", "Records come from sys.data.createRecord(entityName) or sys.data.find(...).");
      this.#d = d;
    }
    __get(token, path) {
      if (token !== secret) return undefined;
      const v = this.#d.fields[path];
      return v === undefined ? null : copy(v);
    }
    __set(token, path, value) {
      if (token === secret) this.#d.fields[path] = copyIn(value, path);
    }
    __wire(token) { return token === secret ? this.#d : null; }
    id() { return this.#d.id; }
    label() { return this.#d.label; }
    entityName() { return this.#d.entityName; }
    isNew() { return this.#d.id === null || this.#d.id === undefined; }
    field(path) {
      const names = this.#d.fieldNames;
      if (typeof path !== "string" || names.indexOf(path) < 0) {
        throw host.error("badRequest", "Invalid field '" + path + "' for entity '" + this.#d.entityName + "'. Allowed fields: " + names.join(", "));
      }
      return new Field(secret, this, path);
    }
    toJson() {
      const out = { id: this.#d.id, label: this.#d.label, entityName: this.#d.entityName };
      const f = this.#d.fields;
      for (const path in f) {
        if (!hasOwn.call(f, path)) continue;
        const parts = path.split(".");
        let node = out;
        for (let i = 0; i < parts.length - 1; i++) {
          if (node[parts[i]] === null || typeof node[parts[i]] !== "object") node[parts[i]] = {};
          node = node[parts[i]];
        }
        node[parts[parts.length - 1]] = copy(f[path]);
      }
      return out;
    }
    toJSON() { return this.toJson(); }
    toString() { return "[sys.data.Record " + this.#d.entityName + " " + this.#d.id + "]"; }
  }

  function wrap(d) { return d === null || d === undefined ? null : new Record(secret, d); }

  // createRecord's answer depends only on the entity, whose definition a run does not see
  // change: the host is asked once per entity and run (it validates the name; an error is
  // never kept), and the next records of that entity are parsed from a text of that answer
  // — each a record of its own, as the host's would be — without a host call. A new run
  // forgets them (a recycled context may serve a newer definition).
  let created = oCreate(null);
  host.onRunStart(function () { created = oCreate(null); });
  function createRecord(entityName) {
    const known = typeof entityName === "string" ? created[entityName] : undefined;
    if (known !== undefined) return new Record(secret, host.parse(known));
    const d = host.call("createRecord", { entityName: entityName });
    const text = typeof entityName === "string" ? newRecordText(d) : undefined;
    if (text !== undefined) created[entityName] = text;
    return wrap(d);
  }

  // The text of a host's new record, written here from its own data properties (a parsed
  // answer has no others): JSON.stringify of the object would call a toJSON a script put
  // on Object.prototype or Array.prototype, but it looks up none for a string. Undefined
  // for any other shape, which is then not kept.
  const quote = host.stringify;
  function newRecordText(d) {
    if (d === null || typeof d !== "object" || oKeys(d).length !== 6) return undefined;
    const fields = d.fields, names = d.fieldNames;
    if (d.id !== null || d.label !== null || d.version !== 0 || typeof d.entityName !== "string"
        || fields === null || typeof fields !== "object" || oKeys(fields).length !== 0
        || !isArray(names)) return undefined;
    let text = '{"id":null,"entityName":' + quote(d.entityName)
      + ',"label":null,"version":0,"fields":{},"fieldNames":[';
    for (let i = 0; i < names.length; i++) {
      if (typeof names[i] !== "string") return undefined;
      text += (i === 0 ? "" : ",") + quote(names[i]);
    }
    return text + "]}";
  }

  // save's request leaves out a record's null id and label (the host's defaults): the
  // request then usually has no `null` in it, and the bootstrap sends it after one plain
  // stringify instead of a second, checking one (a null may hide a NaN).
  function saved(d) {
    const out = { __proto__: null };
    const keys = oKeys(d);
    for (let i = 0; i < keys.length; i++) {
      const v = d[keys[i]];
      if (v !== null || (keys[i] !== "id" && keys[i] !== "label")) out[keys[i]] = v;
    }
    return out;
  }
  function wireOf(record, param) {
    if (!(record instanceof Record)) {
      throw host.error("badRequest", "Invalid value for parameter '" + param + "': expected a record from sys.data");
    }
    return record.__wire(secret);
  }
  function q(query) { return query === undefined ? {} : query; }
  function opts(options) { return options === undefined || options === null ? {} : options; }

  // Action scripts see `record`/`oldRecord` as Records and `action.field(name).val()`.
  host.adaptGlobal("record", wrap);
  host.adaptGlobal("oldRecord", wrap);
  host.adaptGlobal("action", function (a) {
    const params = (a && a.params) || {};
    return host.freeze({
      params: params,
      field: function (name) {
        return { val: function () { const v = params[name]; return v === undefined ? null : v; } };
      },
    });
  });

  return {
    find: function (entityName, query) {
      const handle = host.call("find", { entityName: entityName, query: q(query) });
      return host.ns("commons").resultSet(handle, wrap);
    },
    findOne: function (entityName, query) {
      return wrap(host.call("findOne", { entityName: entityName, query: q(query) }));
    },
    findById: function (entityName, id) {
      return wrap(host.call("findById", { entityName: entityName, id: id }));
    },
    count: function (entityName, query) {
      return host.call("count", { entityName: entityName, query: q(query) });
    },
    createRecord: createRecord,
    save: function (record) { return wrap(host.call("save", { record: saved(wireOf(record, "record")) })); },
    remove: function (recordOrEntity, id) {
      const args = recordOrEntity instanceof Record
        ? { entityName: recordOrEntity.entityName(), id: recordOrEntity.id() }
        : { entityName: recordOrEntity, id: id };
      return wrap(host.call("remove", args));
    },
    executeAction: function (entityName, query, actionName, params, options) {
      return host.call("executeAction", { entityName: entityName, query: q(query), actionName: actionName,
        params: params === undefined ? {} : params, options: opts(options) });
    },
    delete: function (entityName, query, options) {
      return host.call("delete", { entityName: entityName, query: q(query), options: opts(options) });
    },
    importRecords: function (entityName, fileId, options) {
      return host.call("importRecords", { entityName: entityName, fileId: fileId, options: opts(options) });
    },
    endpointStatus: function (endpointName) {
      return host.call("endpointStatus", { endpointName: endpointName });
    },
    Record: Record,
  };
})
