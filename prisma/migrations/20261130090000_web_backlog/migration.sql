-- The web process keeps consuming the runs it accepted (lib/queue/local-runs.ts, issue 21).
--
-- trellis_admit_new_run replaces trellis_claim_new_run: the same claim in the run row's
-- transaction (same lease, limit and advisory lock; every queued run of the workflow was accepted
-- before this one and keeps its place), and when the caller may not claim (no local slot) or the
-- workflow is full it says which: 'claimed', 'full' (the run would wait for a slot anyway) or
-- 'free' (a slot is free, for a worker to take now).
DROP FUNCTION trellis_claim_new_run(text, text, int, int);

CREATE FUNCTION trellis_admit_new_run(run_id text, worker text, slot_limit int, lease_ms int, may_claim boolean)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  r record;
  busy int;
BEGIN
  SELECT x."workflowId", x."parentRunId" INTO r FROM "Run" x WHERE x.id = run_id AND x.status = 'queued';
  IF NOT FOUND THEN
    RETURN 'gone';
  END IF;
  IF r."workflowId" IS NOT NULL AND r."parentRunId" IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('trellis.slots'), hashtext(r."workflowId"));
    SELECT count(*)::int INTO busy FROM "Run" x
     WHERE x."workflowId" = r."workflowId" AND x."parentRunId" IS NULL AND x.id <> run_id
       AND (x.status = 'queued' OR (x.status = 'running' AND x."leaseUntil" > now()));
    IF busy >= slot_limit THEN
      RETURN 'full';
    END IF;
  END IF;
  IF NOT may_claim THEN
    RETURN 'free';
  END IF;
  UPDATE "Run" x SET "leaseOwner" = worker, "leaseUntil" = now() + lease_ms * interval '1 millisecond'
   WHERE x.id = run_id AND x."leaseOwner" IS NULL;
  RETURN CASE WHEN FOUND THEN 'claimed' ELSE 'gone' END;
END $$;

-- The web process's backlog: runs it accepted while their workflow was full, whose jobs it kept
-- deferred (like those of the runs it drives), claimed in the transaction that writes the final
-- status of one of its runs of that workflow. Candidates are looked at in the given (accepted)
-- order; each is claimed while the workflow has a slot, counting, under the workflow's advisory
-- lock: live leases of its queued/running runs, and runs waiting in the queue itself (their job
-- due or fetched by a worker) that were accepted before the candidate: those keep their place, so
-- the web's backlog never overtakes a worker's waiting job. Stops at the first candidate that finds
-- the workflow full, or after max_claims claims. Returns the candidates looked at: claimed, or not
-- (gone: no longer queued, leased by someone else, or its job fetched by a worker, which drives it).
-- With a channel: a slot still free afterwards (fewer live leases than the limit) is announced
-- there, for a worker's job waiting for one (lib/queue/worker.ts); a slot handed on is not.
CREATE FUNCTION trellis_claim_backlog(
  workflow_id text, run_ids text[], job_name text, worker text, slot_limit int, lease_ms int,
  max_claims int, channel text, payload text
) RETURNS TABLE (run_id text, claimed boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  rid text;
  created timestamptz;
  busy int;
  n int := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('trellis.slots'), hashtext(workflow_id));
  FOREACH rid IN ARRAY run_ids LOOP
    EXIT WHEN n >= max_claims;
    SELECT j.created_on INTO created
      FROM "Run" x JOIN pgboss.job j ON j.name = job_name AND j.id = x.id::uuid AND j.state IN ('created', 'retry')
     WHERE x.id = rid AND x."workflowId" = workflow_id AND x.status = 'queued' AND x."parentRunId" IS NULL
       AND (x."leaseUntil" IS NULL OR x."leaseUntil" <= now());
    IF NOT FOUND THEN
      run_id := rid; claimed := false; RETURN NEXT;
      CONTINUE;
    END IF;
    SELECT
      (SELECT count(*)::int FROM "Run" x
        WHERE x."workflowId" = workflow_id AND x."parentRunId" IS NULL AND x.id <> rid
          AND x.status IN ('queued', 'running') AND x."leaseUntil" > now())
    + (SELECT count(*)::int FROM pgboss.job j JOIN "Run" x ON x.id = j.data->>'runId'
        WHERE j.name = job_name AND j.group_id = workflow_id AND x.id <> rid AND j.created_on < created
          AND (j.state = 'active' OR (j.state IN ('created', 'retry') AND j.start_after <= now()))
          AND x.status = 'queued' AND (x."leaseUntil" IS NULL OR x."leaseUntil" <= now()))
    INTO busy;
    EXIT WHEN busy >= slot_limit;
    UPDATE "Run" x SET "leaseOwner" = worker, "leaseUntil" = now() + lease_ms * interval '1 millisecond'
     WHERE x.id = rid AND x.status = 'queued' AND (x."leaseUntil" IS NULL OR x."leaseUntil" <= now());
    run_id := rid; claimed := FOUND; RETURN NEXT;
    IF claimed THEN
      n := n + 1;
    END IF;
  END LOOP;
  IF channel IS NOT NULL AND (
    SELECT count(*) FROM "Run" x
     WHERE x."workflowId" = workflow_id AND x."parentRunId" IS NULL
       AND x.status IN ('queued', 'running') AND x."leaseUntil" > now()
  ) < slot_limit THEN
    PERFORM pg_notify(channel, payload);
  END IF;
END $$;
