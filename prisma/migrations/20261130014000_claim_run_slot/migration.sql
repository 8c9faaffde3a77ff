-- The claim of a run by a worker (lib/queue/fencing.ts claimRunSlot) in one round trip. It was a
-- transaction of six statements (BEGIN, read, lock, count, update, COMMIT) on the path of every
-- run; this function does the same steps in the same order inside the caller's statement.
-- Each statement of a VOLATILE plpgsql function takes a fresh snapshot (READ COMMITTED), so the
-- count after the advisory lock sees every claim committed by whoever held the lock before: the
-- per-workflow limit stays exact across loops and workers, as it was with separate statements.
CREATE FUNCTION trellis_claim_run_slot(
  run_id text, job_name text, job_id uuid, worker text, slot_limit int, lease_ms int
) RETURNS TABLE (claimed boolean, run_status text, lease_owner text, lease_until timestamptz, slots_full boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  r record;
  busy int;
BEGIN
  SELECT x.status, x."workflowId", x."parentRunId" INTO r FROM "Run" x WHERE x.id = run_id;
  -- A queued top-level run of a saved workflow takes one of the workflow's slots: live leases of
  -- its queued/running runs plus jobs fetched before this one that still wait for a slot.
  IF FOUND AND r.status = 'queued' AND r."workflowId" IS NOT NULL AND r."parentRunId" IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('trellis.slots'), hashtext(r."workflowId"));
    SELECT
      (SELECT count(*)::int FROM "Run" x
        WHERE x."workflowId" = r."workflowId" AND x."parentRunId" IS NULL AND x.id <> run_id
          AND x.status IN ('queued', 'running') AND x."leaseUntil" > now())
    + (SELECT count(*)::int FROM pgboss.job j JOIN "Run" x ON x.id = j.data->>'runId'
        WHERE j.name = job_name AND j.group_id = r."workflowId" AND j.state = 'active' AND x.id <> run_id
          AND j.created_on < (SELECT k.created_on FROM pgboss.job k WHERE k.name = job_name AND k.id = job_id)
          AND x.status = 'queued' AND (x."leaseUntil" IS NULL OR x."leaseUntil" <= now()))
    INTO busy;
    IF busy >= slot_limit THEN
      RETURN QUERY SELECT false, r.status::text, NULL::text, NULL::timestamptz, true;
      RETURN;
    END IF;
  END IF;
  -- Takes the run unless another worker's lease is still live.
  RETURN QUERY
    UPDATE "Run" x SET "leaseOwner" = worker, "leaseUntil" = now() + lease_ms * interval '1 millisecond'
     WHERE x.id = run_id
       AND (x."leaseOwner" IS NULL OR x."leaseOwner" = worker OR x."leaseUntil" IS NULL OR x."leaseUntil" < now())
    RETURNING true, x.status::text, NULL::text, NULL::timestamptz, false;
  IF FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT false, x.status::text, x."leaseOwner"::text, x."leaseUntil"::timestamptz, false
    FROM "Run" x WHERE x.id = run_id;
END $$;
