import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchScenario } from './types';

// `npm run bench [-- filter]`: runs every scenario of bench/*.bench.ts (or those whose file or
// scenario name contains the filter) and prints one table. Figures are for reading, not asserting.

const dir = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2]?.toLowerCase();

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function printTable(rows: BenchRow[]): void {
  const head = ['scenario', 'metric', 'value', 'unit', 'target'];
  const body = rows.map((r) => [r.scenario, r.metric, fmt(r.value), r.unit, r.target ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.ts')).sort();
  const rows: BenchRow[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as {
      scenarios?: BenchScenario[];
      teardown?: () => Promise<void>;
    };
    const fileMatches = !filter || file.toLowerCase().includes(filter);
    for (const scenario of mod.scenarios ?? []) {
      if (!fileMatches && !scenario.name.toLowerCase().includes(filter!)) continue;
      try {
        rows.push(...(await scenario.run()));
      } catch (err) {
        // Reported, not fatal: one broken scenario should not hide every other figure.
        console.error(`bench ${file} › ${scenario.name} failed:`, err);
      }
    }
    await mod.teardown?.();
  }
  if (!rows.length)
    console.log(filter ? `No bench scenario matches "${filter}".` : 'No bench scenarios found.');
  else printTable(rows);
}

await main();
