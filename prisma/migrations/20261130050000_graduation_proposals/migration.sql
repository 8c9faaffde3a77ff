-- CreateTable
CREATE TABLE "GraduationProposal" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "nodeId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "phase" TEXT NOT NULL DEFAULT 'queued',
    "request" JSONB NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "result" JSONB,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "error" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "GraduationProposal_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "GraduationProposal_workflowId_nodeId_createdAt_idx" ON "GraduationProposal"("workflowId", "nodeId", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "GraduationProposal" ADD CONSTRAINT "GraduationProposal_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;
