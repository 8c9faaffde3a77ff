import { ENGINE_YIELD_INTERVAL_MS } from './limits';

// Every run of the process shares one time slice. Steps whose store writes are buffered chain as
// microtasks, which hold the event loop until the chain awaits real I/O; so before each step the
// engine asks whether the loop has gone ENGINE_YIELD_INTERVAL_MS without a turn, and if so every
// chain waits on the same setImmediate. One hand-back for all of them matters: when each chain
// yielded on its own and took a fresh slice on resuming, the N chains of a wide map (32 items in
// flight) all resumed in one check phase and held the loop for N slices (~0.3 s) per turn.

/** performance.now() when the current slice of work began; undefined once the loop had a turn. */
let sliceStart: number | undefined;
/** The pending hand-back every chain that finds the slice used up waits on. */
let handBack: Promise<void> | undefined;

function endSlice(): void {
  sliceStart = undefined;
}

/**
 * A promise to await before more work when the slice is used up, else undefined (no await, so
 * a chain that is within its slice pays nothing).
 */
export function yieldIfDue(): Promise<void> | undefined {
  if (handBack) return handBack;
  const now = performance.now();
  if (sliceStart === undefined) {
    // The slice ends at the loop's next check phase: an immediate runs only once the loop turns.
    sliceStart = now;
    setImmediate(endSlice);
    return undefined;
  }
  if (now - sliceStart < ENGINE_YIELD_INTERVAL_MS) return undefined;
  handBack = new Promise<void>((resolve) =>
    setImmediate(() => {
      handBack = undefined;
      resolve();
    }),
  );
  return handBack;
}
