// sys.jobs: background jobs. Every value a Job method returns is read from the store when
// the method is called (so status() changes while the job runs); only the ID is kept.
(function (host) {
  "use strict";
  const secret = {};
  const isArray = Array.isArray;

  const fnToString = Function.prototype.toString;
  const getProto = Object.getPrototypeOf;
  const hasOwn = Object.prototype.hasOwnProperty;
  const regexTest = RegExp.prototype.test;
  const NOT_PLAIN = [
    [getProto(async function () {}), "an async function"],
    [getProto(function* () {}), "a generator function"],
    [getProto(async function* () {}), "an async generator function"],
  ];
  const NATIVE = /\{\s*\[native code\]\s*\}\s*$/;
  const CLASS = /^class\b/;
  const PLAIN = /^function\b/;
  const ARROW = /^(\([^]*?\)|[A-Za-z_$][\w$]*)\s*=>/;
  const CALLBACK_ALLOWED = " Allowed values: a plain function, e.g. function (item) { … } or (item) => { … }" +
    " (not a native, bound, async or generator function, a class or a method).";

  // The callback's source, which a background job evaluates anew: a refusal names
  // `callback` and what kind of value it was.
  function callbackSource(callback) {
    if (typeof callback !== "function") {
      throw host.error("badRequest", "Invalid value for parameter 'callback': expected a function, got " +
        (callback === null ? "null" : typeof callback) + "." + CALLBACK_ALLOWED);
    }
    let proto, source;
    try {
      proto = getProto(callback);
      source = fnToString.call(callback);
    } catch (_) {
      throw host.error("badRequest", "Invalid value for parameter 'callback': its source cannot be read." + CALLBACK_ALLOWED);
    }
    for (let i = 0; i < NOT_PLAIN.length; i++) {
      if (proto === NOT_PLAIN[i][0]) throw host.error("badRequest", "Invalid value for parameter 'callback': " + NOT_PLAIN[i][1] + "." + CALLBACK_ALLOWED);
    }
    if (regexTest.call(NATIVE, source)) throw host.error("badRequest", "Invalid value for parameter 'callback': a native or bound function has no source to run." + CALLBACK_ALLOWED);
    if (regexTest.call(CLASS, source)) throw host.error("badRequest", "Invalid value for parameter 'callback': a class." + CALLBACK_ALLOWED);
    const arrow = !hasOwn.call(callback, "prototype") && regexTest.call(ARROW, source);
    if (!regexTest.call(PLAIN, source) && !arrow) throw host.error("badRequest", "Invalid value for parameter 'callback': a method or accessor, whose source is not an expression." + CALLBACK_ALLOWED);
    return source;
  }

  function fresh(id) { return host.call("jobs.get", { id: id }); }
  // Where the job is in its tree, read when asked: {parentJob, rootJob, childrenJobsCount,
  // childrenJobsProcessed}.
  function tree(id) { return host.call("jobs.tree", { id: id }); }

  class Job {
    #id;
    constructor(token, id) {
      if (token !== secret) throw host.error("badRequest", "sys.jobs.Job cannot be constructed directly; use sys.jobs.findById(id) or sys.jobs.find(query).");
      this.#id = id;
    }
    id() { return this.#id; }
    label() { return fresh(this.#id).label; }
    name() { return this.label(); }
    type() { return fresh(this.#id).type; }
    status() { return fresh(this.#id).status; }
    progress() { return fresh(this.#id).progress; }
    waiting() { return fresh(this.#id).waiting; }
    duration() { return fresh(this.#id).duration; }
    hasErrors() { return fresh(this.#id).hasErrors; }
    startDate() { return host.date(fresh(this.#id).startDate); }
    endDate() { return host.date(fresh(this.#id).endDate); }
    runBy() { return fresh(this.#id).runBy; }
    data() { return fresh(this.#id).data; }
    results() { return fresh(this.#id).results; }
    parentJob() { return tree(this.#id).parentJob; }
    rootJob() { return tree(this.#id).rootJob; }
    childrenJobsCount() { return tree(this.#id).childrenJobsCount; }
    childrenJobsProcessed() { return tree(this.#id).childrenJobsProcessed; }
    logs(query) {
      const handle = host.call("jobs.jobLogs", { jobId: this.#id, query: query === undefined ? {} : query });
      return host.ns("commons").resultSet(handle, wrapLog);
    }
    logInfo(message) { host.call("jobs.jobLog", { jobId: this.#id, level: "INFO", message: message }); }
    logError(message) { host.call("jobs.jobLog", { jobId: this.#id, level: "ERROR", message: message }); }
    toString() { return "[sys.jobs.Job " + this.#id + "]"; }
    toJSON() { return { id: this.#id }; }
  }

  class JobLog {
    #e;
    constructor(token, entry) {
      if (token !== secret) throw host.error("badRequest", "sys.jobs.JobLog cannot be constructed directly; use sys.jobs.logs(jobId, query).");
      this.#e = entry;
    }
    timestamp() { return host.date(this.#e.timestamp); }
    level() { return this.#e.level; }
    message() { return this.#e.message; }
    additionalInfo() { return this.#e.additionalInfo; }
    toString() { return this.#e.level + ": " + this.#e.message; }
    toJSON() { return this.#e; }
  }

  function wrapJob(encoded) { return encoded === null ? null : new Job(secret, encoded.id); }
  function wrapLog(entry) { return new JobLog(secret, entry); }

  // logInfo(message) and logInfo(jobId, message): with one argument it is the message.
  // With one argument no jobId is sent at all (rather than null): a request without a
  // null in it is serialised once (see the bootstrap's host call).
  function logTo(level, args) {
    if (args.length < 2) host.call("jobs.log", { message: args[0], level: level });
    else host.call("jobs.log", { jobId: args[0], message: args[1], level: level });
  }

  return {
    findById: function findById(id) { return wrapJob(host.call("jobs.findById", { id: id })); },
    find: function find(query) { return host.ns("commons").resultSet(host.call("jobs.find", { query: query }), wrapJob); },
    logs: function logs(jobId, query) { return host.ns("commons").resultSet(host.call("jobs.logs", { jobId: jobId, query: query }), wrapLog); },
    logInfo: function logInfo() { logTo("INFO", arguments); },
    logError: function logError() { logTo("ERROR", arguments); },
    waitForJob: function waitForJob(jobId, desiredStatus, maxTimeToWait) {
      const statuses = isArray(desiredStatus) ? desiredStatus.slice() : desiredStatus;
      host.call("jobs.waitForJob", { jobId: jobId, desiredStatus: statuses, maxTimeToWait: maxTimeToWait });
    },
    waitForJobs: function waitForJobs(jobIds, desiredStatus, maxTimeToWait) {
      const ids = isArray(jobIds) ? jobIds.slice() : jobIds;
      const statuses = isArray(desiredStatus) ? desiredStatus.slice() : desiredStatus;
      host.call("jobs.waitForJobs", { jobIds: ids, desiredStatus: statuses, maxTimeToWait: maxTimeToWait });
    },
    executeInJob: function executeInJob(items, queue, callback, step) {
      const request = { items: isArray(items) ? items.slice() : items, queue: queue, callback: callbackSource(callback) };
      if (step !== undefined) request.step = step;
      return host.call("jobs.executeInJob", request);
    },
    setLowPriority: function setLowPriority(jobId) { host.call("jobs.setLowPriority", { jobId: jobId }); },
    removeLowPriority: function removeLowPriority(jobId) { host.call("jobs.removeLowPriority", { jobId: jobId }); },
    getCurrentJobId: function getCurrentJobId() { return host.call("jobs.getCurrentJobId", {}); },
    getCurrentJob: function getCurrentJob() { return wrapJob(host.call("jobs.getCurrentJob", {})); },
    Job: Job,
    JobLog: JobLog,
  };
})
