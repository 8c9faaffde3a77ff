import { describe, expect, it } from 'vitest';
import { durationOf, formatCost, formatDuration, formatTokens, formatTrigger, relativeTime } from './format';

describe('format', () => {
  it('formats durations across units', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(0.2)).toBe('<1 ms');
    expect(formatDuration(340)).toBe('340 ms');
    expect(formatDuration(1234)).toBe('1.23 s');
    expect(formatDuration(75_000)).toBe('1m 15s');
    expect(formatDuration(3_720_000)).toBe('1h 2m');
  });
  it('formats tokens and cost', () => {
    expect(formatTokens(0)).toBe('—');
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(1520)).toBe('1.5k');
    expect(formatCost(0.0012)).toBe('$0.0012');
    expect(formatCost(1.5)).toBe('$1.50');
  });
  it('gives relative times against a fixed now', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(relativeTime('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(relativeTime('2026-01-01T11:50:00Z', now)).toBe('10 min ago');
    expect(relativeTime('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('garbage', now)).toBe('—');
  });
  it('derives a duration from timestamps when none is stored', () => {
    expect(durationOf({ durationMs: 5 })).toBe(5);
    expect(durationOf({ startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01.5Z' })).toBe(
      1500,
    );
    expect(durationOf({ startedAt: '2026-01-01T00:00:00Z' }, Date.parse('2026-01-01T00:00:02Z'))).toBe(2000);
  });
  it('shortens rerun triggers', () => {
    expect(formatTrigger('rerun:f4b3f985-961e-47c8-bd53-525ff296a8b5')).toBe('rerun of #f296a8b5');
    expect(formatTrigger('manual')).toBe('manual');
  });
});
