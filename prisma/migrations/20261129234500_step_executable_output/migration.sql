-- The exact output of a step, as JSON text, when it differs from the trace copy in "output"
-- (capped at 256 KiB, secrets masked). NULL: the trace copy is the output. A resumed run and a
-- rerun reuse it, so later steps run on the real value. Never returned by the API.
ALTER TABLE "Step" ADD COLUMN "executableOutput" TEXT;
