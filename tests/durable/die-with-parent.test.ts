import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sleep } from './harness';

// A parent that spawns a detached, watched child as the durable harness does, prints the child's
// pid, and is then killed -9: the child (and the tsx process around it) must not outlive it.
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const child = path.join(import.meta.dirname, 'fixtures/watched-child.ts');
const PARENT = `
const { spawn } = require('node:child_process');
const c = spawn(process.execPath, [${JSON.stringify(tsxCli)}, ${JSON.stringify(child)}], {
  detached: true,
  stdio: [process.env.WATCH === '1' ? 'pipe' : 'ignore', 'inherit', 'inherit'],
});
setInterval(() => {}, 1000);
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function orphanAfterParentKilled(watch: boolean): Promise<{ pid: number; alive: boolean }> {
  const parent = spawn(process.execPath, ['-e', PARENT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, WATCH: watch ? '1' : '0' },
  });
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /watched child (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    parent.once('exit', () => reject(new Error(`parent exited first: ${out}`)));
  });
  parent.kill('SIGKILL');
  // Watched: gone within ms of the kill (10 s is slack for a loaded machine). Unwatched: 2 s shows
  // it stayed.
  const until = Date.now() + (watch ? 10_000 : 2_000);
  while (alive(pid) && Date.now() < until) await sleep(50);
  const result = { pid, alive: alive(pid) };
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  return result;
}

describe('dieWithParent', () => {
  it('a detached test process ends when the process that spawned it is killed -9', async () => {
    expect((await orphanAfterParentKilled(true)).alive).toBe(false);
  }, 30_000);

  it('without the stdin pipe it is orphaned (what the watch is for)', async () => {
    expect((await orphanAfterParentKilled(false)).alive).toBe(true);
  }, 30_000);
});
