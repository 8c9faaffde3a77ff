import { describe, expect, it } from 'vitest';
import { traceStoreContract } from '@/lib/db/testing/trace-store-contract';
import { MAX_TRACE_FIELD_BYTES, REDACTED, SecretRedactor } from '@/lib/payload';
import { MemoryTraceStore } from './memory-trace-store';

// The shared TraceStore contract (lib/db), with capping and redaction switched on.
traceStoreContract('MemoryTraceStore (capping, redact)', async () => ({
  store: (opts) => new MemoryTraceStore(opts),
  capsPayloads: true,
  sharedStorage: false,
  close: async () => {},
}));

const definition = { schemaVersion: 1 as const, name: 'x', nodes: [], edges: [] };

describe('MemoryTraceStore', () => {
  it(`caps a field above MAX_TRACE_FIELD_BYTES (${MAX_TRACE_FIELD_BYTES}) by default and keeps smaller ones`, async () => {
    const s = new MemoryTraceStore();
    const run = await s.createRun({
      workflowId: null,
      workflowVersionId: null,
      version: null,
      definition,
      input: 'x'.repeat(MAX_TRACE_FIELD_BYTES),
      trigger: 'manual',
    });
    expect(run.input).toMatchObject({ $truncated: true });
    const small = await s.createRun({
      workflowId: null,
      workflowVersionId: null,
      version: null,
      definition,
      input: 'x'.repeat(1000),
      trigger: 'manual',
    });
    expect(small.input).toBe('x'.repeat(1000));
  });

  it('detaches stored payloads from the caller', async () => {
    const s = new MemoryTraceStore();
    const input = { a: [1] };
    const run = await s.createRun({
      workflowId: null,
      workflowVersionId: null,
      version: null,
      definition,
      input,
      trigger: 'manual',
    });
    input.a.push(2);
    expect((await s.getRun(run.id))?.input).toEqual({ a: [1] });
  });
});

describe("SecretRedactor.withValues (a run's own secrets)", () => {
  it('masks secret values at any depth and leaves short ones (too likely to be ordinary text)', () => {
    const redact = new SecretRedactor().withValues(['sk-12345', 'abc']).redact;
    expect(redact({ h: ['Bearer sk-12345'], n: 1, k: 'abc' })).toEqual({
      h: [`Bearer ${REDACTED}`],
      n: 1,
      k: 'abc',
    });
  });
});
