-- CreateTable
CREATE TABLE "Backtest" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "nodeId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "request" JSONB NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "agreed" INTEGER NOT NULL DEFAULT 0,
    "tokens" INTEGER NOT NULL DEFAULT 0,
    "cost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "error" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Backtest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BacktestCase" (
    "id" TEXT NOT NULL,
    "backtestId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "runId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "runVersion" INTEGER,
    "input" JSONB,
    "expected" JSONB,
    "actual" JSONB,
    "outcome" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "agreed" BOOLEAN NOT NULL,
    "fallbackReason" TEXT,
    "diffPaths" JSONB NOT NULL,
    "failureType" TEXT,
    "tokens" INTEGER NOT NULL DEFAULT 0,
    "cost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "latencyMs" INTEGER NOT NULL DEFAULT 0,
    "modelMs" INTEGER NOT NULL DEFAULT 0,
    "deterministicMs" DOUBLE PRECISION,
    "turns" INTEGER NOT NULL DEFAULT 0,
    "refusedCalls" INTEGER NOT NULL DEFAULT 0,
    "error" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BacktestCase_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Backtest_workflowId_createdAt_idx" ON "Backtest"("workflowId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "BacktestCase_backtestId_failureType_idx" ON "BacktestCase"("backtestId", "failureType");

-- CreateIndex
CREATE UNIQUE INDEX "BacktestCase_backtestId_seq_key" ON "BacktestCase"("backtestId", "seq");

-- AddForeignKey
ALTER TABLE "Backtest" ADD CONSTRAINT "Backtest_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BacktestCase" ADD CONSTRAINT "BacktestCase_backtestId_fkey" FOREIGN KEY ("backtestId") REFERENCES "Backtest"("id") ON DELETE CASCADE ON UPDATE CASCADE;
