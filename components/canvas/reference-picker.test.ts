import { describe, expect, it } from 'vitest';
import { insideJsonString } from './json-field';
import { placePopover } from './reference-picker';

describe('placePopover', () => {
  const vw = 1024;
  const vh = 600;
  it('opens below the field, right-aligned, when there is room', () => {
    expect(placePopover({ top: 100, bottom: 130, right: 900 }, 288, 200, vw, vh)).toEqual({
      top: 134,
      left: 612,
    });
  });
  it('flips above a field near the bottom edge', () => {
    expect(placePopover({ top: 500, bottom: 530, right: 900 }, 288, 200, vw, vh)).toEqual({
      top: 296,
      left: 612,
    });
  });
  it('stays inside even when its field is scrolled below the viewport', () => {
    expect(placePopover({ top: 560, bottom: 590, right: 900 }, 288, 316, vw, 520)).toEqual({
      top: 196,
      left: 612,
    });
  });
  it('clamps into the viewport when neither side has room and never spills off the left', () => {
    const p = placePopover({ top: 150, bottom: 180, right: 100 }, 288, 500, vw, vh);
    expect(p).toEqual({ top: 92, left: 8 });
    expect(p.top + 500).toBeLessThanOrEqual(vh - 8);
  });
});

describe('insideJsonString', () => {
  it('tells a position inside a string literal from one between values', () => {
    expect(insideJsonString('{ "a": ')).toBe(false);
    expect(insideJsonString('{ "a": "hello ')).toBe(true);
    expect(insideJsonString('{ "a": "say \\"hi\\" ')).toBe(true);
    expect(insideJsonString('{ "a": "x", "b": ')).toBe(false);
  });
});
