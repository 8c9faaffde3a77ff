import { describe, expect, it } from 'vitest';
import { DEFAULT_OVERSCAN_ROWS, windowRange } from './virtual-window';

describe('windowRange', () => {
  it('renders the visible rows plus overscan', () => {
    expect(windowRange(0, 280, 28, 10_000, 0)).toEqual({ start: 0, end: 11 });
    expect(windowRange(2800, 280, 28, 10_000, 2)).toEqual({ start: 98, end: 113 });
  });
  it(`overscans ${DEFAULT_OVERSCAN_ROWS} rows by default and clamps at both ends`, () => {
    expect(windowRange(28 * 50, 280, 28, 10_000)).toEqual({
      start: 50 - DEFAULT_OVERSCAN_ROWS,
      end: 50 + 11 + DEFAULT_OVERSCAN_ROWS,
    });
    expect(windowRange(1e9, 280, 28, 100)).toEqual({ start: 99, end: 100 });
    expect(windowRange(-50, 280, 28, 3)).toEqual({ start: 0, end: 3 });
    expect(windowRange(0, 280, 28, 0)).toEqual({ start: 0, end: 0 });
  });
});
