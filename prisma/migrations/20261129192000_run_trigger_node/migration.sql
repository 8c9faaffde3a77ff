-- The trigger node that started a run, so only its branch runs and a rerun starts from it again.
ALTER TABLE "Run" ADD COLUMN "triggerNodeId" TEXT;
