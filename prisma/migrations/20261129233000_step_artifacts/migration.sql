-- CreateTable
CREATE TABLE "StepArtifact" (
    "id" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "mime" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "meta" JSONB,
    "bytes" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StepArtifact_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StepArtifact_stepId_createdAt_idx" ON "StepArtifact"("stepId", "createdAt");

-- AddForeignKey
ALTER TABLE "StepArtifact" ADD CONSTRAINT "StepArtifact_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "Step"("id") ON DELETE CASCADE ON UPDATE CASCADE;
