import { afterAll } from 'vitest';

// Issue 12 item 3: no promise rejection may go unhandled in the engine, the queue or the server
// (in production one ends the process and every run in it). Every test file runs under this guard:
// a rejection nobody handled fails the file, naming the reason.

const seen: unknown[] = [];
const onRejection = (reason: unknown) => {
  seen.push(reason);
};
process.on('unhandledRejection', onRejection);

afterAll(async () => {
  // Let rejections of the last test's promises surface before looking.
  await new Promise((r) => setImmediate(r));
  process.off('unhandledRejection', onRejection);
  if (seen.length) {
    const reasons = seen.map((r) => (r instanceof Error ? (r.stack ?? r.message) : String(r)));
    seen.length = 0;
    throw new Error(`${reasons.length} unhandled promise rejection(s):\n${reasons.join('\n---\n')}`);
  }
});
