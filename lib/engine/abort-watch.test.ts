import { describe, expect, it } from 'vitest';
import { abortWatchers, watchAbort } from './abort-watch';

describe('watchAbort', () => {
  it('calls every watcher once with the reason, through one listener on the signal', () => {
    const ctrl = new AbortController();
    let listeners = 0;
    const add = ctrl.signal.addEventListener.bind(ctrl.signal);
    ctrl.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    const seen: unknown[] = [];
    for (let i = 0; i < 100; i++) watchAbort(ctrl.signal, (r) => seen.push(r));
    expect(listeners).toBe(1);
    expect(abortWatchers(ctrl.signal)).toBe(100);
    ctrl.abort('stop');
    ctrl.abort('again');
    expect(seen).toHaveLength(100);
    expect(new Set(seen)).toEqual(new Set(['stop']));
    expect(abortWatchers(ctrl.signal)).toBe(0);
  });

  it('a watcher that stopped is not called and not kept', () => {
    const ctrl = new AbortController();
    const calls: string[] = [];
    const stopA = watchAbort(ctrl.signal, () => calls.push('a'));
    watchAbort(ctrl.signal, () => calls.push('b'));
    stopA();
    expect(abortWatchers(ctrl.signal)).toBe(1);
    ctrl.abort();
    expect(calls).toEqual(['b']);
  });

  it('an aborted signal calls at once', () => {
    const ctrl = new AbortController();
    ctrl.abort('done');
    const seen: unknown[] = [];
    const stop = watchAbort(ctrl.signal, (r) => seen.push(r));
    expect(seen).toEqual(['done']);
    stop();
    expect(abortWatchers(ctrl.signal)).toBe(0);
  });
});
