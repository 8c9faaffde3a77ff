import { describe, expect, it } from 'vitest';
import { groupedCalls } from './grouped-calls';

describe('groupedCalls', () => {
  const harness = (failOn?: number) => {
    const writes: number[][] = [];
    let release: (() => void) | undefined;
    const call = groupedCalls<number, string>({
      one: async (n) => {
        writes.push([n]);
        if (n === failOn) throw new Error(`bad ${n}`);
        return `one ${n}`;
      },
      many: async (ns) => {
        writes.push(ns);
        await new Promise<void>((r) => (release = r));
        if (failOn !== undefined && ns.includes(failOn)) throw new Error('group failed');
        return ns.map((n) => `many ${n}`);
      },
      max: 3,
    });
    return { call, writes, release: () => release?.() };
  };

  it('writes a lone call at once, and the calls made meanwhile together, at most `max` per group', async () => {
    const h = harness();
    const first = h.call(1);
    const rest = [2, 3, 4, 5, 6].map((n) => h.call(n));
    expect(await first).toBe('one 1');
    // The calls made while 1 was written form groups of at most 3, in call order.
    await new Promise((r) => setTimeout(r, 0));
    h.release();
    await new Promise((r) => setTimeout(r, 0));
    h.release();
    expect(await Promise.all(rest)).toEqual(['many 2', 'many 3', 'many 4', 'many 5', 'many 6']);
    expect(h.writes).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('tries each item of a failed group alone: only the bad one fails', async () => {
    const h = harness(3);
    const first = h.call(1);
    const rest = [2, 3, 4].map((n) => h.call(n).catch((e: Error) => e.message));
    await first;
    await new Promise((r) => setTimeout(r, 0));
    h.release();
    expect(await Promise.all(rest)).toEqual(['one 2', 'bad 3', 'one 4']);
    expect(h.writes).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });
});
