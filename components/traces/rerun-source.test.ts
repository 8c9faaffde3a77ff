import { describe, expect, it } from 'vitest';
import { defaultCompareWith, rerunSourceOf, reusedStepIds } from './rerun-source';
import type { StepSummary } from './types';

const step = (id: string, startedAt: string) => ({ id, startedAt }) as StepSummary;

describe('rerun source', () => {
  const rerun = { id: 'r2', trigger: 'rerun:r1', createdAt: '2026-01-01T10:00:00.000Z' };
  it('names the source run and the steps copied from it', () => {
    expect(rerunSourceOf(rerun)).toBe('r1');
    expect(rerunSourceOf({ trigger: 'manual' })).toBeNull();
    const steps = [step('a', '2026-01-01T09:59:00.000Z'), step('b', '2026-01-01T10:00:01.000Z')];
    expect([...reusedStepIds(rerun, steps)]).toEqual(['a']);
    expect(reusedStepIds({ ...rerun, trigger: 'manual' }, steps).size).toBe(0);
  });
  it('compares a rerun with its source, anything else with the run before it', () => {
    const others = [
      { id: 'r3', createdAt: '2026-01-01T11:00:00.000Z' },
      { id: 'r0', createdAt: '2026-01-01T08:00:00.000Z' },
    ];
    expect(defaultCompareWith(rerun, others)).toBe('r1');
    expect(defaultCompareWith({ ...rerun, trigger: 'manual' }, others)).toBe('r0');
    expect(defaultCompareWith({ ...rerun, trigger: 'manual' }, [others[0]])).toBe('r3');
    expect(defaultCompareWith({ ...rerun, trigger: 'manual' }, [])).toBeNull();
  });
});
