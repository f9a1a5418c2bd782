-- The current PostgreSQL schema of sysjobs: what revisions 0001-0020 applied in order leave,
-- tables, sequences, constraints, indexes and the lease functions (Alembic's own
-- alembic_version table aside). tests/integration/store/test_pg_schema.py holds the two equal,
-- comparing the catalogs; after a new revision, bring this file along (pg_dump --schema-only
-- --no-owner --no-privileges of a migrated database, without its SET lines, shows what to write).
-- The functions are those of sql/0011_lease_v4.sql, sql/0016_lease_v5.sql,
-- sql/0017_lease_v6.sql, sql/0018_lease_v7.sql and sql/0020_lease_v8.sql; the app tables
-- are app_schema.py's.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- Tables

CREATE TABLE app_endpoints (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    name character varying(100) NOT NULL,
    status character varying(20) NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE app_files (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    id character varying(24) NOT NULL,
    name character varying(255) NOT NULL,
    content_type character varying(100) NOT NULL,
    content bytea NOT NULL,
    size integer NOT NULL,
    token_hash character varying(64),
    token_expires_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL
);

CREATE TABLE app_logs (
    id bigint NOT NULL,
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    ts_ms bigint NOT NULL,
    level character varying(8) NOT NULL,
    message text NOT NULL,
    additional_info json,
    job_id character varying(24)
);

CREATE SEQUENCE app_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE app_logs_id_seq OWNED BY app_logs.id;

CREATE TABLE app_records (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    id character varying(24) NOT NULL,
    entity character varying(100) NOT NULL,
    label text,
    data jsonb NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE app_state (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    name character varying(100) NOT NULL,
    status character varying(20) NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE app_users (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    id character varying(24) NOT NULL,
    email character varying(255) NOT NULL,
    first_name character varying(255) NOT NULL,
    last_name character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL
);

CREATE TABLE job_events (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    id bigint NOT NULL,
    job_id character varying(24) NOT NULL,
    at_ms bigint NOT NULL,
    from_status character varying(16),
    to_status character varying(16) NOT NULL,
    attempt integer NOT NULL,
    owner character varying(40),
    reason text
);

CREATE SEQUENCE job_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE job_events_id_seq OWNED BY job_events.id;

CREATE TABLE job_logs (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    id bigint NOT NULL,
    job_id character varying(24) NOT NULL,
    ts_ms bigint NOT NULL,
    level character varying(8) NOT NULL,
    message text NOT NULL,
    additional_info json
);

CREATE SEQUENCE job_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE job_logs_id_seq OWNED BY job_logs.id;

CREATE TABLE job_results (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    job_id character varying(24) NOT NULL,
    results json,
    checkpoint json
);

CREATE TABLE jobs (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    id character varying(24) NOT NULL,
    type character varying(64) NOT NULL,
    label character varying(255),
    status character varying(16) NOT NULL,
    queue character varying(32) NOT NULL,
    low_priority boolean NOT NULL,
    progress integer NOT NULL,
    has_errors boolean NOT NULL,
    created_ms bigint NOT NULL,
    started_ms bigint,
    ended_ms bigint,
    run_by_id character varying(64),
    run_by_name character varying(255),
    parent_id character varying(24),
    root_id character varying(24),
    data json NOT NULL,
    owner character varying(40),
    attempt integer NOT NULL,
    lease_expires_ms bigint,
    force_at_ms bigint,
    lost_count integer NOT NULL,
    max_retries integer NOT NULL,
    turn bigint DEFAULT 0 NOT NULL
);

CREATE TABLE schedules (
    app character varying(64) DEFAULT ''::character varying NOT NULL,
    name character varying(100) NOT NULL,
    cron character varying(200) NOT NULL,
    timezone character varying(64) NOT NULL,
    target character varying(300) NOT NULL,
    enabled boolean NOT NULL,
    active boolean NOT NULL,
    spec character varying(400) NOT NULL,
    next_ms bigint,
    last_tick_ms bigint,
    last_fired_ms bigint,
    last_job_id character varying(24),
    updated_ms bigint NOT NULL
);

CREATE TABLE workers (
    id character varying(40) NOT NULL,
    host character varying(255) NOT NULL,
    pid integer NOT NULL,
    slots integer NOT NULL,
    queues json NOT NULL,
    apps json NOT NULL,
    busy integer NOT NULL,
    job_ids json NOT NULL,
    lease_ms bigint NOT NULL,
    started_ms bigint NOT NULL,
    last_seen_ms bigint NOT NULL
);

ALTER TABLE ONLY app_logs ALTER COLUMN id SET DEFAULT nextval('app_logs_id_seq'::regclass);

ALTER TABLE ONLY job_events ALTER COLUMN id SET DEFAULT nextval('job_events_id_seq'::regclass);

ALTER TABLE ONLY job_logs ALTER COLUMN id SET DEFAULT nextval('job_logs_id_seq'::regclass);

ALTER TABLE ONLY app_endpoints
    ADD CONSTRAINT app_endpoints_pkey PRIMARY KEY (app, name);

ALTER TABLE ONLY app_files
    ADD CONSTRAINT app_files_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app_logs
    ADD CONSTRAINT app_logs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app_records
    ADD CONSTRAINT app_records_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app_state
    ADD CONSTRAINT app_state_pkey PRIMARY KEY (app, name);

ALTER TABLE ONLY app_users
    ADD CONSTRAINT app_users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY job_events
    ADD CONSTRAINT job_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY job_logs
    ADD CONSTRAINT job_logs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY job_results
    ADD CONSTRAINT job_results_pkey PRIMARY KEY (job_id);

ALTER TABLE ONLY jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY schedules
    ADD CONSTRAINT schedules_pkey PRIMARY KEY (app, name);

ALTER TABLE ONLY workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);

CREATE INDEX ix_app_files_app_name ON app_files USING btree (app, name);

CREATE INDEX ix_app_logs_app_ts ON app_logs USING btree (app, ts_ms, id);

CREATE INDEX ix_app_logs_ts ON app_logs USING btree (ts_ms);

CREATE INDEX ix_app_records_app_entity_id ON app_records USING btree (app, entity, id);

CREATE UNIQUE INDEX ux_app_users_app_email ON app_users USING btree (app, email);

CREATE INDEX ix_job_events_at ON job_events USING btree (at_ms);

CREATE INDEX ix_job_events_job ON job_events USING btree (job_id, id);

CREATE INDEX ix_job_logs_job_ts ON job_logs USING btree (job_id, ts_ms, id);

CREATE INDEX ix_job_logs_message_trgm ON job_logs USING gin (message gin_trgm_ops);

CREATE INDEX ix_jobs_app_created ON jobs USING btree (app, created_ms, id);

CREATE INDEX ix_jobs_app_leased ON jobs USING btree (app, queue) WHERE (owner IS NOT NULL);

CREATE INDEX ix_jobs_app_parent ON jobs USING btree (app, parent_id, status) WHERE (parent_id IS NOT NULL);

CREATE INDEX ix_jobs_app_pending_order ON jobs USING btree (app, turn, id) WHERE ((status)::text = 'PENDING'::text);

CREATE INDEX ix_jobs_app_root ON jobs USING btree (app, root_id, created_ms, id) WHERE (root_id IS NOT NULL);

CREATE INDEX ix_jobs_created ON jobs USING btree (created_ms, id);

CREATE INDEX ix_jobs_ended ON jobs USING btree (ended_ms) WHERE (ended_ms IS NOT NULL);

CREATE INDEX ix_jobs_leased ON jobs USING btree (lease_expires_ms) WHERE (owner IS NOT NULL);

CREATE INDEX ix_jobs_root_pending ON jobs USING btree (root_id, turn) WHERE (((status)::text = 'PENDING'::text) AND (root_id IS NOT NULL));

CREATE INDEX ix_jobs_started ON jobs USING btree (started_ms) WHERE (started_ms IS NOT NULL);

CREATE INDEX ix_jobs_status_created ON jobs USING btree (status, created_ms, id);

CREATE INDEX ix_jobs_type_created ON jobs USING btree (type, created_ms);

CREATE INDEX ix_workers_last_seen ON workers USING btree (last_seen_ms);

ALTER TABLE ONLY job_events
    ADD CONSTRAINT job_events_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE;

ALTER TABLE ONLY job_logs
    ADD CONSTRAINT job_logs_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE;

ALTER TABLE ONLY job_results
    ADD CONSTRAINT job_results_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE;

-- The lease functions (sysjobs/store/postgres/leases.py calls sysjobs_end_and_claim_v8, which
-- calls the _v7 take and fair rounds; sysjobs_end_and_claim_v7 stays for workers of the
-- release before revision 0020, the _v6 ones for those of the release before revision 0018,
-- the _v5 ones for those of the release before revision 0017, the _v4 ones for those of the release before
-- revision 0016; revision 0011 dropped
-- the _v3 ones: they claim across apps)

CREATE FUNCTION sysjobs_claim_batch_v4(
  p_owner text, p_app text, p_queues text[], p_types text[], p_limit int, p_low boolean,
  p_aged_before bigint, p_now bigint, p_lease_ms bigint)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  v_rows json;
BEGIN
  WITH picked AS MATERIALIZED (
    SELECT j.id, j.ctid FROM jobs j
    WHERE j.status = 'PENDING' AND j.app = p_app
      AND (j.queue || '') = ANY (p_queues) AND (j.type || '') = ANY (p_types)
      AND CASE WHEN p_low THEN j.low_priority
               ELSE (j.low_priority IS false OR j.created_ms <= p_aged_before) END
    ORDER BY j.created_ms, j.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  ), upd AS (
    UPDATE jobs j SET
      status = 'RUNNING', owner = p_owner, attempt = j.attempt + 1,
      lease_expires_ms = p_now + p_lease_ms, started_ms = coalesce(j.started_ms, greatest(j.created_ms, p_now)),
      ended_ms = NULL, force_at_ms = NULL
    WHERE j.ctid = ANY (ARRAY(SELECT p.ctid FROM picked p)) AND (j.status || '') = 'PENDING'
    RETURNING j.*
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, greatest(u.started_ms, p_now, CASE WHEN u.attempt > 1 THEN
             (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = u.id) END),
           'PENDING', 'RUNNING', u.attempt, p_owner, 'claimed'
    FROM upd u ORDER BY u.created_ms, u.id
    RETURNING job_id
  )
  SELECT coalesce(json_agg(json_build_array(
           to_json(u), r.results, r.checkpoint) ORDER BY u.created_ms, u.id), '[]')
  INTO v_rows
  FROM upd u LEFT JOIN LATERAL (
    SELECT r.results, r.checkpoint FROM job_results r WHERE r.job_id = u.id
  ) r ON u.attempt > 1;
  RETURN v_rows;
END
$fn$;

CREATE FUNCTION sysjobs_claim_fair_v4(
  p_owner text, p_apps text[], p_queues text[], p_types text[], p_app_types json, p_limit int,
  p_low boolean, p_aged_before bigint, p_now bigint, p_lease_ms bigint)
RETURNS json
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_active text[];
  v_still text[];
  v_app text;
  v_turn int;
  v_types text[];
  v_want int;
  v_got json;
  v_n int;
  v_all json[] := '{}';
  v_taken int := 0;
BEGIN
  -- Rounds over the apps (each once, in the order given): every app still in play may take
  -- an equal share of the slots left at its turn; one that took less than offered has no more.
  SELECT coalesce(array_agg(a ORDER BY n), '{}') INTO v_active
  FROM (SELECT a, min(n) AS n FROM unnest(p_apps) WITH ORDINALITY AS t(a, n) GROUP BY a) s;
  WHILE cardinality(v_active) > 0 AND v_taken < p_limit LOOP
    v_still := '{}';
    v_turn := 0;
    FOREACH v_app IN ARRAY v_active LOOP
      -- the slots left over the apps yet to take their share, rounded up
      v_want := (p_limit - v_taken + cardinality(v_active) - v_turn - 1)
                / (cardinality(v_active) - v_turn);
      v_turn := v_turn + 1;
      EXIT WHEN v_want <= 0;
      v_types := CASE WHEN p_app_types -> v_app IS NULL THEN p_types
                      ELSE ARRAY(SELECT json_array_elements_text(p_app_types -> v_app)) END;
      v_got := CASE WHEN cardinality(v_types) = 0 THEN '[]'::json
                    ELSE sysjobs_claim_batch_v4(p_owner, v_app, p_queues, v_types, v_want, p_low,
                                                p_aged_before, p_now, p_lease_ms) END;
      v_n := json_array_length(v_got);
      v_taken := v_taken + v_n;
      IF v_n > 0 THEN
        v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
      END IF;
      IF v_n = v_want THEN
        v_still := v_still || v_app;
      END IF;
    END LOOP;
    v_active := v_still;
  END LOOP;
  RETURN coalesce(array_to_json(v_all), '[]');
END
$fn$;

CREATE FUNCTION sysjobs_end_and_claim_v4(
  p_ends json, p_claims json, p_channel text, p_rows boolean)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  c record;
  v_ok json;
  v_claimed json[] := '{}';
  v_rows json;
  v_low json;
  v_taken int;
  v_ended json;
  v_keys text[] := '{}';
  v_payload text;
BEGIN
  -- 1. The ends: lock the leased rows (id order) and decide each under the lock.
  WITH e AS (
    SELECT * FROM json_to_recordset(p_ends) AS x(
      ord int, id text, owner text, attempt int, targets json, now bigint,
      has_errors boolean, progress int, reason text, has_results boolean, results json)
  ), locked AS (
    SELECT j.id, j.ctid, j.status, j.owner, j.attempt FROM jobs j
    WHERE j.id = ANY (ARRAY(SELECT e.id FROM e))
      AND (j.status || '') IN ('RUNNING', 'STOPPING', 'CANCELING')
    ORDER BY j.id
    FOR UPDATE OF j
  )
  SELECT coalesce(json_agg(to_json(d)), '[]') INTO v_ok
  FROM (
    SELECT e.ord, e.id, e.owner, e.attempt, e.now, e.has_errors, e.progress, e.reason,
           e.has_results, e.results, l.ctid::text AS tid, l.status AS before,
           e.targets ->> l.status AS after
    FROM e JOIN locked l ON l.id = e.id AND l.owner = e.owner AND l.attempt = e.attempt
    WHERE e.targets ->> l.status IS NOT NULL
  ) d;

  -- 2. The claims, normal priority first, then low while slots are left.
  FOR c IN
    SELECT * FROM json_to_recordset(p_claims) AS x(
      owner text, apps text[], queues text[], types text[], app_types json, "limit" int,
      allow_low boolean, aged_before bigint, now bigint, lease_ms bigint)
  LOOP
    v_rows := sysjobs_claim_fair_v4(c.owner, c.apps, c.queues, c.types, c.app_types,
                                    c."limit", false, c.aged_before, c.now, c.lease_ms);
    v_taken := json_array_length(v_rows);
    IF c.allow_low AND v_taken < c."limit" THEN
      v_low := sysjobs_claim_fair_v4(c.owner, c.apps, c.queues, c.types, c.app_types,
                                     c."limit" - v_taken, true, c.aged_before, c.now,
                                     c.lease_ms);
      IF json_array_length(v_low) > 0 THEN
        v_rows := (SELECT json_agg(r ORDER BY part, n) FROM (
          SELECT 1 AS part, n, r FROM json_array_elements(v_rows) WITH ORDINALITY AS a(r, n)
          UNION ALL
          SELECT 2, n, r FROM json_array_elements(v_low) WITH ORDINALITY AS b(r, n)) s);
      END IF;
    END IF;
    v_claimed := v_claimed || v_rows;
    v_keys := v_keys
      || ARRAY(SELECT 'job:' || (r -> 0 ->> 'id') FROM json_array_elements(v_rows) r);
  END LOOP;

  -- 3. The ends decided in 1: lease released, end date, errors, progress, results, events.
  WITH ok AS (
    SELECT * FROM json_to_recordset(v_ok) AS x(
      ord int, id text, owner text, attempt int, now bigint, has_errors boolean,
      progress int, reason text, has_results boolean, results json, tid tid, before text,
      after text)
  ), upd AS (
    UPDATE jobs j SET
      status = ok.after, owner = NULL, lease_expires_ms = NULL, force_at_ms = NULL,
      ended_ms = CASE WHEN ok.after = 'PENDING' THEN NULL ELSE greatest(j.created_ms, j.started_ms, ok.now,
        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id)) END,
      has_errors = j.has_errors OR ok.has_errors,
      progress = coalesce(ok.progress, j.progress)
    FROM ok WHERE j.ctid = ANY (ARRAY(SELECT ok.tid FROM ok)) AND j.id = ok.id
    RETURNING ok.ord, j.id, j.app, ok.before, ok.after, greatest(j.created_ms, j.started_ms, ok.now,
        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id)) AS now, ok.attempt AS fence_attempt,
              ok.owner AS fence_owner, ok.reason, ok.has_results, ok.results AS new_results,
              CASE WHEN p_rows THEN to_json(j) END AS row
  ), res AS (
    UPDATE job_results r SET results = u.new_results
    FROM upd u WHERE u.has_results AND r.job_id = u.id
      AND r.job_id = ANY (ARRAY(SELECT w.id FROM upd w WHERE w.has_results))
    RETURNING r.job_id
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, u.now, u.before, u.after, u.fence_attempt, u.fence_owner, u.reason
    FROM upd u ORDER BY u.ord
    RETURNING job_id
  )
  SELECT
    (SELECT coalesce(json_agg(CASE WHEN p_rows THEN json_build_array(
       u.ord, u.row,
       CASE WHEN u.has_results THEN u.new_results
            ELSE (SELECT r.results FROM job_results r WHERE r.job_id = u.id) END)
     ELSE json_build_array(u.ord, json_build_object('id', u.id, 'status', u.after), NULL)
     END ORDER BY u.ord), '[]') FROM upd u),
    v_keys || ARRAY(
      SELECT k.key FROM upd u
      CROSS JOIN LATERAL (
        VALUES (1, 'job:' || u.id), (2, CASE WHEN u.after = 'PENDING' THEN 'work' END)
      ) AS k(n, key)
      WHERE k.key IS NOT NULL ORDER BY u.ord, k.n)
  INTO v_ended, v_keys;

  -- 4. One hint for everything that changed, delivered on commit.
  IF p_channel IS NOT NULL AND cardinality(v_keys) > 0 THEN
    SELECT string_agg(key, ',' ORDER BY first) INTO v_payload
    FROM (SELECT key, min(n) AS first FROM unnest(v_keys) WITH ORDINALITY AS t(key, n)
          GROUP BY key) s;
    IF length(v_payload) > 4000 THEN v_payload := '*'; END IF;
    PERFORM pg_notify(p_channel, v_payload);
  END IF;
  RETURN json_build_object('claimed', to_json(v_claimed), 'ended', v_ended);
END
$fn$;

CREATE FUNCTION sysjobs_claim_take_v5(
  p_owner text, p_app text, p_queues text[], p_types text[], p_limit int, p_low boolean,
  p_aged_before bigint, p_now bigint, p_lease_ms bigint)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_sort = off
SET jit = off
AS $fn$
DECLARE
  v_rows json;
BEGIN
  WITH picked AS MATERIALIZED (
    SELECT j.id, j.ctid FROM jobs j
    WHERE j.status = 'PENDING' AND j.app = p_app
      AND (j.queue || '') = ANY (p_queues) AND (j.type || '') = ANY (p_types)
      AND CASE WHEN p_low THEN j.low_priority
               ELSE (j.low_priority IS false OR j.created_ms <= p_aged_before) END
    ORDER BY j.turn, j.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  ), upd AS (
    UPDATE jobs j SET
      status = 'RUNNING', owner = p_owner, attempt = j.attempt + 1,
      lease_expires_ms = p_now + p_lease_ms, started_ms = coalesce(j.started_ms, greatest(j.created_ms, p_now)),
      ended_ms = NULL, force_at_ms = NULL
    WHERE j.ctid = ANY (ARRAY(SELECT p.ctid FROM picked p)) AND (j.status || '') = 'PENDING'
    RETURNING j.*
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, greatest(u.started_ms, p_now, CASE WHEN u.attempt > 1 THEN
             (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = u.id) END),
           'PENDING', 'RUNNING', u.attempt, p_owner, 'claimed'
    FROM upd u ORDER BY u.created_ms, u.id
    RETURNING job_id
  )
  SELECT coalesce(json_agg(json_build_array(
           to_json(u), r.results, r.checkpoint) ORDER BY u.created_ms, u.id), '[]')
  INTO v_rows
  FROM upd u LEFT JOIN LATERAL (
    SELECT r.results, r.checkpoint FROM job_results r WHERE r.job_id = u.id
  ) r ON u.attempt > 1;
  RETURN v_rows;
END
$fn$;

CREATE FUNCTION sysjobs_claim_batch_v5(
  p_owner text, p_app text, p_queues text[], p_types text[], p_limit int, p_low boolean,
  p_aged_before bigint, p_now bigint, p_lease_ms bigint, p_queue_caps json, p_app_cap int)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  v_limited text[];
  v_free text[];
  v_key bigint;
  v_counts json;
  v_want int := p_limit;
  v_queue text;
  v_n int;
  v_got json;
  v_all json[] := '{}';
  v_taken int := 0;
BEGIN
  SELECT coalesce(array_agg(q ORDER BY n), '{}') INTO v_limited
  FROM unnest(p_queues) WITH ORDINALITY AS t(q, n)
  WHERE p_queue_caps IS NOT NULL AND p_queue_caps ->> q IS NOT NULL;
  IF p_app_cap IS NULL AND cardinality(v_limited) = 0 THEN
    RETURN sysjobs_claim_take_v5(p_owner, p_app, p_queues, p_types, p_limit, p_low,
                                 p_aged_before, p_now, p_lease_ms);
  END IF;
  -- Limits across the fleet: one lock per capped app and per limited (app, queue), taken
  -- in key order (sysjobs_end_and_claim_v5 took them all already, in the same order; taking
  -- one again is immediate), then the app's leased jobs counted under them.
  FOR v_key IN
    SELECT k FROM (
      SELECT hashtextextended('sysjobs.app:' || p_app, 0) AS k WHERE p_app_cap IS NOT NULL
      UNION
      SELECT hashtextextended('sysjobs.queue:' || p_app || '/' || q, 0) FROM unnest(v_limited) q
    ) s ORDER BY k
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  SELECT coalesce(json_object_agg(s.queue, s.n), '{}') INTO v_counts
  FROM (SELECT j.queue, count(*) AS n FROM jobs j
        WHERE j.app = p_app AND j.owner IS NOT NULL GROUP BY j.queue) s;
  IF p_app_cap IS NOT NULL THEN
    v_want := least(v_want, p_app_cap - (SELECT coalesce(sum(value::text::int), 0)
                                         FROM json_each(v_counts)));
  END IF;
  FOREACH v_queue IN ARRAY v_limited LOOP
    v_n := least((p_queue_caps ->> v_queue)::int - coalesce((v_counts ->> v_queue)::int, 0),
                 v_want - v_taken);
    IF v_n > 0 THEN
      v_got := sysjobs_claim_take_v5(p_owner, p_app, ARRAY[v_queue], p_types, v_n, p_low,
                                     p_aged_before, p_now, p_lease_ms);
      v_taken := v_taken + json_array_length(v_got);
      v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
    END IF;
  END LOOP;
  v_free := ARRAY(SELECT q FROM unnest(p_queues) AS t(q) WHERE q <> ALL (v_limited));
  IF cardinality(v_free) > 0 AND v_taken < v_want THEN
    v_got := sysjobs_claim_take_v5(p_owner, p_app, v_free, p_types, v_want - v_taken, p_low,
                                   p_aged_before, p_now, p_lease_ms);
    v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
  END IF;
  RETURN coalesce(array_to_json(v_all), '[]');
END
$fn$;

CREATE FUNCTION sysjobs_claim_fair_v5(
  p_owner text, p_apps text[], p_queues text[], p_types text[], p_app_types json, p_limit int,
  p_low boolean, p_aged_before bigint, p_now bigint, p_lease_ms bigint, p_queue_caps json,
  p_app_caps json)
RETURNS json
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_active text[];
  v_still text[];
  v_app text;
  v_turn int;
  v_types text[];
  v_want int;
  v_got json;
  v_n int;
  v_all json[] := '{}';
  v_taken int := 0;
BEGIN
  -- Rounds over the apps (each once, in the order given): every app still in play may take
  -- an equal share of the slots left at its turn; one that took less than offered has no more.
  SELECT coalesce(array_agg(a ORDER BY n), '{}') INTO v_active
  FROM (SELECT a, min(n) AS n FROM unnest(p_apps) WITH ORDINALITY AS t(a, n) GROUP BY a) s;
  WHILE cardinality(v_active) > 0 AND v_taken < p_limit LOOP
    v_still := '{}';
    v_turn := 0;
    FOREACH v_app IN ARRAY v_active LOOP
      -- the slots left over the apps yet to take their share, rounded up
      v_want := (p_limit - v_taken + cardinality(v_active) - v_turn - 1)
                / (cardinality(v_active) - v_turn);
      v_turn := v_turn + 1;
      EXIT WHEN v_want <= 0;
      v_types := CASE WHEN p_app_types -> v_app IS NULL THEN p_types
                      ELSE ARRAY(SELECT json_array_elements_text(p_app_types -> v_app)) END;
      v_got := CASE WHEN cardinality(v_types) = 0 THEN '[]'::json
                    ELSE sysjobs_claim_batch_v5(p_owner, v_app, p_queues, v_types, v_want, p_low,
                                                p_aged_before, p_now, p_lease_ms,
                                                p_queue_caps -> v_app,
                                                (p_app_caps ->> v_app)::int) END;
      v_n := json_array_length(v_got);
      v_taken := v_taken + v_n;
      IF v_n > 0 THEN
        v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
      END IF;
      IF v_n = v_want THEN
        v_still := v_still || v_app;
      END IF;
    END LOOP;
    v_active := v_still;
  END LOOP;
  RETURN coalesce(array_to_json(v_all), '[]');
END
$fn$;

CREATE FUNCTION sysjobs_end_and_claim_v5(
  p_ends json, p_claims json, p_channel text, p_rows boolean)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  c record;
  v_ok json;
  v_claimed json[] := '{}';
  v_rows json;
  v_low json;
  v_taken int;
  v_ended json;
  v_keys text[] := '{}';
  v_payload text;
  v_key bigint;
BEGIN
  -- 1. The ends: lock the leased rows (id order) and decide each under the lock.
  WITH e AS (
    SELECT * FROM json_to_recordset(p_ends) AS x(
      ord int, id text, owner text, attempt int, targets json, now bigint,
      has_errors boolean, progress int, reason text, has_results boolean, results json)
  ), locked AS (
    SELECT j.id, j.ctid, j.status, j.owner, j.attempt FROM jobs j
    WHERE j.id = ANY (ARRAY(SELECT e.id FROM e))
      AND (j.status || '') IN ('RUNNING', 'STOPPING', 'CANCELING')
    ORDER BY j.id
    FOR UPDATE OF j
  )
  SELECT coalesce(json_agg(to_json(d)), '[]') INTO v_ok
  FROM (
    SELECT e.ord, e.id, e.owner, e.attempt, e.now, e.has_errors, e.progress, e.reason,
           e.has_results, e.results, l.ctid::text AS tid, l.status AS before,
           e.targets ->> l.status AS after
    FROM e JOIN locked l ON l.id = e.id AND l.owner = e.owner AND l.attempt = e.attempt
    WHERE e.targets ->> l.status IS NOT NULL
  ) d;

  -- 2. The claims, normal priority first, then low while slots are left. The locks of
  -- every concurrency limit the claims meet come first, all of them in key order: two
  -- calls that lock the same keys in another order would deadlock.
  FOR v_key IN
    SELECT k FROM (
      SELECT hashtextextended('sysjobs.app:' || a.key, 0) AS k
      FROM json_to_recordset(p_claims) AS x(apps text[], app_caps json)
      CROSS JOIN LATERAL json_each_text(coalesce(x.app_caps, '{}')) a
      WHERE a.key = ANY (x.apps)
      UNION
      SELECT hashtextextended('sysjobs.queue:' || a.key || '/' || q.key, 0)
      FROM json_to_recordset(p_claims) AS x(apps text[], queues text[], queue_caps json)
      CROSS JOIN LATERAL json_each(coalesce(x.queue_caps, '{}')) a
      CROSS JOIN LATERAL json_each_text(a.value) q
      WHERE a.key = ANY (x.apps) AND q.key = ANY (x.queues)
    ) s ORDER BY k
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR c IN
    SELECT * FROM json_to_recordset(p_claims) AS x(
      owner text, apps text[], queues text[], types text[], app_types json, "limit" int,
      allow_low boolean, aged_before bigint, now bigint, lease_ms bigint, queue_caps json,
      app_caps json)
  LOOP
    v_rows := sysjobs_claim_fair_v5(c.owner, c.apps, c.queues, c.types, c.app_types,
                                    c."limit", false, c.aged_before, c.now, c.lease_ms,
                                    c.queue_caps, c.app_caps);
    v_taken := json_array_length(v_rows);
    IF c.allow_low AND v_taken < c."limit" THEN
      v_low := sysjobs_claim_fair_v5(c.owner, c.apps, c.queues, c.types, c.app_types,
                                     c."limit" - v_taken, true, c.aged_before, c.now,
                                     c.lease_ms, c.queue_caps, c.app_caps);
      IF json_array_length(v_low) > 0 THEN
        v_rows := (SELECT json_agg(r ORDER BY part, n) FROM (
          SELECT 1 AS part, n, r FROM json_array_elements(v_rows) WITH ORDINALITY AS a(r, n)
          UNION ALL
          SELECT 2, n, r FROM json_array_elements(v_low) WITH ORDINALITY AS b(r, n)) s);
      END IF;
    END IF;
    v_claimed := v_claimed || v_rows;
    v_keys := v_keys
      || ARRAY(SELECT 'job:' || (r -> 0 ->> 'id') FROM json_array_elements(v_rows) r);
  END LOOP;

  -- 3. The ends decided in 1: lease released, end date, errors, progress, results, events.
  WITH ok AS (
    SELECT * FROM json_to_recordset(v_ok) AS x(
      ord int, id text, owner text, attempt int, now bigint, has_errors boolean,
      progress int, reason text, has_results boolean, results json, tid tid, before text,
      after text)
  ), upd AS (
    UPDATE jobs j SET
      status = ok.after, owner = NULL, lease_expires_ms = NULL, force_at_ms = NULL,
      ended_ms = CASE WHEN ok.after = 'PENDING' THEN NULL ELSE greatest(j.created_ms, j.started_ms, ok.now,
        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id)) END,
      has_errors = j.has_errors OR ok.has_errors,
      progress = coalesce(ok.progress, j.progress)
    FROM ok WHERE j.ctid = ANY (ARRAY(SELECT ok.tid FROM ok)) AND j.id = ok.id
    RETURNING ok.ord, j.id, j.app, ok.before, ok.after, greatest(j.created_ms, j.started_ms, ok.now,
        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id)) AS now, ok.attempt AS fence_attempt,
              ok.owner AS fence_owner, ok.reason, ok.has_results, ok.results AS new_results,
              CASE WHEN p_rows THEN to_json(j) END AS row
  ), res AS (
    UPDATE job_results r SET results = u.new_results
    FROM upd u WHERE u.has_results AND r.job_id = u.id
      AND r.job_id = ANY (ARRAY(SELECT w.id FROM upd w WHERE w.has_results))
    RETURNING r.job_id
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, u.now, u.before, u.after, u.fence_attempt, u.fence_owner, u.reason
    FROM upd u ORDER BY u.ord
    RETURNING job_id
  )
  SELECT
    (SELECT coalesce(json_agg(CASE WHEN p_rows THEN json_build_array(
       u.ord, u.row,
       CASE WHEN u.has_results THEN u.new_results
            ELSE (SELECT r.results FROM job_results r WHERE r.job_id = u.id) END)
     ELSE json_build_array(u.ord, json_build_object('id', u.id, 'status', u.after), NULL)
     END ORDER BY u.ord), '[]') FROM upd u),
    v_keys || ARRAY(
      SELECT k.key FROM upd u
      CROSS JOIN LATERAL (
        VALUES (1, 'job:' || u.id), (2, CASE WHEN u.after = 'PENDING' THEN 'work' END)
      ) AS k(n, key)
      WHERE k.key IS NOT NULL ORDER BY u.ord, k.n)
  INTO v_ended, v_keys;

  -- 4. One hint for everything that changed, delivered on commit.
  IF p_channel IS NOT NULL AND cardinality(v_keys) > 0 THEN
    SELECT string_agg(key, ',' ORDER BY first) INTO v_payload
    FROM (SELECT key, min(n) AS first FROM unnest(v_keys) WITH ORDINALITY AS t(key, n)
          GROUP BY key) s;
    IF length(v_payload) > 4000 THEN v_payload := '*'; END IF;
    PERFORM pg_notify(p_channel, v_payload);
  END IF;
  RETURN json_build_object('claimed', to_json(v_claimed), 'ended', v_ended);
END
$fn$;

CREATE FUNCTION sysjobs_claim_take_v6(
  p_owner text, p_app text, p_queues text[], p_types text[], p_limit int, p_low boolean,
  p_aged_before bigint, p_now bigint, p_lease_ms bigint)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_sort = off
SET jit = off
AS $fn$
DECLARE
  v_rows json;
BEGIN
  WITH picked AS MATERIALIZED (
    SELECT j.id, j.ctid FROM jobs j
    WHERE j.status = 'PENDING' AND j.app = p_app
      AND (j.queue || '') = ANY (p_queues) AND (j.type || '') = ANY (p_types)
      AND CASE WHEN p_low THEN j.low_priority
               ELSE (j.low_priority IS false OR j.created_ms <= p_aged_before) END
    ORDER BY j.turn, j.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  ), upd AS (
    UPDATE jobs j SET
      status = 'RUNNING', owner = p_owner, attempt = j.attempt + 1,
      lease_expires_ms = p_now + p_lease_ms, started_ms = coalesce(j.started_ms, greatest(j.created_ms, p_now)),
      ended_ms = NULL, force_at_ms = NULL
    WHERE j.ctid = ANY (ARRAY(SELECT p.ctid FROM picked p)) AND (j.status || '') = 'PENDING'
    RETURNING j.*
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, greatest(u.started_ms, p_now, CASE WHEN u.attempt > 1 THEN
             (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = u.id) END),
           'PENDING', 'RUNNING', u.attempt, p_owner, 'claimed'
    FROM upd u ORDER BY u.created_ms, u.id
    RETURNING job_id
  )
  SELECT coalesce(json_agg(json_build_array(
           to_json(u), r.results, r.checkpoint) ORDER BY u.created_ms, u.id), '[]')
  INTO v_rows
  FROM upd u LEFT JOIN LATERAL (
    SELECT r.results, r.checkpoint FROM job_results r WHERE u.attempt > 1 AND r.job_id = u.id
  ) r ON true;
  RETURN v_rows;
END
$fn$;

CREATE FUNCTION sysjobs_claim_batch_v6(
  p_owner text, p_app text, p_queues text[], p_types text[], p_limit int, p_low boolean,
  p_aged_before bigint, p_now bigint, p_lease_ms bigint, p_queue_caps json, p_app_cap int)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  v_limited text[];
  v_free text[];
  v_key bigint;
  v_counts json;
  v_want int := p_limit;
  v_queue text;
  v_n int;
  v_got json;
  v_all json[] := '{}';
  v_taken int := 0;
BEGIN
  IF p_app_cap IS NULL AND p_queue_caps IS NULL THEN
    RETURN sysjobs_claim_take_v6(p_owner, p_app, p_queues, p_types, p_limit, p_low,
                                 p_aged_before, p_now, p_lease_ms);
  END IF;
  SELECT coalesce(array_agg(q ORDER BY n), '{}') INTO v_limited
  FROM unnest(p_queues) WITH ORDINALITY AS t(q, n)
  WHERE p_queue_caps IS NOT NULL AND p_queue_caps ->> q IS NOT NULL;
  IF p_app_cap IS NULL AND cardinality(v_limited) = 0 THEN
    RETURN sysjobs_claim_take_v6(p_owner, p_app, p_queues, p_types, p_limit, p_low,
                                 p_aged_before, p_now, p_lease_ms);
  END IF;
  -- Limits across the fleet: one lock per capped app and per limited (app, queue), taken
  -- in key order (sysjobs_end_and_claim_v6 took them all already, in the same order; taking
  -- one again is immediate), then the app's leased jobs counted under them.
  FOR v_key IN
    SELECT k FROM (
      SELECT hashtextextended('sysjobs.app:' || p_app, 0) AS k WHERE p_app_cap IS NOT NULL
      UNION
      SELECT hashtextextended('sysjobs.queue:' || p_app || '/' || q, 0) FROM unnest(v_limited) q
    ) s ORDER BY k
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  SELECT coalesce(json_object_agg(s.queue, s.n), '{}') INTO v_counts
  FROM (SELECT j.queue, count(*) AS n FROM jobs j
        WHERE j.app = p_app AND j.owner IS NOT NULL GROUP BY j.queue) s;
  IF p_app_cap IS NOT NULL THEN
    v_want := least(v_want, p_app_cap - (SELECT coalesce(sum(value::text::int), 0)
                                         FROM json_each(v_counts)));
  END IF;
  FOREACH v_queue IN ARRAY v_limited LOOP
    v_n := least((p_queue_caps ->> v_queue)::int - coalesce((v_counts ->> v_queue)::int, 0),
                 v_want - v_taken);
    IF v_n > 0 THEN
      v_got := sysjobs_claim_take_v6(p_owner, p_app, ARRAY[v_queue], p_types, v_n, p_low,
                                     p_aged_before, p_now, p_lease_ms);
      v_taken := v_taken + json_array_length(v_got);
      v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
    END IF;
  END LOOP;
  v_free := ARRAY(SELECT q FROM unnest(p_queues) AS t(q) WHERE q <> ALL (v_limited));
  IF cardinality(v_free) > 0 AND v_taken < v_want THEN
    v_got := sysjobs_claim_take_v6(p_owner, p_app, v_free, p_types, v_want - v_taken, p_low,
                                   p_aged_before, p_now, p_lease_ms);
    v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
  END IF;
  RETURN coalesce(array_to_json(v_all), '[]');
END
$fn$;

CREATE FUNCTION sysjobs_claim_fair_v6(
  p_owner text, p_apps text[], p_queues text[], p_types text[], p_app_types json, p_limit int,
  p_low boolean, p_aged_before bigint, p_now bigint, p_lease_ms bigint, p_queue_caps json,
  p_app_caps json)
RETURNS json
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_active text[];
  v_still text[];
  v_app text;
  v_turn int;
  v_types text[];
  v_want int;
  v_got json;
  v_n int;
  v_all json[] := '{}';
  v_taken int := 0;
BEGIN
  -- Rounds over the apps (each once, in the order given): every app still in play may take
  -- an equal share of the slots left at its turn; one that took less than offered has no more.
  SELECT coalesce(array_agg(a ORDER BY n), '{}') INTO v_active
  FROM (SELECT a, min(n) AS n FROM unnest(p_apps) WITH ORDINALITY AS t(a, n) GROUP BY a) s;
  IF cardinality(v_active) = 1 THEN
    -- one app: its first round offers it every slot, and whatever it takes ends the rounds
    v_app := v_active[1];
    v_types := CASE WHEN p_app_types -> v_app IS NULL THEN p_types
                    ELSE ARRAY(SELECT json_array_elements_text(p_app_types -> v_app)) END;
    IF p_limit <= 0 OR cardinality(v_types) = 0 THEN
      RETURN '[]'::json;
    END IF;
    RETURN sysjobs_claim_batch_v6(p_owner, v_app, p_queues, v_types, p_limit, p_low,
                                  p_aged_before, p_now, p_lease_ms, p_queue_caps -> v_app,
                                  (p_app_caps ->> v_app)::int);
  END IF;
  WHILE cardinality(v_active) > 0 AND v_taken < p_limit LOOP
    v_still := '{}';
    v_turn := 0;
    FOREACH v_app IN ARRAY v_active LOOP
      -- the slots left over the apps yet to take their share, rounded up
      v_want := (p_limit - v_taken + cardinality(v_active) - v_turn - 1)
                / (cardinality(v_active) - v_turn);
      v_turn := v_turn + 1;
      EXIT WHEN v_want <= 0;
      v_types := CASE WHEN p_app_types -> v_app IS NULL THEN p_types
                      ELSE ARRAY(SELECT json_array_elements_text(p_app_types -> v_app)) END;
      v_got := CASE WHEN cardinality(v_types) = 0 THEN '[]'::json
                    ELSE sysjobs_claim_batch_v6(p_owner, v_app, p_queues, v_types, v_want, p_low,
                                                p_aged_before, p_now, p_lease_ms,
                                                p_queue_caps -> v_app,
                                                (p_app_caps ->> v_app)::int) END;
      v_n := json_array_length(v_got);
      v_taken := v_taken + v_n;
      IF v_n > 0 THEN
        v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
      END IF;
      IF v_n = v_want THEN
        v_still := v_still || v_app;
      END IF;
    END LOOP;
    v_active := v_still;
  END LOOP;
  RETURN coalesce(array_to_json(v_all), '[]');
END
$fn$;

CREATE FUNCTION sysjobs_end_and_claim_v6(
  p_ends json, p_claims json, p_channel text, p_rows boolean)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  c record;
  v_ok json;
  v_claimed json[] := '{}';
  v_rows json;
  v_low json;
  v_taken int;
  v_ended json;
  v_keys text[] := '{}';
  v_payload text;
  v_key bigint;
BEGIN
  -- 1. The ends: lock the leased rows (id order) and decide each under the lock.
  WITH e AS (
    SELECT * FROM json_to_recordset(p_ends) AS x(
      ord int, id text, owner text, attempt int, targets json, now bigint,
      has_errors boolean, progress int, reason text, has_results boolean, results json)
  ), locked AS (
    SELECT j.id, j.ctid, j.status, j.owner, j.attempt FROM jobs j
    WHERE j.id = ANY (ARRAY(SELECT e.id FROM e))
      AND (j.status || '') IN ('RUNNING', 'STOPPING', 'CANCELING')
    ORDER BY j.id
    FOR UPDATE OF j
  )
  SELECT coalesce(json_agg(to_json(d)), '[]') INTO v_ok
  FROM (
    SELECT e.ord, e.id, e.owner, e.attempt, e.now, e.has_errors, e.progress, e.reason,
           e.has_results, e.results, l.ctid::text AS tid, l.status AS before,
           e.targets ->> l.status AS after
    FROM e JOIN locked l ON l.id = e.id AND l.owner = e.owner AND l.attempt = e.attempt
    WHERE e.targets ->> l.status IS NOT NULL
  ) d;

  -- 2. The claims, normal priority first, then low while slots are left. The locks of
  -- every concurrency limit the claims meet come first, all of them in key order: two
  -- calls that lock the same keys in another order would deadlock.
  FOR v_key IN
    SELECT k FROM (
      SELECT hashtextextended('sysjobs.app:' || a.key, 0) AS k
      FROM json_to_recordset(p_claims) AS x(apps text[], app_caps json)
      CROSS JOIN LATERAL json_each_text(coalesce(x.app_caps, '{}')) a
      WHERE a.key = ANY (x.apps)
      UNION
      SELECT hashtextextended('sysjobs.queue:' || a.key || '/' || q.key, 0)
      FROM json_to_recordset(p_claims) AS x(apps text[], queues text[], queue_caps json)
      CROSS JOIN LATERAL json_each(coalesce(x.queue_caps, '{}')) a
      CROSS JOIN LATERAL json_each_text(a.value) q
      WHERE a.key = ANY (x.apps) AND q.key = ANY (x.queues)
    ) s ORDER BY k
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR c IN
    SELECT * FROM json_to_recordset(p_claims) AS x(
      owner text, apps text[], queues text[], types text[], app_types json, "limit" int,
      allow_low boolean, aged_before bigint, now bigint, lease_ms bigint, queue_caps json,
      app_caps json)
  LOOP
    v_rows := sysjobs_claim_fair_v6(c.owner, c.apps, c.queues, c.types, c.app_types,
                                    c."limit", false, c.aged_before, c.now, c.lease_ms,
                                    c.queue_caps, c.app_caps);
    v_taken := json_array_length(v_rows);
    IF c.allow_low AND v_taken < c."limit" THEN
      v_low := sysjobs_claim_fair_v6(c.owner, c.apps, c.queues, c.types, c.app_types,
                                     c."limit" - v_taken, true, c.aged_before, c.now,
                                     c.lease_ms, c.queue_caps, c.app_caps);
      IF json_array_length(v_low) > 0 THEN
        v_rows := (SELECT json_agg(r ORDER BY part, n) FROM (
          SELECT 1 AS part, n, r FROM json_array_elements(v_rows) WITH ORDINALITY AS a(r, n)
          UNION ALL
          SELECT 2, n, r FROM json_array_elements(v_low) WITH ORDINALITY AS b(r, n)) s);
      END IF;
    END IF;
    v_claimed := v_claimed || v_rows;
    v_keys := v_keys
      || ARRAY(SELECT 'job:' || (r -> 0 ->> 'id') FROM json_array_elements(v_rows) r);
  END LOOP;

  -- 3. The ends decided in 1: lease released, end date, errors, progress, results, events.
  WITH ok AS (
    SELECT * FROM json_to_recordset(v_ok) AS x(
      ord int, id text, owner text, attempt int, now bigint, has_errors boolean,
      progress int, reason text, has_results boolean, results json, tid tid, before text,
      after text)
  ), upd AS (
    UPDATE jobs j SET
      status = ok.after, owner = NULL, lease_expires_ms = NULL, force_at_ms = NULL,
      ended_ms = CASE WHEN ok.after = 'PENDING' THEN NULL ELSE greatest(j.created_ms, j.started_ms, ok.now,
        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id)) END,
      has_errors = j.has_errors OR ok.has_errors,
      progress = coalesce(ok.progress, j.progress)
    FROM ok WHERE j.ctid = ANY (ARRAY(SELECT ok.tid FROM ok)) AND j.id = ok.id
    RETURNING ok.ord, j.id, j.app, ok.before, ok.after,
              CASE WHEN ok.after = 'PENDING' THEN greatest(j.created_ms, j.started_ms, ok.now,
                (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id))
              ELSE j.ended_ms END AS now, ok.attempt AS fence_attempt,
              ok.owner AS fence_owner, ok.reason, ok.has_results, ok.results AS new_results,
              CASE WHEN p_rows THEN to_json(j) END AS row
  ), res AS (
    UPDATE job_results r SET results = u.new_results
    FROM upd u WHERE u.has_results AND r.job_id = u.id
      AND r.job_id = ANY (ARRAY(SELECT w.id FROM upd w WHERE w.has_results))
    RETURNING r.job_id
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, u.now, u.before, u.after, u.fence_attempt, u.fence_owner, u.reason
    FROM upd u ORDER BY u.ord
    RETURNING job_id
  )
  SELECT
    (SELECT coalesce(json_agg(CASE WHEN p_rows THEN json_build_array(
       u.ord, u.row,
       CASE WHEN u.has_results THEN u.new_results
            ELSE (SELECT r.results FROM job_results r WHERE r.job_id = u.id) END)
     ELSE json_build_array(u.ord, json_build_object('id', u.id, 'status', u.after), NULL)
     END ORDER BY u.ord), '[]') FROM upd u),
    v_keys || ARRAY(
      SELECT k.key FROM upd u
      CROSS JOIN LATERAL (
        VALUES (1, 'job:' || u.id), (2, CASE WHEN u.after = 'PENDING' THEN 'work' END)
      ) AS k(n, key)
      WHERE k.key IS NOT NULL ORDER BY u.ord, k.n)
  INTO v_ended, v_keys;

  -- 4. One hint for everything that changed, delivered on commit.
  IF p_channel IS NOT NULL AND cardinality(v_keys) > 0 THEN
    SELECT string_agg(key, ',' ORDER BY first) INTO v_payload
    FROM (SELECT key, min(n) AS first FROM unnest(v_keys) WITH ORDINALITY AS t(key, n)
          GROUP BY key) s;
    IF length(v_payload) > 4000 THEN v_payload := '*'; END IF;
    PERFORM pg_notify(p_channel, v_payload);
  END IF;
  RETURN json_build_object('claimed', to_json(v_claimed), 'ended', v_ended);
END
$fn$;

CREATE FUNCTION sysjobs_claim_take_v7(
  p_owner text, p_app text, p_queues text[], p_types text[], p_limit int, p_low boolean,
  p_aged_before bigint, p_now bigint, p_lease_ms bigint)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_sort = off
SET jit = off
AS $fn$
DECLARE
  v_rows json;
BEGIN
  WITH picked AS MATERIALIZED (
    SELECT j.id, j.ctid FROM jobs j
    WHERE j.status = 'PENDING' AND j.app = p_app
      AND (j.queue || '') = ANY (p_queues) AND (j.type || '') = ANY (p_types)
      AND CASE WHEN p_low THEN j.low_priority
               ELSE (j.low_priority IS false OR j.created_ms <= p_aged_before) END
    ORDER BY j.turn, j.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  ), upd AS (
    UPDATE jobs j SET
      status = 'RUNNING', owner = p_owner, attempt = j.attempt + 1,
      lease_expires_ms = p_now + p_lease_ms, started_ms = coalesce(j.started_ms, greatest(j.created_ms, p_now)),
      ended_ms = NULL, force_at_ms = NULL
    WHERE j.ctid = ANY (ARRAY(SELECT p.ctid FROM picked p)) AND (j.status || '') = 'PENDING'
    RETURNING j.*
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, greatest(u.started_ms, p_now, CASE WHEN u.attempt > 1 THEN
             (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = u.id) END),
           'PENDING', 'RUNNING', u.attempt, p_owner, 'claimed'
    FROM upd u ORDER BY u.created_ms, u.id
    RETURNING job_id
  )
  SELECT coalesce(json_agg(json_build_array(to_json(u),
           CASE WHEN u.attempt > 1 THEN
             (SELECT r.results FROM job_results r WHERE r.job_id = u.id) END,
           CASE WHEN u.attempt > 1 THEN
             (SELECT r.checkpoint FROM job_results r WHERE r.job_id = u.id) END)
         ORDER BY u.created_ms, u.id), '[]')
  INTO v_rows
  FROM upd u;
  RETURN v_rows;
END
$fn$;

CREATE FUNCTION sysjobs_claim_batch_v7(
  p_owner text, p_app text, p_queues text[], p_types text[], p_limit int, p_low boolean,
  p_aged_before bigint, p_now bigint, p_lease_ms bigint, p_queue_caps json, p_app_cap int)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  v_limited text[];
  v_free text[];
  v_key bigint;
  v_counts json;
  v_want int := p_limit;
  v_queue text;
  v_n int;
  v_got json;
  v_all json[] := '{}';
  v_taken int := 0;
BEGIN
  IF p_app_cap IS NULL AND p_queue_caps IS NULL THEN
    RETURN sysjobs_claim_take_v7(p_owner, p_app, p_queues, p_types, p_limit, p_low,
                                 p_aged_before, p_now, p_lease_ms);
  END IF;
  SELECT coalesce(array_agg(q ORDER BY n), '{}') INTO v_limited
  FROM unnest(p_queues) WITH ORDINALITY AS t(q, n)
  WHERE p_queue_caps IS NOT NULL AND p_queue_caps ->> q IS NOT NULL;
  IF p_app_cap IS NULL AND cardinality(v_limited) = 0 THEN
    RETURN sysjobs_claim_take_v7(p_owner, p_app, p_queues, p_types, p_limit, p_low,
                                 p_aged_before, p_now, p_lease_ms);
  END IF;
  -- Limits across the fleet: one lock per capped app and per limited (app, queue), taken
  -- in key order (sysjobs_end_and_claim_v7 took them all already, in the same order; taking
  -- one again is immediate), then the app's leased jobs counted under them.
  FOR v_key IN
    SELECT k FROM (
      SELECT hashtextextended('sysjobs.app:' || p_app, 0) AS k WHERE p_app_cap IS NOT NULL
      UNION
      SELECT hashtextextended('sysjobs.queue:' || p_app || '/' || q, 0) FROM unnest(v_limited) q
    ) s ORDER BY k
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  SELECT coalesce(json_object_agg(s.queue, s.n), '{}') INTO v_counts
  FROM (SELECT j.queue, count(*) AS n FROM jobs j
        WHERE j.app = p_app AND j.owner IS NOT NULL GROUP BY j.queue) s;
  IF p_app_cap IS NOT NULL THEN
    v_want := least(v_want, p_app_cap - (SELECT coalesce(sum(value::text::int), 0)
                                         FROM json_each(v_counts)));
  END IF;
  FOREACH v_queue IN ARRAY v_limited LOOP
    v_n := least((p_queue_caps ->> v_queue)::int - coalesce((v_counts ->> v_queue)::int, 0),
                 v_want - v_taken);
    IF v_n > 0 THEN
      v_got := sysjobs_claim_take_v7(p_owner, p_app, ARRAY[v_queue], p_types, v_n, p_low,
                                     p_aged_before, p_now, p_lease_ms);
      v_taken := v_taken + json_array_length(v_got);
      v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
    END IF;
  END LOOP;
  v_free := ARRAY(SELECT q FROM unnest(p_queues) AS t(q) WHERE q <> ALL (v_limited));
  IF cardinality(v_free) > 0 AND v_taken < v_want THEN
    v_got := sysjobs_claim_take_v7(p_owner, p_app, v_free, p_types, v_want - v_taken, p_low,
                                   p_aged_before, p_now, p_lease_ms);
    v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
  END IF;
  RETURN coalesce(array_to_json(v_all), '[]');
END
$fn$;

CREATE FUNCTION sysjobs_claim_fair_v7(
  p_owner text, p_apps text[], p_queues text[], p_types text[], p_app_types json, p_limit int,
  p_low boolean, p_aged_before bigint, p_now bigint, p_lease_ms bigint, p_queue_caps json,
  p_app_caps json)
RETURNS json
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_active text[];
  v_still text[];
  v_app text;
  v_turn int;
  v_types text[];
  v_want int;
  v_got json;
  v_n int;
  v_all json[] := '{}';
  v_taken int := 0;
BEGIN
  -- Rounds over the apps (each once, in the order given): every app still in play may take
  -- an equal share of the slots left at its turn; one that took less than offered has no more.
  SELECT coalesce(array_agg(a ORDER BY n), '{}') INTO v_active
  FROM (SELECT a, min(n) AS n FROM unnest(p_apps) WITH ORDINALITY AS t(a, n) GROUP BY a) s;
  IF cardinality(v_active) = 1 THEN
    -- one app: its first round offers it every slot, and whatever it takes ends the rounds
    v_app := v_active[1];
    v_types := CASE WHEN p_app_types -> v_app IS NULL THEN p_types
                    ELSE ARRAY(SELECT json_array_elements_text(p_app_types -> v_app)) END;
    IF p_limit <= 0 OR cardinality(v_types) = 0 THEN
      RETURN '[]'::json;
    END IF;
    IF p_queue_caps -> v_app IS NULL AND p_app_caps ->> v_app IS NULL THEN
      -- no limit in play: the take itself (what the batch function would call)
      RETURN sysjobs_claim_take_v7(p_owner, v_app, p_queues, v_types, p_limit, p_low,
                                   p_aged_before, p_now, p_lease_ms);
    END IF;
    RETURN sysjobs_claim_batch_v7(p_owner, v_app, p_queues, v_types, p_limit, p_low,
                                  p_aged_before, p_now, p_lease_ms, p_queue_caps -> v_app,
                                  (p_app_caps ->> v_app)::int);
  END IF;
  WHILE cardinality(v_active) > 0 AND v_taken < p_limit LOOP
    v_still := '{}';
    v_turn := 0;
    FOREACH v_app IN ARRAY v_active LOOP
      -- the slots left over the apps yet to take their share, rounded up
      v_want := (p_limit - v_taken + cardinality(v_active) - v_turn - 1)
                / (cardinality(v_active) - v_turn);
      v_turn := v_turn + 1;
      EXIT WHEN v_want <= 0;
      v_types := CASE WHEN p_app_types -> v_app IS NULL THEN p_types
                      ELSE ARRAY(SELECT json_array_elements_text(p_app_types -> v_app)) END;
      v_got := CASE WHEN cardinality(v_types) = 0 THEN '[]'::json
                    ELSE sysjobs_claim_batch_v7(p_owner, v_app, p_queues, v_types, v_want, p_low,
                                                p_aged_before, p_now, p_lease_ms,
                                                p_queue_caps -> v_app,
                                                (p_app_caps ->> v_app)::int) END;
      v_n := json_array_length(v_got);
      v_taken := v_taken + v_n;
      IF v_n > 0 THEN
        v_all := v_all || ARRAY(SELECT r FROM json_array_elements(v_got) AS t(r));
      END IF;
      IF v_n = v_want THEN
        v_still := v_still || v_app;
      END IF;
    END LOOP;
    v_active := v_still;
  END LOOP;
  RETURN coalesce(array_to_json(v_all), '[]');
END
$fn$;

CREATE FUNCTION sysjobs_end_and_claim_v7(
  p_ends json, p_claims json, p_channel text, p_rows boolean)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  c record;
  v_ok json;
  v_claimed json[] := '{}';
  v_rows json;
  v_low json;
  v_taken int;
  v_ended json;
  v_keys text[] := '{}';
  v_payload text;
  v_key bigint;
BEGIN
  -- 1. The ends: lock the leased rows (id order) and decide each under the lock.
  WITH e AS (
    SELECT * FROM json_to_recordset(p_ends) AS x(
      ord int, id text, owner text, attempt int, targets json, now bigint,
      has_errors boolean, progress int, reason text, has_results boolean, results json)
  ), locked AS (
    SELECT j.id, j.ctid, j.status, j.owner, j.attempt FROM jobs j
    WHERE j.id = ANY (ARRAY(SELECT e.id FROM e))
      AND (j.status || '') IN ('RUNNING', 'STOPPING', 'CANCELING')
    ORDER BY j.id
    FOR UPDATE OF j
  )
  SELECT coalesce(json_agg(to_json(d)), '[]') INTO v_ok
  FROM (
    SELECT e.ord, e.id, e.owner, e.attempt, e.now, e.has_errors, e.progress, e.reason,
           e.has_results, e.results, l.ctid::text AS tid, l.status AS before,
           e.targets ->> l.status AS after
    FROM e JOIN locked l ON l.id = e.id AND l.owner = e.owner AND l.attempt = e.attempt
    WHERE e.targets ->> l.status IS NOT NULL
  ) d;

  -- 2. The claims, normal priority first, then low while slots are left. The locks of
  -- every concurrency limit the claims meet come first, all of them in key order: two
  -- calls that lock the same keys in another order would deadlock.
  FOR v_key IN
    SELECT k FROM (
      SELECT hashtextextended('sysjobs.app:' || a.key, 0) AS k
      FROM json_to_recordset(p_claims) AS x(apps text[], app_caps json)
      CROSS JOIN LATERAL json_each_text(coalesce(x.app_caps, '{}')) a
      WHERE a.key = ANY (x.apps)
      UNION
      SELECT hashtextextended('sysjobs.queue:' || a.key || '/' || q.key, 0)
      FROM json_to_recordset(p_claims) AS x(apps text[], queues text[], queue_caps json)
      CROSS JOIN LATERAL json_each(coalesce(x.queue_caps, '{}')) a
      CROSS JOIN LATERAL json_each_text(a.value) q
      WHERE a.key = ANY (x.apps) AND q.key = ANY (x.queues)
    ) s ORDER BY k
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR c IN
    SELECT * FROM json_to_recordset(p_claims) AS x(
      owner text, apps text[], queues text[], types text[], app_types json, "limit" int,
      allow_low boolean, aged_before bigint, now bigint, lease_ms bigint, queue_caps json,
      app_caps json)
  LOOP
    v_rows := sysjobs_claim_fair_v7(c.owner, c.apps, c.queues, c.types, c.app_types,
                                    c."limit", false, c.aged_before, c.now, c.lease_ms,
                                    c.queue_caps, c.app_caps);
    v_taken := json_array_length(v_rows);
    IF c.allow_low AND v_taken < c."limit" THEN
      v_low := sysjobs_claim_fair_v7(c.owner, c.apps, c.queues, c.types, c.app_types,
                                     c."limit" - v_taken, true, c.aged_before, c.now,
                                     c.lease_ms, c.queue_caps, c.app_caps);
      IF json_array_length(v_low) > 0 THEN
        v_rows := (SELECT json_agg(r ORDER BY part, n) FROM (
          SELECT 1 AS part, n, r FROM json_array_elements(v_rows) WITH ORDINALITY AS a(r, n)
          UNION ALL
          SELECT 2, n, r FROM json_array_elements(v_low) WITH ORDINALITY AS b(r, n)) s);
      END IF;
    END IF;
    v_claimed := v_claimed || v_rows;
    v_keys := v_keys
      || ARRAY(SELECT 'job:' || (r -> 0 ->> 'id') FROM json_array_elements(v_rows) r);
  END LOOP;

  -- 3. The ends decided in 1: lease released, end date, errors, progress, results, events.
  WITH ok AS (
    SELECT * FROM json_to_recordset(v_ok) AS x(
      ord int, id text, owner text, attempt int, now bigint, has_errors boolean,
      progress int, reason text, has_results boolean, results json, tid tid, before text,
      after text)
  ), upd AS (
    UPDATE jobs j SET
      status = ok.after, owner = NULL, lease_expires_ms = NULL, force_at_ms = NULL,
      ended_ms = CASE WHEN ok.after = 'PENDING' THEN NULL ELSE greatest(j.created_ms, j.started_ms, ok.now,
        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id)) END,
      has_errors = j.has_errors OR ok.has_errors,
      progress = coalesce(ok.progress, j.progress)
    FROM ok WHERE j.ctid = ANY (ARRAY(SELECT ok.tid FROM ok)) AND j.id = ok.id
    RETURNING ok.ord, j.id, j.app, ok.before, ok.after,
              CASE WHEN ok.after = 'PENDING' THEN greatest(j.created_ms, j.started_ms, ok.now,
                (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id))
              ELSE j.ended_ms END AS now, ok.attempt AS fence_attempt,
              ok.owner AS fence_owner, ok.reason, ok.has_results, ok.results AS new_results,
              CASE WHEN p_rows THEN to_json(j) END AS row
  ), res AS (
    UPDATE job_results r SET results = u.new_results
    FROM upd u WHERE u.has_results AND r.job_id = u.id
      AND r.job_id = ANY (ARRAY(SELECT w.id FROM upd w WHERE w.has_results))
    RETURNING r.job_id
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, u.now, u.before, u.after, u.fence_attempt, u.fence_owner, u.reason
    FROM upd u ORDER BY u.ord
    RETURNING job_id
  )
  SELECT
    (SELECT coalesce(json_agg(CASE WHEN p_rows THEN json_build_array(
       u.ord, u.row,
       CASE WHEN u.has_results THEN u.new_results
            ELSE (SELECT r.results FROM job_results r WHERE r.job_id = u.id) END)
     ELSE json_build_array(u.ord, json_build_object('id', u.id, 'status', u.after), NULL)
     END ORDER BY u.ord), '[]') FROM upd u),
    v_keys || ARRAY(
      SELECT k.key FROM upd u
      CROSS JOIN LATERAL (
        VALUES (1, 'job:' || u.id), (2, CASE WHEN u.after = 'PENDING' THEN 'work' END)
      ) AS k(n, key)
      WHERE k.key IS NOT NULL ORDER BY u.ord, k.n)
  INTO v_ended, v_keys;

  -- 4. One hint for everything that changed, delivered on commit.
  IF p_channel IS NOT NULL AND cardinality(v_keys) > 0 THEN
    SELECT string_agg(key, ',' ORDER BY first) INTO v_payload
    FROM (SELECT key, min(n) AS first FROM unnest(v_keys) WITH ORDINALITY AS t(key, n)
          GROUP BY key) s;
    IF length(v_payload) > 4000 THEN v_payload := '*'; END IF;
    PERFORM pg_notify(p_channel, v_payload);
  END IF;
  RETURN json_build_object('claimed', to_json(v_claimed), 'ended', v_ended);
END
$fn$;

CREATE FUNCTION sysjobs_end_and_claim_v8(
  p_ends json, p_claims json, p_channel text, p_rows boolean)
RETURNS json
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $fn$
DECLARE
  c record;
  v_ok json;
  v_claimed json[] := '{}';
  v_rows json;
  v_low json;
  v_taken int;
  v_ended json;
  v_keys text[] := '{}';
  v_payload text;
  v_key bigint;
  v_app text;
  v_one boolean := false;
  v_n_claims int;
BEGIN
  -- 1. The ends: lock the leased rows (id order) and decide each under the lock.
  WITH e AS (
    SELECT * FROM json_to_recordset(p_ends) AS x(
      ord int, id text, owner text, attempt int, targets json, now bigint,
      has_errors boolean, progress int, reason text, has_results boolean, results json)
  ), locked AS (
    SELECT j.id, j.ctid, j.status, j.owner, j.attempt FROM jobs j
    WHERE j.id = ANY (ARRAY(SELECT e.id FROM e))
      AND (j.status || '') IN ('RUNNING', 'STOPPING', 'CANCELING')
    ORDER BY j.id
    FOR UPDATE OF j
  )
  SELECT coalesce(json_agg(to_json(d)), '[]') INTO v_ok
  FROM (
    SELECT e.ord, e.id, e.owner, e.attempt, e.now, e.has_errors, e.progress, e.reason,
           e.has_results, e.results, l.ctid::text AS tid, l.status AS before,
           e.targets ->> l.status AS after
    FROM e JOIN locked l ON l.id = e.id AND l.owner = e.owner AND l.attempt = e.attempt
    WHERE e.targets ->> l.status IS NOT NULL
  ) d;

  -- 2. The claims, normal priority first, then low while slots are left.
  -- One claim of one app with no concurrency limit of that app in play (a pool serving one
  -- app, the common case): no limit means no lock to take and nothing to count, and one app
  -- means no fair rounds, so it goes straight to the take — what the general path below
  -- would reach for it through the lock-key query, sysjobs_claim_fair_v7 and its one-app
  -- short cut, and the same take: the same rows, order, fences, events and hints. No claim
  -- at all (ends only): nothing to lock either.
  v_n_claims := json_array_length(p_claims);
  IF v_n_claims = 1 THEN
    SELECT * INTO c FROM json_to_recordset(p_claims) AS x(
      owner text, apps text[], queues text[], types text[], app_types json, "limit" int,
      allow_low boolean, aged_before bigint, now bigint, lease_ms bigint, queue_caps json,
      app_caps json);
    v_app := c.apps[1];
    v_one := cardinality(c.apps) = 1 AND (c.app_types -> v_app) IS NULL
      AND (c.queue_caps -> v_app) IS NULL AND (c.app_caps ->> v_app) IS NULL;
  END IF;
  IF v_one THEN
    IF c."limit" > 0 AND cardinality(c.types) > 0 AND cardinality(c.queues) > 0 THEN
      v_rows := sysjobs_claim_take_v7(c.owner, v_app, c.queues, c.types, c."limit", false,
                                      c.aged_before, c.now, c.lease_ms);
      v_taken := json_array_length(v_rows);
      IF c.allow_low AND v_taken < c."limit" THEN
        v_low := sysjobs_claim_take_v7(c.owner, v_app, c.queues, c.types, c."limit" - v_taken,
                                       true, c.aged_before, c.now, c.lease_ms);
        IF json_array_length(v_low) > 0 THEN
          v_rows := (SELECT json_agg(r ORDER BY part, n) FROM (
            SELECT 1 AS part, n, r FROM json_array_elements(v_rows) WITH ORDINALITY AS a(r, n)
            UNION ALL
            SELECT 2, n, r FROM json_array_elements(v_low) WITH ORDINALITY AS b(r, n)) s);
        END IF;
      END IF;
      IF json_array_length(v_rows) > 0 THEN
        v_keys := ARRAY(SELECT 'job:' || (r -> 0 ->> 'id') FROM json_array_elements(v_rows) r);
      END IF;
    ELSE
      v_rows := '[]'::json;
    END IF;
    v_claimed := ARRAY[v_rows];
  ELSIF v_n_claims > 0 THEN
    -- Every other claim: the locks of every concurrency limit the claims meet first, all
    -- of them in key order (two calls that lock the same keys in another order would
    -- deadlock), then each claim's fair rounds over its apps.
    FOR v_key IN
      SELECT k FROM (
        SELECT hashtextextended('sysjobs.app:' || a.key, 0) AS k
        FROM json_to_recordset(p_claims) AS x(apps text[], app_caps json)
        CROSS JOIN LATERAL json_each_text(coalesce(x.app_caps, '{}')) a
        WHERE a.key = ANY (x.apps)
        UNION
        SELECT hashtextextended('sysjobs.queue:' || a.key || '/' || q.key, 0)
        FROM json_to_recordset(p_claims) AS x(apps text[], queues text[], queue_caps json)
        CROSS JOIN LATERAL json_each(coalesce(x.queue_caps, '{}')) a
        CROSS JOIN LATERAL json_each_text(a.value) q
        WHERE a.key = ANY (x.apps) AND q.key = ANY (x.queues)
      ) s ORDER BY k
    LOOP
      PERFORM pg_advisory_xact_lock(v_key);
    END LOOP;
    FOR c IN
      SELECT * FROM json_to_recordset(p_claims) AS x(
        owner text, apps text[], queues text[], types text[], app_types json, "limit" int,
        allow_low boolean, aged_before bigint, now bigint, lease_ms bigint, queue_caps json,
        app_caps json)
    LOOP
      v_rows := sysjobs_claim_fair_v7(c.owner, c.apps, c.queues, c.types, c.app_types,
                                      c."limit", false, c.aged_before, c.now, c.lease_ms,
                                      c.queue_caps, c.app_caps);
      v_taken := json_array_length(v_rows);
      IF c.allow_low AND v_taken < c."limit" THEN
        v_low := sysjobs_claim_fair_v7(c.owner, c.apps, c.queues, c.types, c.app_types,
                                       c."limit" - v_taken, true, c.aged_before, c.now,
                                       c.lease_ms, c.queue_caps, c.app_caps);
        IF json_array_length(v_low) > 0 THEN
          v_rows := (SELECT json_agg(r ORDER BY part, n) FROM (
            SELECT 1 AS part, n, r FROM json_array_elements(v_rows) WITH ORDINALITY AS a(r, n)
            UNION ALL
            SELECT 2, n, r FROM json_array_elements(v_low) WITH ORDINALITY AS b(r, n)) s);
        END IF;
      END IF;
      v_claimed := v_claimed || v_rows;
      v_keys := v_keys
        || ARRAY(SELECT 'job:' || (r -> 0 ->> 'id') FROM json_array_elements(v_rows) r);
    END LOOP;
  END IF;

  -- 3. The ends decided in 1: lease released, end date, errors, progress, results, events.
  WITH ok AS (
    SELECT * FROM json_to_recordset(v_ok) AS x(
      ord int, id text, owner text, attempt int, now bigint, has_errors boolean,
      progress int, reason text, has_results boolean, results json, tid tid, before text,
      after text)
  ), upd AS (
    UPDATE jobs j SET
      status = ok.after, owner = NULL, lease_expires_ms = NULL, force_at_ms = NULL,
      ended_ms = CASE WHEN ok.after = 'PENDING' THEN NULL ELSE greatest(j.created_ms, j.started_ms, ok.now,
        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id)) END,
      has_errors = j.has_errors OR ok.has_errors,
      progress = coalesce(ok.progress, j.progress)
    FROM ok WHERE j.ctid = ANY (ARRAY(SELECT ok.tid FROM ok)) AND j.id = ok.id
    RETURNING ok.ord, j.id, j.app, ok.before, ok.after,
              CASE WHEN ok.after = 'PENDING' THEN greatest(j.created_ms, j.started_ms, ok.now,
                (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id))
              ELSE j.ended_ms END AS now, ok.attempt AS fence_attempt,
              ok.owner AS fence_owner, ok.reason, ok.has_results, ok.results AS new_results,
              CASE WHEN p_rows THEN to_json(j) END AS row
  ), res AS (
    UPDATE job_results r SET results = u.new_results
    FROM upd u WHERE u.has_results AND r.job_id = u.id
      AND r.job_id = ANY (ARRAY(SELECT w.id FROM upd w WHERE w.has_results))
    RETURNING r.job_id
  ), ev AS (
    INSERT INTO job_events (job_id, app, at_ms, from_status, to_status, attempt, owner, reason)
    SELECT u.id, u.app, u.now, u.before, u.after, u.fence_attempt, u.fence_owner, u.reason
    FROM upd u ORDER BY u.ord
    RETURNING job_id
  )
  SELECT
    (SELECT coalesce(json_agg(CASE WHEN p_rows THEN json_build_array(
       u.ord, u.row,
       CASE WHEN u.has_results THEN u.new_results
            ELSE (SELECT r.results FROM job_results r WHERE r.job_id = u.id) END)
     ELSE json_build_array(u.ord, json_build_object('id', u.id, 'status', u.after), NULL)
     END ORDER BY u.ord), '[]') FROM upd u),
    v_keys || ARRAY(
      SELECT k.key FROM upd u
      CROSS JOIN LATERAL (
        VALUES (1, 'job:' || u.id), (2, CASE WHEN u.after = 'PENDING' THEN 'work' END)
      ) AS k(n, key)
      WHERE k.key IS NOT NULL ORDER BY u.ord, k.n)
  INTO v_ended, v_keys;

  -- 4. One hint for everything that changed, delivered on commit.
  IF p_channel IS NOT NULL AND cardinality(v_keys) > 0 THEN
    SELECT string_agg(key, ',' ORDER BY first) INTO v_payload
    FROM (SELECT key, min(n) AS first FROM unnest(v_keys) WITH ORDINALITY AS t(key, n)
          GROUP BY key) s;
    IF length(v_payload) > 4000 THEN v_payload := '*'; END IF;
    PERFORM pg_notify(p_channel, v_payload);
  END IF;
  RETURN json_build_object('claimed', to_json(v_claimed), 'ended', v_ended);
END
$fn$;
