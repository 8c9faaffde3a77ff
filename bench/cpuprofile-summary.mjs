#!/usr/bin/env node
// Summarises V8 .cpuprofile files (`--cpu-prof`): self time by package and by function, and, when
// given a run count, per run. Usage: node bench/cpuprofile-summary.mjs FILE… [--runs N] [--top N]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const runs = flag('--runs', 0);
const top = flag('--top', 30);
// Only samples from this many ms after the profile's start (skips start-up and warm-up), and a
// per-second histogram of busy time to find the window: --from MS, --timeline.
const fromMs = flag('--from', 0);
const toMs = flag('--to', Infinity);
const timeline = args.includes('--timeline') ? (args.splice(args.indexOf('--timeline'), 1), true) : false;

/** Where a frame's code comes from: a package, Node itself, the app, or a V8 pseudo-frame. */
function packageOf(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (url.startsWith('wasm://')) return 'wasm (PGlite)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    if (pkg === 'next')
      return `next/${rest
        .slice(1, 4)
        .join('/')
        .replace(/\/[^/]*\.js$/, '')}`;
    return pkg;
  }
  const chunk = url.match(/\.next\/server\/(?:chunks\/)?(.*)$/);
  if (chunk) return `app bundle`;
  return 'app';
}

const byPkg = new Map();
const byFn = new Map();
let total = 0;
for (const file of args) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const busy = [];
  // timeDeltas[i] is the time before sample i; attribute it to sample i's node.
  let t = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    const idle = nodes.get(prof.samples[i]).callFrame.functionName === '(idle)';
    const sec = Math.floor(t / 1e6);
    if (!idle) busy[sec] = (busy[sec] ?? 0) + dt;
    if (t < fromMs * 1000 || t > toMs * 1000) continue;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  if (timeline)
    console.log(
      `${file}: busy ms per second: ${Array.from(busy, (b) => Math.round((b ?? 0) / 1000)).join(' ')}`,
    );
  for (const [id, us] of self) {
    const n = nodes.get(id);
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') continue;
    const pkg = packageOf(url, name);
    total += us;
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
    const short = url ? url.replace(/^.*node_modules\//, '').replace(/^.*\/wt\/[^/]+\//, '') : '';
    const key = `${name}  ${short}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
}

const fmt = (us) => {
  const ms = us / 1000;
  const per = runs ? `  ${(ms / runs).toFixed(3).padStart(8)} ms/run` : '';
  return `${ms.toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %${per}`;
};
console.log(`total (idle excluded) ${fmt(total)}`);
console.log('\nby package');
for (const [k, v] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${fmt(v)}  ${k}`);
console.log('\nby function (self)');
for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${fmt(v)}  ${k}`);
