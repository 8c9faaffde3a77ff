// `trellis worker`: executes queued runs of the shared database. The engine's compare-and-set
// run transition (queued → running) makes sure two workers never execute the same run.
import { createRuntime } from '@/lib/server/runtime';

export const WORKER_POLL_MS = 500;

export async function workerCommand(
  opts: { concurrency: number },
  io: { log: (s: string) => void; error: (s: string) => void },
): Promise<number> {
  const rt = await createRuntime({ seed: false });
  io.log(`trellis worker: ${rt.db.kind} database, concurrency ${opts.concurrency}`);
  let stopping = false;
  const stop = new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        stopping = true;
        resolve();
      });
  });
  while (!stopping) {
    const queued = await rt.db.prisma.run.findMany({
      where: { status: 'queued' },
      orderBy: { createdAt: 'asc' },
      take: opts.concurrency,
      select: { id: true },
    });
    await Promise.all(queued.map((r) => rt.engine.executeRun(r.id).catch(() => undefined)));
    if (!queued.length) await Promise.race([stop, new Promise((r) => setTimeout(r, WORKER_POLL_MS))]);
  }
  await rt.store.flush();
  await rt.db.close();
  return 0;
}
