-- The claim of a run by the web process that accepted it (lib/queue/local-runs.ts), inside the
-- transaction that inserts the run and its job. Same lease as a worker's claim
-- (trellis_claim_run_slot) and the same per-workflow limit, counted under the same advisory lock,
-- with one difference: the run is brand new, so every run of its workflow still waiting in the
-- queue (queued, no live lease, fetched by a worker or not) was accepted before it and keeps its
-- place. Only a slot beyond theirs is taken here; otherwise the run goes to the queue like any other.
CREATE FUNCTION trellis_claim_new_run(run_id text, worker text, slot_limit int, lease_ms int)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  r record;
  busy int;
BEGIN
  SELECT x."workflowId", x."parentRunId" INTO r FROM "Run" x WHERE x.id = run_id AND x.status = 'queued';
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  IF r."workflowId" IS NOT NULL AND r."parentRunId" IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('trellis.slots'), hashtext(r."workflowId"));
    SELECT count(*)::int INTO busy FROM "Run" x
     WHERE x."workflowId" = r."workflowId" AND x."parentRunId" IS NULL AND x.id <> run_id
       AND (x.status = 'queued' OR (x.status = 'running' AND x."leaseUntil" > now()));
    IF busy >= slot_limit THEN
      RETURN false;
    END IF;
  END IF;
  UPDATE "Run" x SET "leaseOwner" = worker, "leaseUntil" = now() + lease_ms * interval '1 millisecond'
   WHERE x.id = run_id AND x."leaseOwner" IS NULL;
  RETURN FOUND;
END $$;
