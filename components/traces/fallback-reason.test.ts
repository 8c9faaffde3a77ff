import { describe, expect, it } from 'vitest';
import {
  FALLBACK_REASONS,
  fallbackExplanation,
  fallbackSentence,
  validationMessage,
} from './fallback-reason';

describe('fallback reasons', () => {
  it('has a sentence for every code the agent emits', () => {
    for (const code of [
      'no_model_configured',
      'invalid_output',
      'max_steps',
      'budget',
      'timeout',
      'tool_error',
      'model_error',
    ]) {
      expect(FALLBACK_REASONS[code]).toMatch(/\.$/);
    }
    expect(fallbackSentence('weird_code')).toContain('weird_code');
    expect(fallbackSentence(null)).toBeNull();
  });

  it('adds the last validation error to invalid output', () => {
    const turns = [
      {
        seq: 1,
        kind: 'validation_error',
        payload: { errors: [{ path: '/label', message: 'must be one of billing, bug' }] },
      },
      {
        seq: 2,
        kind: 'validation_error',
        payload: { errors: [{ instancePath: '/label', message: 'must be one of billing, bug, other' }] },
      },
    ];
    expect(fallbackExplanation('invalid_output', turns)).toBe(
      "The agent's answer did not match the step's output schema. Last error: /label must be one of billing, bug, other",
    );
    expect(fallbackExplanation('timeout', turns)).toBe(FALLBACK_REASONS.timeout);
  });

  it('reads the common validation payload shapes', () => {
    expect(validationMessage('bad')).toBe('bad');
    expect(validationMessage({ message: 'nope' })).toBe('nope');
    expect(validationMessage({ errors: ['a', 'b'] })).toBe('a; b');
  });
});
