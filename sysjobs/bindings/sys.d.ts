// TypeScript declarations of what a sysjobs script sees: the `sys` global and `log()`.
//
// Kept in step with the bindings by tests/conformance/test_sys_dts.py: every function and
// class method of each namespace's JS object is declared here, and nothing else is.
// Every sample of the spec type-checks against this file (`tsc --noEmit --checkJs`).

/** Writes one line to the script's log: values joined by spaces, non-strings as JSON. */
declare function log(...values: unknown[]): void;

declare namespace sys {
  /** Background jobs. */
  namespace jobs {
    /** The statuses a job goes through. */
    type Status = "PENDING" | "RUNNING" | "FINISHED" | "STOPPING" | "STOPPED" | "CANCELING" | "CANCELED";

    /** The job types scripts may use (others are system ones). */
    type Type =
      | "IMPORT_RECORDS" | "EXPORT_RECORDS" | "EXECUTE_ACTION" | "DELETE_RECORDS"
      | "EXECUTE_LISTENER" | "IMPORT_USERS" | "EXPORT_USERS" | "STOP_APP" | "START_APP"
      | "DEPLOY_ENDPOINT" | "UNDEPLOY_ENDPOINT";

    /** The query of `find`. Several types or statuses: separated by commas. Dates in ms. */
    interface JobQuery {
      type?: string;
      status?: string;
      startFrom?: number;
      startTo?: number;
      endFrom?: number;
      endTo?: number;
      createFrom?: number;
      createTo?: number;
      hasErrors?: boolean | "true" | "false";
      _size?: number;
    }

    /** The query of `logs`. `from`/`to` (ms since Epoch) take precedence over `period`. */
    interface LogQuery {
      level?: "INFO" | "ERROR";
      message?: string;
      from?: number;
      to?: number;
      /** `today`, `yesterday` or a duration such as `2h 30m` or `10m`. */
      period?: string;
      _size?: number;
    }

    /** Finds a job by its ID; null if there is none. Throws badRequest for an invalid ID. */
    function findById(id: string): Job | null;
    /** Jobs matching the query, newest first. Throws badRequest for an invalid query. */
    function find(query: JobQuery): sys.commons.ResultSet<Job>;
    /** Logs of a job. Throws badRequest (invalid jobId or query) or notFound. */
    function logs(jobId: string, query: LogQuery): sys.commons.ResultSet<JobLog>;
    /** Adds an INFO log to the job, or to the current job (discarded if there is none). */
    function logInfo(message: string): void;
    function logInfo(jobId: string | null, message: string): void;
    /** Adds an ERROR log (and sets the job's error flag). */
    function logError(message: string): void;
    function logError(jobId: string | null, message: string): void;
    /** Returns once the job is in one of the statuses; throws timeout after maxTimeToWait ms. */
    function waitForJob(jobId: string, desiredStatus: Status | Status[] | string | string[], maxTimeToWait: number): void;
    /** Returns once every job (up to 1000 ids; duplicates count once) has been seen in one of
     * the statuses; throws timeout after maxTimeToWait ms, notFound for an unknown id. */
    function waitForJobs(jobIds: string[], desiredStatus: Status | Status[] | string | string[], maxTimeToWait: number): void;
    /**
     * Runs `callback(item)` for every item in a background job of `queue` and returns that
     * job's id at once. `items`: an array of JSON values (at most 10,000). `queue`:
     * `'default'` (the app's default queue, `mix`), `mix`, `light`, `heavy`, `system` or one
     * of the app's own queues (its manifest's `queues:`).
     * `callback`: a plain function or arrow function (not native, bound, async, generator,
     * a class or a method); its source runs anew in the job, so it sees `sys` and `log` but
     * not the caller's variables (using one is a ReferenceError naming it, logged as an
     * ERROR line of the job). `step`: items per chunk, a positive integer; without it the
     * items go in about 10 chunks of at most 100 and, past 100 items, in parts run in
     * parallel by child jobs (as many as the queue runs at once). Each item runs exactly once: the job saves
     * a checkpoint after each chunk (a chunk cut short by a worker crash runs again).
     * Progress is items done / items. badRequest for a bad parameter, naming it.
     */
    function executeInJob<T>(items: T[], queue: string, callback: (item: T) => void, step?: number): string;
    function setLowPriority(jobId: string): void;
    function removeLowPriority(jobId: string): void;
    /** The ID of the job running the script, or null outside a job. */
    function getCurrentJobId(): string | null;
    /** The job running the script, or null outside a job. */
    function getCurrentJob(): Job | null;

    /** A job. Every method except id() reads the job's current state from the store. */
    class Job {
      private constructor();
      id(): string;
      label(): string;
      /** Same as label(). */
      name(): string;
      type(): string;
      status(): string;
      /** Percentage, 0 to 100. */
      progress(): number;
      /** Milliseconds from creation to start (grows while pending). */
      waiting(): number;
      /** Milliseconds from start to end (grows while running). */
      duration(): number;
      hasErrors(): boolean;
      startDate(): Date | null;
      endDate(): Date | null;
      runBy(): { id: string; name: string } | null;
      data(): Record<string, any>;
      results(): Record<string, any> | null;
      /** The job that was running when this one was created; null for a root job. */
      parentJob(): { id: string; label: string | null } | null;
      /** The top of the chain of parents; null for a root job. */
      rootJob(): { id: string; label: string | null } | null;
      /** How many jobs this job started (its direct children). */
      childrenJobsCount(): number;
      /** How many of its children are FINISHED or CANCELED. */
      childrenJobsProcessed(): number;
      logs(query?: LogQuery): sys.commons.ResultSet<JobLog>;
      logInfo(message: string): void;
      logError(message: string): void;
    }

    /** One line of a job's log. */
    class JobLog {
      private constructor();
      timestamp(): Date;
      level(): string;
      message(): string;
      additionalInfo(): Record<string, any> | null;
    }
  }

  /** Records, actions and the app's data. */
  namespace data {
    // Explicit exports: `delete` below needs an export clause, which makes every member explicit.
    export type Obj = { [key: string]: any };
    /** A query map: field paths to values or operators, plus `_size`, `_offset`, `_sortField`… */
    export type Query = Obj;
    /** Options of the record jobs. */
    export interface JobOptions { lowPriority?: boolean }

    /** A field of a record: `val()` reads it, `val(v)` changes the record's copy. */
    export interface Field {
      val(): any;
      val(value: any): Field;
      name(): string;
    }

    /** A record of an entity; changes are sent back with `sys.data.save(record)`. */
    export class Record {
      private constructor();
      id(): string | null;
      label(): string | null;
      entityName(): string;
      isNew(): boolean;
      field(path: string): Field;
      toJson(): Obj;
    }

    export function find(entityName: string, query?: Query): sys.commons.ResultSet<Record>;
    export function findOne(entityName: string, query?: Query): Record | null;
    export function findById(entityName: string, id: string): Record | null;
    export function count(entityName: string, query?: Query): number;
    export function createRecord(entityName: string): Record;
    export function save(record: Record): Record;
    export function remove(record: Record): Record | null;
    export function remove(entityName: string, id: string): Record | null;
    /** Runs an action over the records matching the query in a background job; returns the job's ID. */
    export function executeAction(entityName: string | null, query: Query, actionName: string, params?: Obj, options?: JobOptions): string;
    /** Deletes the matching records in a background job; returns the job's ID. */
    function delete_(entityName: string, query: Query, options?: JobOptions): string;
    // `delete` is a reserved word: declared under another name, exported as `delete`.
    export { delete_ as delete };
    /** Imports a stored CSV file into the entity in a background job; returns the job's ID. */
    export function importRecords(entityName: string, fileId: string, options?: JobOptions): string;
    /** DEPLOYING, DEPLOYED, UNDEPLOYING or UNDEPLOYED. */
    export function endpointStatus(endpointName: string): string;
  }

  /**
   * The app's own log (levels INFO, WARN, ERROR, DEBUG), separate from job logs: read with
   * `sysjobs logs app`, `GET /api/app-logs` or `Engine.app_logs`. `message` is a string;
   * `exception` (optional) an Error — kept as its name, message and stack — or any JSON
   * value. A line's bytes count against the run's `maxLogBytes`; each line is capped like a
   * job's log line. badRequest (naming the parameter) for a non-string message, NaN,
   * ±Infinity, BigInt, circular or too deeply nested values and lone surrogates.
   */
  namespace logs {
    function info(message: string, exception?: unknown): void;
    function warn(message: string, exception?: unknown): void;
    function error(message: string, exception?: unknown): void;
    function debug(message: string, exception?: unknown): void;
  }

  /** Helpers shared by every namespace. */
  namespace commons {
    /** A lazy cursor: items are fetched as you iterate. */
    class ResultSet<T> {
      private constructor();
      hasNext(): boolean;
      /** Throws badRequest past the end. */
      next(): T;
      /** Total matching the query, ignoring `_size`. */
      count(): number;
      /** At most 1,000 items (systemException beyond). */
      toArray(): T[];
      close(): void;
    }
    /** Used by the platform's own namespaces to build result sets; not for scripts. */
    function resultSet<T>(handle: unknown, wrap?: (item: any) => T): ResultSet<T>;
  }

  /** Platform errors. */
  namespace exceptions {
    const BAD_REQUEST_ERROR: "badRequest";
    const NOT_FOUND_ERROR: "notFound";
    const TIMEOUT_ERROR: "timeout";
    const VALIDATION_ERRORS: "validationErrors";
    const ACCESS_FORBIDDEN_ERROR: "forbidden";
    const OPTIMISTIC_LOCKING_ERROR: "optimisticLocking";
    const SYSTEM_ERROR: "systemException";
    const UNKNOWN_ERROR: "unknown";
    /**
     * A governance limit of the script run was reached; `getAdditionalInfo(e)` is
     * `{limit, value}`. Per run: `maxJobsStarted` (default 1,000 jobs started by
     * `sys.data.executeAction`/`delete`/`importRecords` and by record listeners),
     * `maxLogBytes` (10 MiB of log lines, every level, any job's log) and `maxHostCalls`
     * (1,000,000 calls of `log()` and `sys.*` functions that reach the host). Once reached,
     * every later call of that kind in the run throws it again. Set per Host
     * (`Governance`) and per app (`governance:` in the manifest; the stricter one applies).
     */
    const LIMIT_EXCEEDED_ERROR: "limitExceeded";

    /**
     * The platform code of an error, or null: `badRequest`, `notFound`, `timeout`,
     * `validationErrors`, `forbidden`, `optimisticLocking`, `systemException`, `unknown`,
     * `limitExceeded`.
     */
    function getCode(e: unknown): string | null;
    function getMessage(e: unknown): string | null;
    function getAdditionalInfo(e: unknown): any;
    function throwException(code: string, message?: string, additionalInfo?: any): never;

    class ScriptException extends Error {
      constructor(code?: string, message?: string, additionalInfo?: any);
      code(): string;
      additionalInfo(): any;
      throw(): never;
    }
  }
}
