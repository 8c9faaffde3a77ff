import { describe, expect, it } from 'vitest';
import { COALESCE_MS, HISTORY_LIMIT, SnapshotHistory } from './history';

describe('SnapshotHistory', () => {
  it('undoes and redoes in order, and a new change drops the redo branch', () => {
    const h = new SnapshotHistory('a');
    h.push('b');
    h.push('c');
    expect(h.undo()).toBe('b');
    expect(h.undo()).toBe('a');
    expect(h.undo()).toBeNull();
    expect(h.redo()).toBe('b');
    h.push('x');
    expect(h.canRedo).toBe(false);
    expect(h.undo()).toBe('b');
  });

  it('ignores a snapshot equal to the current one (selection, measuring)', () => {
    const h = new SnapshotHistory('a');
    expect(h.push('a')).toBe(false);
    expect(h.canUndo).toBe(false);
  });

  it('merges edits with the same key within COALESCE_MS into one step', () => {
    const h = new SnapshotHistory('');
    h.push('h', 'step:fetch', 1000);
    h.push('ht', 'step:fetch', 1000 + COALESCE_MS - 1);
    h.push('htt', 'step:fetch', 1000 + 2 * COALESCE_MS); // a pause longer than the window
    expect(h.undo()).toBe('ht');
    expect(h.undo()).toBe('');
  });

  it('keeps at most HISTORY_LIMIT snapshots', () => {
    const h = new SnapshotHistory('0');
    for (let i = 1; i <= HISTORY_LIMIT + 50; i++) h.push(String(i));
    expect(h.size).toBe(HISTORY_LIMIT);
    let last = '';
    while (h.canUndo) last = h.undo()!;
    expect(last).toBe(String(51));
  });
});
