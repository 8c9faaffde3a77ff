import { describe, expect, it } from 'vitest';
import { ENGINE_YIELD_INTERVAL_MS } from './limits';
import { yieldIfDue } from './time-slice';

// Issue 14 item 1: while runs execute, the event loop turns at least every slice, however many
// chains (map items, runs) are in flight. Counted in work, not time: each unit of work busies the
// CPU for STEP_MS, so a slice holds about ENGINE_YIELD_INTERVAL_MS / STEP_MS units, plus at most one
// per chain that was already past its check when the slice ran out. When every chain yielded on its
// own and took a fresh slice on resuming, one turn held CHAINS slices (~320 units here).

const CHAINS = 32;
const STEP_MS = 1;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the engine time slice', () => {
  it(`shares one slice of ${ENGINE_YIELD_INTERVAL_MS} ms between all chains in flight`, async () => {
    let turn = 0;
    let stop = false;
    const tick = () => {
      turn++;
      if (!stop) setImmediate(tick);
    };
    setImmediate(tick);
    const perTurn = new Map<number, number>();
    const chain = async () => {
      for (let i = 0; i < 20; i++) {
        const handBack = yieldIfDue();
        if (handBack) await handBack;
        busy(STEP_MS);
        perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
        await Promise.resolve(); // buffered store writes: the chain goes on as microtasks
      }
    };
    await Promise.all(Array.from({ length: CHAINS }, chain));
    stop = true;
    const most = Math.max(...perTurn.values());
    expect(most).toBeLessThanOrEqual(ENGINE_YIELD_INTERVAL_MS / STEP_MS + CHAINS + 1);
    // And the work did spread over many turns of the loop.
    expect(perTurn.size).toBeGreaterThan((CHAINS * 20 * STEP_MS) / (ENGINE_YIELD_INTERVAL_MS + CHAINS));
  });
});
