import { describe, expect, it } from 'vitest';
import { fieldForPath, nodeIdForPath, outputsFor, uniqueId, upstreamOf, wouldCycle } from './graph';
import type { NodeTypeInfo } from './types';

const info = (outputs: string[]): NodeTypeInfo => ({
  type: 'x',
  label: 'X',
  group: 'Data',
  icon: 'box',
  description: '',
  defaultConfig: {},
  outputs,
  hasInput: true,
});

describe('outputsFor', () => {
  it('derives switch handles from its cases plus default', () => {
    expect(outputsFor({ type: 'switch', config: { cases: [{ id: 'a' }, { id: 'b' }] } })).toEqual([
      'a',
      'b',
      'default',
    ]);
  });
  it('adds the error handle only when onError is branch', () => {
    expect(outputsFor({ type: 'http.request', config: {}, onError: 'branch' }, info(['out']))).toEqual([
      'out',
      'error',
    ]);
    expect(outputsFor({ type: 'http.request', config: {}, onError: 'continue' }, info(['out']))).toEqual([
      'out',
    ]);
  });
  it('uses the catalog outputs (condition true/false, output none)', () => {
    expect(outputsFor({ type: 'condition', config: {} }, info(['true', 'false']))).toEqual(['true', 'false']);
    expect(outputsFor({ type: 'output', config: {} }, info([]))).toEqual([]);
  });
});

describe('wouldCycle', () => {
  const edges = [
    { source: 'a', target: 'b' },
    { source: 'b', target: 'c' },
  ];
  it('refuses self loops and back edges', () => {
    expect(wouldCycle(edges, 'a', 'a')).toBe(true);
    expect(wouldCycle(edges, 'c', 'a')).toBe(true);
  });
  it('accepts forward and sideways edges', () => {
    expect(wouldCycle(edges, 'a', 'c')).toBe(false);
    expect(wouldCycle(edges, 'c', 'd')).toBe(false);
  });
});

describe('upstreamOf', () => {
  it('lists every ancestor, nearest first', () => {
    const edges = [
      { source: 'start', target: 'fetch' },
      { source: 'fetch', target: 'route' },
      { source: 'other', target: 'x' },
    ];
    expect(upstreamOf(edges, 'route')).toEqual(['fetch', 'start']);
  });
});

describe('uniqueId', () => {
  it('makes a valid id that is not taken', () => {
    expect(uniqueId('http_request', new Set())).toBe('http_request');
    expect(uniqueId('http_request', new Set(['http_request', 'http_request_2']))).toBe('http_request_3');
    expect(uniqueId('9 bad.name', new Set())).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/);
  });
});

describe('problem paths', () => {
  it('maps a pointer to the node and the field inside it', () => {
    const nodes = [{ id: 'start' }, { id: 'fetch' }];
    expect(nodeIdForPath('/nodes/1/config/url', nodes)).toBe('fetch');
    expect(nodeIdForPath('/nodes/0', nodes)).toBe('start');
    expect(nodeIdForPath('/edges/0/target', nodes)).toBeUndefined();
    expect(fieldForPath('/nodes/1/config/url')).toBe('config/url');
  });
});

describe('layoutPositions', () => {
  it('places the first branch (true) left of the second (false) and ranks top to bottom', async () => {
    const { layoutPositions } = await import('./layout');
    const pos = layoutPositions(
      [{ id: 'start' }, { id: 'route' }, { id: 'no' }, { id: 'yes' }],
      [
        { source: 'start', target: 'route' },
        { source: 'route', target: 'no', handleRank: 1 },
        { source: 'route', target: 'yes', handleRank: 0 },
      ],
    );
    expect(pos.get('start')!.y).toBeLessThan(pos.get('route')!.y);
    expect(pos.get('route')!.y).toBeLessThan(pos.get('yes')!.y);
    expect(pos.get('yes')!.x).toBeLessThan(pos.get('no')!.x);
  });
});

describe('layoutPositions with a deeper true branch', () => {
  it('still keeps the true branch left of the false one', async () => {
    const { layoutPositions } = await import('./layout');
    const pos = layoutPositions(
      ['start', 'route', 'yes', 'no', 'after'].map((id) => ({ id })),
      [
        { source: 'start', target: 'route' },
        { source: 'route', target: 'yes', handleRank: 0 },
        { source: 'route', target: 'no', handleRank: 1 },
        { source: 'yes', target: 'after' },
      ],
    );
    expect(pos.get('yes')!.x).toBeLessThan(pos.get('no')!.x);
    expect(pos.get('after')!.x).toBe(pos.get('yes')!.x);
  });
});
