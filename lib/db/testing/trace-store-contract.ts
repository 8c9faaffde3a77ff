import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTurn, TraceStore } from '@/lib/engine/trace-store';
import type { Redactor } from '@/lib/payload';
import { MAX_ARTIFACT_BYTES } from '@/lib/workflow/trace';
import { definition, newRun, stepStart } from './trace-records';

// One behaviour for every TraceStore (DESIGN §4, STYLE §3). Each implementation's test file calls
// traceStoreContract with a harness over real storage.

export interface TraceStoreHarness {
  /** A store over the harness's storage; several stores may share it. */
  store(opts?: { redact?: Redactor; maxPayloadBytes?: number }): TraceStore;
  /** Whether stores cap oversize payloads with a `$truncated` marker and honour `redact`. */
  capsPayloads: boolean;
  /** Whether a second store over the same storage sees the first one's flushed writes. */
  sharedStorage: boolean;
  close(): Promise<void>;
}

type WithTurns = TraceStore & { listAgentTurns?(stepId: string): Promise<AgentTurn[]> };

export function traceStoreContract(name: string, setup: () => Promise<TraceStoreHarness>): void {
  describe(`TraceStore contract: ${name}`, () => {
    let h: TraceStoreHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('creates a queued run and returns it with its input and definition', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      expect(run.status).toBe('queued');
      expect(run.createdAt).toBeInstanceOf(Date);
      const got = await s.getRun(run.id);
      expect(got).toMatchObject({
        id: run.id,
        status: 'queued',
        input: { ticket: 42, tags: ['a', 'b'] },
        trigger: 'manual',
      });
      expect(await s.runDefinition(run.id)).toEqual(definition);
    });

    it('returns null for an unknown run and rejects its definition', async () => {
      const s = h.store();
      expect(await s.getRun('00000000-0000-0000-0000-000000000000')).toBeNull();
      await expect(s.runDefinition('00000000-0000-0000-0000-000000000000')).rejects.toThrow();
    });

    it('links a child run to its parent run and step', async () => {
      const s = h.store();
      const parent = await s.createRun(newRun());
      const stepId = await s.startStep(stepStart(parent.id, { nodeId: 'sub', nodeType: 'subworkflow' }));
      await s.flush();
      const child = await s.createRun(
        newRun({ parentRunId: parent.id, parentStepId: stepId, trigger: 'subworkflow' }),
      );
      expect(await s.getRun(child.id)).toMatchObject({ parentRunId: parent.id, parentStepId: stepId });
    });

    it('moves a run only from an allowed status (compare-and-set)', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      expect(await s.transitionRun(run.id, ['running'], 'succeeded')).toBe(false);
      expect(await s.transitionRun(run.id, ['queued'], 'running')).toBe(true);
      expect(await s.transitionRun(run.id, ['queued'], 'running')).toBe(false);
      const running = await s.getRun(run.id);
      expect(running?.status).toBe('running');
      expect(running?.startedAt).toBeInstanceOf(Date);
      expect(await s.transitionRun(run.id, ['running'], 'succeeded', { output: { done: true } })).toBe(true);
      const done = await s.getRun(run.id);
      expect(done).toMatchObject({ status: 'succeeded', output: { done: true } });
      expect(done?.finishedAt).toBeInstanceOf(Date);
    });

    it('never overwrites a finished run, even when asked to move from its status', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      await s.transitionRun(run.id, ['queued'], 'running');
      await s.transitionRun(run.id, ['running'], 'failed', {
        error: { code: 'node_error', message: 'boom' },
      });
      expect(await s.transitionRun(run.id, ['failed', 'running'], 'succeeded', { output: 1 })).toBe(false);
      expect(await s.getRun(run.id)).toMatchObject({
        status: 'failed',
        error: { code: 'node_error', message: 'boom' },
      });
    });

    it('decides a waiting step once: of concurrent decisions exactly one lands (compare-and-set)', async () => {
      const s = h.store();
      const others = h.sharedStorage ? [h.store(), h.store()] : [s, s];
      const run = await s.createRun(newRun());
      const stepId = await s.startStep(stepStart(run.id, { nodeId: 'ask', nodeType: 'approval' }));
      await s.finishStep(stepId, { status: 'waiting', finishedAt: new Date('2026-01-01T00:00:01Z') });
      const decide = (store: TraceStore, approved: boolean) =>
        store.decideStep(stepId, {
          status: 'succeeded',
          output: { approved, by: approved ? 'ana' : 'bo' },
          handle: approved ? 'approved' : 'rejected',
          finishedAt: new Date('2026-01-01T00:00:05Z'),
        });
      const wins = await Promise.all([decide(others[0], true), decide(others[1], false), decide(s, true)]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      const step = (await s.listSteps(run.id)).find((x) => x.id === stepId)!;
      const winner = wins.findIndex(Boolean);
      expect(step).toMatchObject({
        status: 'succeeded',
        handle: winner === 1 ? 'rejected' : 'approved',
        output: { approved: winner !== 1, by: winner === 1 ? 'bo' : 'ana' },
      });
      // A decided (or never waiting) step stays as it is.
      expect(await decide(s, false)).toBe(false);
      const running = await s.startStep(stepStart(run.id, { nodeId: 'other' }));
      expect(await decide(s, true)).toBe(false);
      expect(await s.decideStep(running, { status: 'succeeded', finishedAt: new Date() })).toBe(false);
    });

    it('lets exactly one of many concurrent transitions win', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      await s.transitionRun(run.id, ['queued'], 'running');
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.transitionRun(run.id, ['running'], i % 2 ? 'succeeded' : 'cancelled'),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('records a step when it starts and completes it when it finishes', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      const id = await s.startStep(stepStart(run.id));
      let [step] = await s.listSteps(run.id);
      expect(step).toMatchObject({
        id,
        runId: run.id,
        nodeId: 'fetch',
        nodeType: 'http.request',
        attempt: 1,
        status: 'running',
      });
      expect(step.input).toEqual({ url: 'https://x.test' });
      expect(step.startedAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
      await s.finishStep(id, {
        status: 'succeeded',
        output: { status: 200, body: { ok: true } },
        handle: 'out',
        mode: 'fallback',
        fallbackReason: 'no_model_configured',
        tokens: 12,
        cost: 0.5,
        finishedAt: new Date('2026-01-01T00:00:01.250Z'),
      });
      [step] = await s.listSteps(run.id);
      expect(step).toMatchObject({
        status: 'succeeded',
        output: { status: 200, body: { ok: true } },
        handle: 'out',
        mode: 'fallback',
        fallbackReason: 'no_model_configured',
        tokens: 12,
        cost: 0.5,
        durationMs: 1250,
      });
      expect(step.finishedAt?.toISOString()).toBe('2026-01-01T00:00:01.250Z');
    });

    it('finishes a step whose start has not been written yet', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      const id = await s.startStep(stepStart(run.id));
      await s.finishStep(id, {
        status: 'failed',
        error: { code: 'http_error', message: '503' },
        finishedAt: new Date('2026-01-01T00:00:00.010Z'),
      });
      const [step] = await s.listSteps(run.id);
      expect(step).toMatchObject({
        id,
        status: 'failed',
        error: { code: 'http_error', message: '503' },
        durationMs: 10,
      });
    });

    it('keeps one row per attempt and map item', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      const a1 = await s.startStep(stepStart(run.id, { attempt: 1 }));
      await s.finishStep(a1, {
        status: 'failed',
        error: { code: 'http_error', message: 'x' },
        finishedAt: new Date('2026-01-01T00:00:00.100Z'),
      });
      const a2 = await s.startStep(
        stepStart(run.id, { attempt: 2, startedAt: new Date('2026-01-01T00:00:00.200Z') }),
      );
      await s.finishStep(a2, {
        status: 'succeeded',
        output: 2,
        finishedAt: new Date('2026-01-01T00:00:00.300Z'),
      });
      for (let i = 0; i < 3; i++) {
        const id = await s.startStep(
          stepStart(run.id, {
            nodeId: 'body',
            parentNodeId: 'map',
            itemIndex: i,
            startedAt: new Date(`2026-01-01T00:00:01.00${i}Z`),
          }),
        );
        await s.finishStep(id, {
          status: 'succeeded',
          output: i * 10,
          finishedAt: new Date('2026-01-01T00:00:02.000Z'),
        });
      }
      const steps = await s.listSteps(run.id);
      expect(steps.map((x) => [x.nodeId, x.attempt, x.status])).toEqual([
        ['fetch', 1, 'failed'],
        ['fetch', 2, 'succeeded'],
        ['body', 1, 'succeeded'],
        ['body', 1, 'succeeded'],
        ['body', 1, 'succeeded'],
      ]);
      expect(steps.slice(2).map((x) => [x.parentNodeId, x.itemIndex, x.output])).toEqual([
        ['map', 0, 0],
        ['map', 1, 10],
        ['map', 2, 20],
      ]);
    });

    it('lists only the steps of a status when asked (a cancel reads the waiting ones)', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      const statuses = ['succeeded', 'waiting', 'failed', 'waiting'] as const;
      for (const [i, status] of statuses.entries()) {
        const id = await s.startStep(
          stepStart(run.id, { nodeId: `n${i}`, startedAt: new Date(`2026-01-01T00:00:0${i}.000Z`) }),
        );
        await s.finishStep(id, { status, finishedAt: new Date(`2026-01-01T00:00:0${i}.500Z`) });
      }
      await s.startStep(
        stepStart(run.id, { nodeId: 'open', startedAt: new Date('2026-01-01T00:00:09.000Z') }),
      );
      const waiting = await s.listSteps(run.id, { status: 'waiting' });
      expect(waiting.map((x) => [x.nodeId, x.status])).toEqual([
        ['n1', 'waiting'],
        ['n3', 'waiting'],
      ]);
      expect((await s.listSteps(run.id, { status: 'running' })).map((x) => x.nodeId)).toEqual(['open']);
      expect(await s.listSteps(run.id)).toHaveLength(5);
    });

    it('lists steps started in the same millisecond in the order they started', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      // All share stepStart's fixed startedAt: only the tiebreak can order them.
      const nodes = Array.from({ length: 30 }, (_, i) => `n${i}`);
      for (const nodeId of nodes) await s.startStep(stepStart(run.id, { nodeId }));
      await s.flush();
      expect((await s.listSteps(run.id)).map((x) => x.nodeId)).toEqual(nodes);
    });

    it('rejects steps of an unknown run and finishing an unknown step', async () => {
      const s = h.store();
      await expect(s.startStep(stepStart('00000000-0000-0000-0000-000000000000'))).rejects.toThrow();
      await expect(
        s.finishStep('00000000-0000-0000-0000-000000000001', { status: 'succeeded', finishedAt: new Date() }),
      ).rejects.toThrow();
    });

    it('stores artifacts with a step (bytes exact, list without bytes), refuses one over MAX_ARTIFACT_BYTES', async () => {
      const s = h.store();
      if (!s.saveArtifact || !s.listArtifacts || !s.getArtifact) return;
      const run = await s.createRun(newRun());
      // Saved while the step's own insert may still be queued: the store orders the writes.
      const id = await s.startStep(stepStart(run.id, { nodeType: 'browser' }));
      const bytes = new Uint8Array([0xff, 0xd8, 0, 1, 2, 254, 255]);
      const a = await s.saveArtifact(id, {
        kind: 'screenshot',
        mime: 'image/jpeg',
        bytes,
        meta: { action: 2 },
      });
      const list = await s.listArtifacts(id);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({
        id: a,
        stepId: id,
        kind: 'screenshot',
        mime: 'image/jpeg',
        size: 7,
        meta: { action: 2 },
      });
      expect('bytes' in list[0]).toBe(false);
      const got = await s.getArtifact(a);
      expect([...got!.bytes]).toEqual([...bytes]);
      expect(await s.getArtifact('00000000-0000-0000-0000-0000000000aa')).toBeNull();
      await expect(
        s.saveArtifact(id, {
          kind: 'screenshot',
          mime: 'image/jpeg',
          bytes: new Uint8Array(MAX_ARTIFACT_BYTES + 1),
        }),
      ).rejects.toMatchObject({ code: 'payload_too_large' });
      expect(await s.listArtifacts(id)).toHaveLength(1);
    });

    it('stores agent turns in order', async () => {
      const s = h.store() as WithTurns;
      const run = await s.createRun(newRun());
      const id = await s.startStep(stepStart(run.id, { mode: 'agent', nodeType: 'llm' }));
      await s.appendAgentTurns(id, [
        { seq: 0, kind: 'request', payload: { messages: [{ role: 'user', content: 'hi' }] }, tokens: 5 },
        { seq: 1, kind: 'tool_call', payload: { name: 'self', arguments: { q: 1 } }, latencyMs: 30 },
      ]);
      await s.appendAgentTurns(id, [
        { seq: 2, kind: 'response', payload: { content: 'done' }, tokens: 7, cost: 0.01 },
      ]);
      await s.finishStep(id, {
        status: 'succeeded',
        output: 'done',
        mode: 'agent',
        finishedAt: new Date('2026-01-01T00:00:05Z'),
      });
      await s.flush();
      if (!s.listAgentTurns) return expect(s.listAgentTurns).toBeUndefined();
      const turns = await s.listAgentTurns(id);
      expect(turns.map((t) => [t.seq, t.kind])).toEqual([
        [0, 'request'],
        [1, 'tool_call'],
        [2, 'response'],
      ]);
      expect(turns[1]).toMatchObject({ payload: { name: 'self', arguments: { q: 1 } }, latencyMs: 30 });
      expect(turns[2]).toMatchObject({ tokens: 7, cost: 0.01 });
    });

    it('makes every buffered write durable on flush', async () => {
      const writer = h.store();
      const run = await writer.createRun(newRun());
      const ids = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          writer.startStep(
            stepStart(run.id, { nodeId: `n${i}`, startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)) }),
          ),
        ),
      );
      await Promise.all(
        ids.map((id, i) =>
          writer.finishStep(id, { status: 'succeeded', output: { i }, finishedAt: new Date() }),
        ),
      );
      await writer.flush();
      const reader = h.sharedStorage ? h.store() : writer;
      const steps = await reader.listSteps(run.id);
      expect(steps).toHaveLength(300);
      expect(steps.every((x) => x.status === 'succeeded')).toBe(true);
      expect(steps[299].output).toEqual({ i: 299 });
    });

    it('writes pending steps before a run transition is visible', async () => {
      if (!h.sharedStorage) return expect(h.sharedStorage).toBe(false);
      const writer = h.store();
      const run = await writer.createRun(newRun());
      await writer.transitionRun(run.id, ['queued'], 'running');
      const id = await writer.startStep(stepStart(run.id));
      await writer.finishStep(id, { status: 'succeeded', output: 'last', finishedAt: new Date() });
      await writer.transitionRun(run.id, ['running'], 'succeeded', { output: 'last' });
      const reader = h.store();
      expect((await reader.getRun(run.id))?.status).toBe('succeeded');
      expect((await reader.listSteps(run.id)).map((x) => x.status)).toEqual(['succeeded']);
    });

    it('caps oversize payloads with a visible marker instead of dropping them', async () => {
      if (!h.capsPayloads) return expect(h.capsPayloads).toBe(false);
      const s = h.store({ maxPayloadBytes: 1024 });
      const run = await s.createRun(newRun({ input: { big: 'x'.repeat(5000) } }));
      const id = await s.startStep(stepStart(run.id, { input: 'small' }));
      await s.finishStep(id, {
        status: 'succeeded',
        output: { body: 'y'.repeat(4000) },
        finishedAt: new Date(),
      });
      const [step] = await s.listSteps(run.id);
      expect(step.input).toBe('small');
      expect(step.output).toMatchObject({
        $truncated: true,
        bytes: JSON.stringify({ body: 'y'.repeat(4000) }).length,
      });
      expect((step.output as { preview: string }).preview.startsWith('{"body":"yyy')).toBe(true);
      expect((await s.getRun(run.id))?.input).toMatchObject({ $truncated: true });
    });

    it('keeps the exact input apart from its capped, masked trace copy (runInput)', async () => {
      if (!h.capsPayloads) return expect(h.capsPayloads).toBe(false);
      const redact: Redactor = (v) => JSON.parse(JSON.stringify(v).replaceAll('s3cret', '[redacted]'));
      const s = h.store({ redact, maxPayloadBytes: 1024 });
      const big = { big: 'x'.repeat(5000), nul: 'a\u0000b' };
      const capped = await s.createRun(newRun({ input: big }));
      expect((await s.getRun(capped.id))?.input).toMatchObject({ $truncated: true });
      expect(await s.runInput(capped.id)).toEqual(big);
      const secret = await s.createRun(newRun({ input: { key: 's3cret' }, traceInput: { key: 'masked' } }));
      expect((await s.getRun(secret.id))?.input).toEqual({ key: 'masked' });
      expect(await s.runInput(secret.id)).toEqual({ key: 's3cret' });
      const plain = await s.createRun(newRun());
      expect(await s.runInput(plain.id)).toEqual(newRun().input);
      const reader = h.sharedStorage ? h.store() : s;
      expect(await reader.runInput(capped.id)).toEqual(big);
    });

    it('keeps every character of a step: tabs, newlines, backslashes, quotes, \\N, non-ASCII', async () => {
      const s = h.store();
      const run = await s.createRun(newRun());
      const odd = 'a\tb\nc\r\\d\\N\\.e\'f"g é 🌿 \\t';
      const value = { [odd]: odd, list: [odd, 1.5, null, true], nested: { s: '\\', t: '\t' } };
      const started = await s.startStep(
        stepStart(run.id, { nodeId: odd, nodeType: 'transform', input: value }),
      );
      await s.finishStep(started, {
        status: 'succeeded',
        output: value,
        handle: odd,
        finishedAt: new Date(),
      });
      const failed = await s.startStep(stepStart(run.id, { nodeId: `${odd}2`, input: odd }));
      await s.flush(); // one step lands finished in its insert, the other is finished by an update
      await s.finishStep(failed, {
        status: 'failed',
        error: { code: 'node_error', message: odd },
        finishedAt: new Date(),
      });
      await s.flush();
      const reader = h.sharedStorage ? h.store() : s;
      const steps = await reader.listSteps(run.id);
      expect(steps.map((x) => x.nodeId).sort()).toEqual([odd, `${odd}2`].sort());
      const byNode = new Map(steps.map((x) => [x.nodeId, x]));
      expect(byNode.get(odd)).toMatchObject({ input: value, output: value, handle: odd });
      expect(byNode.get(`${odd}2`)).toMatchObject({ input: odd, error: { message: odd } });
    });

    it("keeps a step's exact output apart from its capped, masked trace copy (executableOutput)", async () => {
      if (!h.capsPayloads) return expect(h.capsPayloads).toBe(false);
      const s = h.store({ maxPayloadBytes: 1024 });
      const run = await s.createRun(newRun());
      const big = { body: 'y'.repeat(5000), nul: 'a\u0000b' };
      const ids = [
        await s.startStep(stepStart(run.id, { nodeId: 'capped' })),
        await s.startStep(stepStart(run.id, { nodeId: 'masked' })),
        await s.startStep(stepStart(run.id, { nodeId: 'plain' })),
      ];
      await s.flush(); // one finish lands as an update, the others merge into their insert
      await s.finishStep(ids[0], {
        status: 'succeeded',
        output: big,
        executableOutput: big,
        finishedAt: new Date(),
      });
      const finishedAt = new Date();
      const masked = {
        status: 'succeeded' as const,
        output: { k: '[REDACTED]' },
        executableOutput: { k: 'key!' },
        finishedAt,
      };
      await s.finishStep(ids[1], masked);
      await s.finishStep(ids[2], {
        status: 'succeeded',
        output: { n: 1 },
        executableOutput: { n: 1 },
        finishedAt,
      });
      await s.flush();
      const reader = h.sharedStorage ? h.store() : s;
      const byNode = new Map((await reader.listSteps(run.id)).map((x) => [x.nodeId, x]));
      expect(byNode.get('capped')?.output).toMatchObject({ $truncated: true });
      expect(byNode.get('capped')?.executableOutput).toEqual(big);
      expect(byNode.get('masked')?.output).toEqual({ k: '[REDACTED]' });
      expect(byNode.get('masked')?.executableOutput).toEqual({ k: 'key!' });
      expect(byNode.get('plain')?.output).toEqual({ n: 1 });
      expect(byNode.get('plain')).not.toHaveProperty('executableOutput');
    });

    it('applies the redact hook to every payload before storing it', async () => {
      if (!h.capsPayloads) return expect(h.capsPayloads).toBe(false);
      const redact: Redactor = (v) => JSON.parse(JSON.stringify(v).replaceAll('s3cret', '[redacted]'));
      const s = h.store({ redact }) as WithTurns;
      const run = await s.createRun(newRun({ input: { key: 's3cret' } }));
      const id = await s.startStep(stepStart(run.id, { input: { auth: 'Bearer s3cret' } }));
      await s.appendAgentTurns(id, [{ seq: 0, kind: 'request', payload: { headers: { a: 's3cret' } } }]);
      await s.finishStep(id, {
        status: 'failed',
        output: 's3cret',
        error: { code: 'http_error', message: 'bad token s3cret' },
        finishedAt: new Date(),
      });
      await s.transitionRun(run.id, ['queued'], 'failed', {
        error: { code: 'node_error', message: 's3cret leaked' },
      });
      const [step] = await s.listSteps(run.id);
      const stored = JSON.stringify([await s.getRun(run.id), step, await s.listAgentTurns?.(id)]);
      expect(stored).not.toContain('s3cret');
      expect(stored).toContain('[redacted]');
    });
  });
}
