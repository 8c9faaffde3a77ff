-- Fencing (lib/queue/fencing.ts): a worker that lost a run's lease cannot commit a step, an agent
-- turn or a status change of that run. Worker sessions carry their id as the setting
-- `trellis.worker`; sessions without it (the web process, embedded mode) are never fenced, and the
-- WHEN clauses keep the triggers free for them.
--
-- The step and turn checks are deferred to COMMIT: a check at write time passes for a worker that
-- is then paused before its COMMIT, and that transaction used to commit a stale `running` attempt
-- after another worker had taken the run over. At COMMIT the check runs inside the server's commit
-- processing (a paused client cannot sit between it and the commit), and it locks the top-level
-- run row FOR SHARE, so a takeover (an UPDATE of the lease) either committed before the check (the
-- check sees the new owner and the commit fails) or waits until this transaction has committed
-- (and the new owner then reads the rows it wrote). Child runs are fenced by their top-level
-- run's owner: they are driven inside its lease.

-- Replaces the write-time triggers installFencing() created at worker start (fencing v1-v3).
DROP TRIGGER IF EXISTS trellis_fence_step ON "Step";
DROP TRIGGER IF EXISTS trellis_fence_run ON "Run";
DROP FUNCTION IF EXISTS trellis_fence_step();
DROP FUNCTION IF EXISTS trellis_fence_run();

-- Raises trellis_lease_lost unless this worker session owns the run's top-level run (or nobody does).
CREATE FUNCTION trellis_fence_check(run_id text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  w text := current_setting('trellis.worker', true);
  root text := run_id;
  up text;
  owner text;
BEGIN
  LOOP
    SELECT "parentRunId" INTO up FROM "Run" WHERE id = root;
    EXIT WHEN up IS NULL;
    root := up;
  END LOOP;
  SELECT "leaseOwner" INTO owner FROM "Run" WHERE id = root FOR SHARE;
  IF owner IS NOT NULL AND owner <> w THEN
    RAISE EXCEPTION 'trellis_lease_lost: run % is leased by %, not %', root, owner, w;
  END IF;
END $$;

CREATE FUNCTION trellis_fence_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM trellis_fence_check(NEW."runId");
  RETURN NULL;
END $$;

CREATE FUNCTION trellis_fence_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM trellis_fence_check((SELECT "runId" FROM "Step" WHERE id = NEW."stepId"));
  RETURN NULL;
END $$;

-- A status or output change is one statement that locks the run row itself, so its check at write
-- time holds until its commit.
CREATE FUNCTION trellis_fence_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status OR NEW.output IS DISTINCT FROM OLD.output THEN
    IF OLD."parentRunId" IS NULL THEN
      IF OLD."leaseOwner" IS NOT NULL AND OLD."leaseOwner" <> current_setting('trellis.worker', true) THEN
        RAISE EXCEPTION 'trellis_lease_lost: run % is leased by %, not %', OLD.id, OLD."leaseOwner",
          current_setting('trellis.worker', true);
      END IF;
    ELSE
      PERFORM trellis_fence_check(OLD."parentRunId");
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE CONSTRAINT TRIGGER trellis_fence_step AFTER INSERT OR UPDATE ON "Step"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (COALESCE(current_setting('trellis.worker', true), '') <> '')
  EXECUTE FUNCTION trellis_fence_step();

CREATE CONSTRAINT TRIGGER trellis_fence_turn AFTER INSERT ON "AgentTurn"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (COALESCE(current_setting('trellis.worker', true), '') <> '')
  EXECUTE FUNCTION trellis_fence_turn();

CREATE TRIGGER trellis_fence_run BEFORE UPDATE ON "Run"
  FOR EACH ROW
  WHEN (COALESCE(current_setting('trellis.worker', true), '') <> '')
  EXECUTE FUNCTION trellis_fence_run();
