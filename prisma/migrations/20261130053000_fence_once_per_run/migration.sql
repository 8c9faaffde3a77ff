-- The commit-time fence (20261129230000_commit_time_fence) checked every Step and AgentTurn row of
-- a trace batch on its own: a batch of 1,000 steps of one run walked up to its top-level run and
-- locked its lease row 1,000 times at COMMIT (~20-35 µs a row measured, the bulk of a long
-- chain's per-step cost). A run checked once in a transaction stays checked until its end: the
-- check holds the top-level run's lease row FOR SHARE until the commit, so no takeover can come
-- between two rows of the same run. The run last checked is kept in a transaction-local setting
-- (reset when the transaction ends); rows of another run are checked as before.
CREATE OR REPLACE FUNCTION trellis_fence_run_once(run_id text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('trellis.fenced_run', true) IS DISTINCT FROM run_id THEN
    PERFORM trellis_fence_check(run_id);
    PERFORM set_config('trellis.fenced_run', run_id, true);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION trellis_fence_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM trellis_fence_run_once(NEW."runId");
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION trellis_fence_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM trellis_fence_run_once((SELECT "runId" FROM "Step" WHERE id = NEW."stepId"));
  RETURN NULL;
END $$;
