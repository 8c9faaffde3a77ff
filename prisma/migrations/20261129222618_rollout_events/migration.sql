-- AlterTable
ALTER TABLE "WorkflowVersion" ADD COLUMN     "note" TEXT;

-- CreateTable
CREATE TABLE "RolloutEvent" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "nodeId" TEXT,
    "kind" TEXT NOT NULL,
    "fromStage" TEXT,
    "toStage" TEXT,
    "version" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "evidence" JSONB,
    "actor" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RolloutEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RolloutEvent_workflowId_createdAt_idx" ON "RolloutEvent"("workflowId", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "RolloutEvent" ADD CONSTRAINT "RolloutEvent_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;
