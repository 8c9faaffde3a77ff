import { describe, expect, it } from 'vitest';
import { cyclesOf, folderGraph, folderOf } from './check-cycles.mjs';

// The cycle check of `npm run lint`: folder cycles are found through any number of files, while
// tests and testing/ helpers may reach across folders.

describe('cycle check', () => {
  it('names folders as the layering rules do', () => {
    expect(folderOf('lib/engine/plan.ts')).toBe('lib/engine');
    expect(folderOf('lib/engine/testing/harness.ts')).toBe('lib/engine');
    expect(folderOf('components/canvas/graph.ts')).toBe('components');
    expect(folderOf('proxy.ts')).toBe('proxy.ts');
  });

  it('finds a folder cycle made of different files, and none through tests or testing/', () => {
    const files = {
      'lib/agent/loop.ts': ['lib/engine/trace-store.ts'],
      'lib/engine/trace-store.ts': [],
      'lib/engine/agent-step.ts': ['lib/agent/loop.ts'],
      'lib/net/fetch.ts': [],
      'lib/nodes/http.ts': ['lib/net/fetch.ts'],
      'lib/net/fetch.test.ts': ['lib/nodes/http.ts'],
      'lib/net/testing/ctx.ts': ['lib/nodes/http.ts'],
    };
    const { graph, why } = folderGraph(files);
    expect(cyclesOf(graph)).toEqual([['lib/agent', 'lib/engine']]);
    expect(why.get('lib/agent>lib/engine')).toBe('lib/agent/loop.ts → lib/engine/trace-store.ts');
    expect(graph.get('lib/net')).toBeUndefined();
  });

  it('finds longer cycles and leaves a layered graph alone', () => {
    const cyclic = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesOf(cyclic)).toEqual([['a', 'b', 'c']]);
    const layered = new Map([
      ['server', ['engine', 'db']],
      ['db', ['engine']],
      ['engine', ['workflow']],
    ]);
    expect(cyclesOf(layered)).toEqual([]);
  });
});
