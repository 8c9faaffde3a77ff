import { TrellisError } from '@/lib/workflow/errors';

// A promotion job (backtest or graduation proposal) runs in one process and is cancelled from
// another: the cancel is a flag on its row, which the job polls. One poller for both.

/** How often a running promotion job looks for a cancel request from another process. */
export const CANCEL_POLL_MS = 300;

/**
 * Polls `requested` until stopped; aborts `ac` (with run_cancelled) once it says yes.
 * Returns stop(), which resolves when the poller has ended.
 */
export function pollCancel(
  ac: AbortController,
  requested: () => Promise<boolean>,
  what: string,
): () => Promise<void> {
  let polling = true;
  const loop = (async () => {
    while (polling && !ac.signal.aborted) {
      await new Promise((r) => setTimeout(r, CANCEL_POLL_MS).unref?.());
      if (!polling) break;
      if (await requested().catch(() => false))
        ac.abort(new TrellisError('run_cancelled', `${what} cancelled`));
    }
  })();
  return async () => {
    polling = false;
    await loop.catch(() => {});
  };
}
