import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TRACE_FIELD_BYTES, REDACTED, SecretRedactor, isTruncated } from '@/lib/payload';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';
import { createEngine } from './engine';
import { ProbeLog, engineStores, nodesWithProbe, wf, type StoreHandle } from './testing/harness';

// Outputs reused from the trace are the exact ones. A step's trace copy is capped
// (MAX_TRACE_FIELD_BYTES) and masked (secret values as [REDACTED]); a run resumed after its worker
// died, and a rerun from a node, take the outputs of the steps they do not run again from the
// store, so the store keeps the exact output too (StepResult.executableOutput) and they use it.

afterAll(() => shutdownSandbox());

const SECRET = 'sekret-value-4242';
/** Over the trace cap, and holding a secret value. */
const input = { s: 'x'.repeat(MAX_TRACE_FIELD_BYTES + 40_000) + 'TAIL', key: SECRET };
const measured = { len: input.s.length, tail: 'TAIL', isSecret: true };

const definition = wf(
  [
    { id: 't', type: 'trigger.manual' },
    { id: 'make', type: 'transform', config: { value: '{{ input }}' } },
    // Hangs on its first attempt, as a worker that dies mid-step: another engine resumes the run.
    {
      id: 'stuck',
      type: 'test.probe',
      config: { hang: true, hangAttempts: 1, ignoreSignal: true, value: 1 },
    },
    {
      id: 'out',
      type: 'output',
      config: {
        value: {
          len: '{{ steps.make.output.s.length }}',
          tail: '{{ steps.make.output.s.slice(-4) }}',
          isSecret: `{{ steps.make.output.key === ${JSON.stringify(SECRET)} }}`,
        },
      },
    },
  ],
  [
    ['t', 'make'],
    ['make', 'stuck'],
    ['stuck', 'out'],
  ],
);

describe.each(engineStores)('reused outputs on $name store', (factory) => {
  let h: StoreHandle;
  beforeAll(async () => {
    h = await factory.open();
  }, 60_000);
  afterAll(() => h?.close());

  const engineOn = (log: ProbeLog) => {
    const redactor = new SecretRedactor();
    redactor.remember([SECRET]);
    return createEngine({
      store: h.store,
      redactor,
      nodes: nodesWithProbe(log),
      services: createSandboxServices(),
    });
  };

  it('a run resumed after its worker died, and a rerun from a node, run on the exact outputs', async () => {
    const log = new ProbeLog();
    const a = engineOn(log);
    const runId = await a.startRun({ definition, input });
    void a.executeRun(runId).catch(() => {});
    const deadline = Date.now() + 30_000;
    while (log.count('stuck') < 1) {
      if (Date.now() > deadline) throw new Error('the stuck step never started');
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.store.flush();
    const make = (await h.store.listSteps(runId)).find((s) => s.nodeId === 'make')!;
    expect(isTruncated(make.output)).toBe(true); // the trace copy stays capped

    // Engine B resumes the run from the store: `make` is reused, not run again.
    const b = engineOn(log);
    const out = await b.resumeRun(runId);
    expect(out.error ?? null).toBeNull();
    expect(out.output).toEqual(measured);
    expect((await h.store.listSteps(runId)).filter((s) => s.nodeId === 'make')).toHaveLength(1);

    // A rerun from `out` reuses `make` (and `stuck`) through the copy of their steps.
    const rerun = await b.rerunFromNode(runId, 'out');
    const again = await b.executeRun(rerun);
    expect(again.output).toEqual(measured);
    const copied = (await h.store.listSteps(rerun)).find((s) => s.nodeId === 'make')!;
    expect(isTruncated(copied.output)).toBe(true);
  });

  it('a secret-valued output is masked in the trace and reused as itself', async () => {
    const log = new ProbeLog();
    const a = engineOn(log);
    const small = { s: 'abcdTAIL', key: SECRET };
    const runId = await a.startRun({ definition, input: small });
    void a.executeRun(runId).catch(() => {});
    while (log.count('stuck') < 1) await new Promise((r) => setTimeout(r, 20));
    await h.store.flush();
    const make = (await h.store.listSteps(runId)).find((s) => s.nodeId === 'make')!;
    expect(make.output).toEqual({ s: 'abcdTAIL', key: REDACTED });
    const out = await engineOn(log).resumeRun(runId);
    expect(out.output).toEqual({ len: 8, tail: 'TAIL', isSecret: true });
  });
});
