import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import { importServerlessWorkflow } from '@/lib/import/serverless-workflow';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { ERROR_TYPE_BASE, type DslError } from '@/lib/nodes/serverless-workflow/runtime';
import { TrellisError, ValidationError, type SerializedError } from '@/lib/workflow/errors';
import { createSandboxServices } from '@/lib/sandbox';

interface Io {
  log(s: string): void;
  error(s: string): void;
}

/** OpenAPI documents next to the workflow file (`file:` URLs or relative paths), JSON or YAML. */
export function localDocuments(workflowFile: string) {
  const dir = path.dirname(path.resolve(workflowFile));
  return (endpoint: string): unknown => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(endpoint) && !endpoint.startsWith('file:')) return undefined;
    const file = endpoint.startsWith('file:') ? new URL(endpoint).pathname : path.resolve(dir, endpoint);
    try {
      return parseYaml(fs.readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
  };
}

/** A failed run's error as the DSL's error object (raised errors pass through unchanged). */
export function toDslError(err: SerializedError | null | undefined): DslError {
  const raised = (err?.details as { error?: DslError } | undefined)?.error;
  if (raised && typeof raised.type === 'string' && typeof raised.status === 'number') return raised;
  return {
    type: `${ERROR_TYPE_BASE}runtime`,
    status: 500,
    title: String(err?.code ?? 'runtime'),
    detail: String(err?.message ?? 'the run failed'),
  };
}

/**
 * `trellis sw-run <file> --input <json>`: runs a Serverless Workflow document headless (the same
 * import and engine as the app, an in-memory trace) and prints its output, or its error object,
 * as JSON. Exit 0 on success, 1 on a workflow or document error.
 */
export async function swRunCommand(file: string, opts: { input?: string }, io: Io): Promise<number> {
  let source: string;
  let input: unknown = {};
  try {
    source = fs.readFileSync(file, 'utf8');
    if (opts.input !== undefined) input = JSON.parse(opts.input);
  } catch (err) {
    io.log(
      JSON.stringify({
        type: `${ERROR_TYPE_BASE}configuration`,
        status: 400,
        title: 'Bad input',
        detail: (err as Error).message,
      }),
    );
    return 1;
  }
  try {
    const { definition } = importServerlessWorkflow(source, { resolveDocument: localDocuments(file) });
    const check = validateDefinition(definition);
    if (!check.valid) throw new ValidationError(check.problems);
    const engine = createEngine({ store: new MemoryTraceStore(), services: createSandboxServices() });
    const out = await engine.runToCompletion({ definition, input });
    if (out.status === 'succeeded') {
      io.log(JSON.stringify(out.output ?? null));
      return 0;
    }
    io.log(JSON.stringify(toDslError(out.error)));
    return 1;
  } catch (err) {
    if (!(err instanceof TrellisError)) throw err;
    const problems = err instanceof ValidationError ? err.problems : [];
    io.log(
      JSON.stringify({
        type: `${ERROR_TYPE_BASE}${err instanceof ValidationError ? 'validation' : 'runtime'}`,
        status: err instanceof ValidationError ? 400 : 500,
        title: err.message,
        ...(problems[0]
          ? { instance: problems[0].path, detail: problems.map((p) => `${p.path} ${p.message}`).join('; ') }
          : {}),
      }),
    );
    return 1;
  }
}
