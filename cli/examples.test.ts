import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { shutdownSandbox } from '@/lib/sandbox';
import { runCommand } from './run';

// Every shipped example runs green headless, with no internet and no API key: the CLI serves the
// bundled demo API itself and agent steps fall back to their deterministic config.

const examplesDir = path.resolve(import.meta.dirname, '..', 'examples');
const files = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-examples-'));
let db: Db;

beforeAll(async () => {
  delete process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_BASE_URL;
  delete process.env.TRELLIS_DEMO_URL;
  db = await openDb({ dataDir: dir });
});
afterAll(async () => {
  await shutdownSandbox();
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('examples', () => {
  it('ships five examples', () => expect(files).toHaveLength(5));

  it.each(files)('%s runs green from the CLI', async (file) => {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await runCommand(
      path.join(examplesDir, file),
      { json: true, db },
      {
        log: (s) => lines.push(s),
        error: (s) => errors.push(s),
      },
    );
    expect(errors).toEqual([]);
    const result = JSON.parse(lines.at(-1) ?? '{}');
    expect(result.status).toBe('succeeded');
    expect(result.output).not.toBeNull();
    expect(code).toBe(0);
  });
});
