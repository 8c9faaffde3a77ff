// A web process for tests/durable/web-crash.test.ts: opens the server-mode runtime on DATABASE_URL
// (so runs it accepts execute in it when it has a slot, lib/queue/local-runs.ts), starts one run of
// the workflow WEB_PROC_WORKFLOW (and WEB_PROC_MORE after it), prints their ids and waits to be killed.
import { openDb } from '@/lib/db/client';
import { dieWithParent } from './die-with-parent';
import { enqueueRun } from '@/lib/server/enqueue';
import { createRuntime } from '@/lib/server/runtime';

dieWithParent();

const url = process.env.DATABASE_URL!;
const workflowId = process.env.WEB_PROC_WORKFLOW!;
const db = await openDb({ databaseUrl: url });
const rt = await createRuntime({ db, databaseUrl: url, seed: false });
const head = await db.prisma.workflowVersion.findFirstOrThrow({
  where: { workflowId },
  orderBy: { version: 'desc' },
});
const runId = await enqueueRun(rt, {
  workflowId,
  versionId: head.id,
  version: head.version,
  definition: head.definition,
  input: {},
  trigger: 'manual',
});
console.log(`RUN ${runId}`);
// More runs of the workflow (WEB_PROC_MORE): with its limit at 1 they wait in this process's backlog.
const more: string[] = [];
for (let i = 0; i < Number(process.env.WEB_PROC_MORE ?? 0); i++)
  more.push(
    await enqueueRun(rt, {
      workflowId,
      versionId: head.id,
      version: head.version,
      definition: head.definition,
      input: { i },
      trigger: 'manual',
    }),
  );
console.log(`MORE ${more.join(',')}.`);
setInterval(() => {}, 60_000);
