import { readFile, stat } from 'node:fs/promises';
import type { Db } from '@/lib/db/client';
import { createEngine, type RunOutcome } from '@/lib/engine/engine';
import { startDemoServer } from '@/lib/server/demo-server';
import { applyInputDefaults } from '@/lib/workflow/input-defaults';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { CommandOutput } from './validate';
import { MAX_DEFINITION_FILE_BYTES } from './validate';

// `trellis run <file.json> [--input JSON] [--json]`: validate, run headless on the configured
// database (DATABASE_URL, else embedded PGlite), print the output and the run id.
// Exit codes: 0 succeeded; 1 the run failed, was cancelled or waits (approval); 2 bad file,
// bad --input or invalid definition.

export const EXIT_SUCCEEDED = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export interface RunCommandOptions {
  input?: string;
  json?: boolean;
  /** Tests pass an open database; by default the process-wide one (getDb()). */
  db?: Db;
}

export async function runCommand(file: string, opts: RunCommandOptions, io: CommandOutput): Promise<number> {
  let definition: WorkflowDefinition;
  let input: unknown = {};
  try {
    const info = await stat(file);
    if (info.size > MAX_DEFINITION_FILE_BYTES) {
      io.error(`${file}: definition file is too large (${info.size} bytes)`);
      return EXIT_BAD_INPUT;
    }
    definition = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (err) {
    io.error(`${file}: cannot read: ${(err as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  if (opts.input !== undefined) {
    try {
      input = JSON.parse(opts.input);
    } catch (err) {
      io.error(`--input is not valid JSON: ${(err as Error).message}`);
      return EXIT_BAD_INPUT;
    }
  }
  const checked = validateDefinition(definition);
  if (!checked.valid) {
    for (const p of checked.problems) io.error(`${p.path || '/'}: ${p.message}`);
    return EXIT_BAD_INPUT;
  }

  const { SqlTraceStore } = await import('@/lib/db/sql-trace-store');
  const { hostEngineOptions, hostTraceStoreOptions, allowListedEnv } = await import('@/lib/server/runtime');
  const telemetry = await import('@/lib/telemetry');
  await telemetry.startTelemetry((await import('@/lib/server/version')).VERSION);
  const ownDb = !opts.db;
  const db = opts.db ?? (await (await import('@/lib/db/client')).getDb());
  // hostEngineOptions' redactor masks every payload before the store sees it.
  const store = new SqlTraceStore(db, hostTraceStoreOptions());
  // Headless there is no web server serving the demo API the examples call: serve it here.
  const demo = process.env.TRELLIS_DEMO_URL ? null : await startDemoServer();
  const env = demo ? { ...allowListedEnv(), TRELLIS_DEMO_URL: demo.url } : allowListedEnv();
  let out: RunOutcome;
  try {
    const engine = createEngine({ store, ...hostEngineOptions(db, env) });
    out = await engine.runToCompletion({
      definition,
      input: applyInputDefaults(definition.inputSchema, input),
      trigger: 'manual',
    });
    await store.flush();
  } finally {
    // A one-shot run exits right after: send its spans first (a dead collector only costs the timeout).
    await telemetry.getTelemetry()?.flush();
    await demo?.close();
    if (ownDb) {
      const { shutdownSandbox } = await import('@/lib/sandbox');
      await shutdownSandbox();
      await db.close();
    }
  }

  if (opts.json) {
    io.log(
      JSON.stringify({
        runId: out.runId,
        status: out.status,
        output: out.output ?? null,
        error: out.error ?? null,
      }),
    );
  } else {
    if (out.status === 'succeeded') io.log(JSON.stringify(out.output ?? null, null, 2));
    else if (out.status === 'waiting')
      io.error(`run is waiting for an approval; decide it in the UI or the API`);
    else io.error(`run ${out.status}: ${out.error?.code ?? ''} ${out.error?.message ?? ''}`.trim());
    io.log(`run ${out.runId} ${out.status}`);
  }
  return out.status === 'succeeded' ? EXIT_SUCCEEDED : EXIT_RUN_FAILED;
}
