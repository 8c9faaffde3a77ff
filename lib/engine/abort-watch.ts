// One 'abort' listener per signal, however many steps wait on it. A map of 100,000 items added and
// removed an EventTarget listener (and built an AbortController) per item and per step: Node's
// EventTarget bookkeeping was a measurable share of a large run's CPU and garbage (issue 14).
// Here a step registers a plain callback in a Set kept per signal.

type OnAbort = (reason: unknown) => void;

const watchers = new WeakMap<AbortSignal, Set<OnAbort>>();

/**
 * Calls `fn` with the signal's reason once it aborts (at once if it already has). Returns the
 * function that stops watching; call it when the work is done, so the callback is not kept.
 */
export function watchAbort(signal: AbortSignal, fn: OnAbort): () => void {
  if (signal.aborted) {
    fn(signal.reason);
    return noop;
  }
  let set = watchers.get(signal);
  if (!set) {
    const callbacks = new Set<OnAbort>();
    watchers.set(signal, (set = callbacks));
    signal.addEventListener(
      'abort',
      () => {
        watchers.delete(signal);
        for (const cb of callbacks) cb(signal.reason);
        callbacks.clear();
      },
      { once: true },
    );
  }
  const callbacks = set;
  callbacks.add(fn);
  return () => callbacks.delete(fn);
}

const noop = () => {};

/** Callbacks waiting on a signal (tests: nothing is left behind once the work is done). */
export function abortWatchers(signal: AbortSignal): number {
  return watchers.get(signal)?.size ?? 0;
}
