import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { browser as browserNode } from '@/lib/nodes/browser';
import { nodeContext } from '@/lib/nodes/testing/node-context';
import { BROWSER_LAUNCH_ARGS, findChromium } from '@/lib/browser/chromium';
import { BROWSER_POOL_SIZE } from '@/lib/browser/limits';
import { sharedBrowserPool } from '@/lib/browser/pool';
import { browserConfigSchema, type BrowserActionInput } from '@/lib/browser/schema';
import { startFixtureSite } from '@/lib/browser/testing/fixture-site';
import { startLocalServer } from '@/lib/net/testing/local-server';
import type { BenchRow, BenchScenario } from './types';

// `npm run bench:browser`: what a browser step costs beyond the page's own work. Overhead = a
// 5-action step through the node (context from the pool, route guard, target checks, no heal)
// minus the same page load and actions done with bare Playwright on an already-open context.
// Memory: the Chromium processes' proportional set size (PSS) while N steps hold a page each,
// minus idle, per step. Targets (issue 17): < 300 ms overhead, < 150 MB per concurrent step.

const RUNS = 15;
const PASSWORD = 'bench-pw';

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ACTIONS: BrowserActionInput[] = [
  { type: 'fill', target: { label: 'User name' }, value: 'alice' },
  { type: 'fill', target: { label: 'Password' }, value: PASSWORD },
  { type: 'click', target: { role: 'button', name: 'Sign in' } },
  { type: 'waitFor', urlIncludes: '/orders' },
  { type: 'extract', into: 'orders', as: 'table', target: { role: 'table', name: 'Orders' } },
];

/** PSS in MB of the processes descending from this one (Chromium and its renderers). */
function childrenPssMb(): number {
  const parent = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent)
      if (!mine.has(pid) && mine.has(ppid)) {
        mine.add(pid);
        grew = true;
      }
  }
  mine.delete(process.pid);
  let kb = 0;
  for (const pid of mine) {
    try {
      const m = /^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

export const scenarios: BenchScenario[] = [
  {
    name: 'browser',
    async run(): Promise<BenchRow[]> {
      const rows: BenchRow[] = [];
      const site = await startFixtureSite({ password: PASSWORD, elsewhere: 'http://127.0.0.1:9' });
      // A page that keeps a step busy for a while (memory is sampled meanwhile).
      const slow = await startLocalServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          `<!doctype html><title>Slow</title><h1>Wait</h1><script>setTimeout(() => { const h = document.createElement('h2'); h.textContent = 'Ready'; document.body.append(h); }, 2500)</script>`,
        );
      });
      const config = browserConfigSchema.parse({
        startUrl: `${site.url}/login`,
        allowHosts: [site.hostPort],
        actions: ACTIONS,
      });
      const step = () => browserNode.run(nodeContext(config));
      try {
        for (let i = 0; i < 3; i++) await step(); // launch and warm up
        const stepMs: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          const r = await step();
          stepMs.push(performance.now() - t0);
          if (r.kind !== 'done') throw new Error('step did not finish');
        }

        // Baseline: the same page and actions, bare Playwright, context already open.
        const bare = await chromium.launch({
          executablePath: findChromium() ?? undefined,
          args: BROWSER_LAUNCH_ARGS,
        });
        const bareMs: number[] = [];
        try {
          for (let i = 0; i < RUNS + 3; i++) {
            const ctx = await bare.newContext();
            const page = await ctx.newPage();
            const t0 = performance.now();
            await page.goto(`${site.url}/login`, { waitUntil: 'domcontentloaded' });
            await page.getByLabel('User name', { exact: true }).fill('alice');
            await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
            await page.getByRole('button', { name: 'Sign in', exact: true }).click();
            await page.waitForURL((u) => u.toString().includes('/orders'));
            await page.getByRole('table', { name: 'Orders' }).innerText();
            if (i >= 3) bareMs.push(performance.now() - t0);
            await ctx.close();
          }
        } finally {
          await bare.close();
        }
        const step50 = p50(stepMs);
        const bare50 = p50(bareMs);
        rows.push(
          {
            scenario: 'browser step, 5 actions (pooled context, no heal)',
            metric: 'p50',
            value: step50,
            unit: 'ms',
          },
          { scenario: 'same page and actions, bare Playwright', metric: 'p50', value: bare50, unit: 'ms' },
          {
            scenario: 'browser step overhead beyond the page',
            metric: 'p50',
            value: step50 - bare50,
            unit: 'ms',
            target: '< 300 ms',
          },
        );

        // Memory per concurrent step: the pool's width of steps, each holding a page.
        await new Promise((r) => setTimeout(r, 500));
        const idle = childrenPssMb();
        const n = BROWSER_POOL_SIZE;
        const waitConfig = browserConfigSchema.parse({
          startUrl: `${slow.url}/`,
          allowHosts: [`127.0.0.1:${slow.port}`],
          actions: [{ type: 'waitFor', target: { role: 'heading', name: 'Ready' } }],
        });
        const running = Array.from({ length: n }, () => browserNode.run(nodeContext(waitConfig)));
        let peak = idle;
        const sampler = setInterval(() => (peak = Math.max(peak, childrenPssMb())), 200);
        await Promise.all(running);
        clearInterval(sampler);
        rows.push(
          { scenario: 'Chromium idle (browser + warm context)', metric: 'PSS', value: idle, unit: 'MB' },
          {
            scenario: `memory per concurrent browser step (${n} at once)`,
            metric: 'PSS',
            value: (peak - idle) / n,
            unit: 'MB',
            target: '< 150 MB',
          },
        );
      } finally {
        await sharedBrowserPool().close();
        await Promise.all([site.close(), slow.close()]);
      }
      return rows;
    },
  },
];
