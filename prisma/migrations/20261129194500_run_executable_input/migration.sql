-- The exact input a run executes, as JSON text, when it differs from the trace copy in "input"
-- (capped at 256 KiB, secrets masked). NULL: the trace copy is the input. Text, not jsonb: an exact
-- copy (a \u0000 escape survives) that is only ever read whole by the engine.
ALTER TABLE "Run" ADD COLUMN "executableInput" TEXT;
