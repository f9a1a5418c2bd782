-- Revision 0020 (frozen): sysjobs_end_and_claim_v8, revision 0018's _v7 with a short path
-- for the claim of a pool that serves one app without concurrency limits. _v7 ran, for every
-- call, the limits' lock-key query (two json_to_recordset, json_each and a sort, to find no
-- key), then sysjobs_claim_fair_v7 (a PL/pgSQL call, the apps' de-duplication query), which
-- for one app without limits calls sysjobs_claim_take_v7 at once. _v8 sees that case from the
-- claim itself (one claim, one app, no types of its own, no limit of that app) and calls the
-- take directly; any other claim takes _v7's path unchanged. The ends, the take, the hints
-- and the answer are _v7's: the same claim order, app scoping, limits and their locks,
-- fences, events and hints. The _v7 functions stay: _v8 calls _v7's take and fair rounds,
-- and workers of the previous release call sysjobs_end_and_claim_v7.

CREATE OR REPLACE FUNCTION sysjobs_end_and_claim_v8(
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
