// `npx tsx bench/cpuprofile.ts FILE.cpuprofile [--window FROM-TO] [--per N] [--top N] [--tree DIR]`: what a
// `--cpu-prof` profile of the built app spent its CPU on, by package, by source file and by function
// (self and total time). Frames in Next's server chunks are mapped back to their sources through the
// chunks' .map files, so our modules and the bundled packages are told apart. `--window` keeps the
// samples of one scenario (bench:http prints "window <scenario>: FROM-TO" when it profiles); `--per`
// divides every figure by a number of runs. Figures are sampled time, profiler overhead included.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface Place {
  pkg: string;
  file: string;
  fn: string;
}

/** `--tree DIR`: the checkout whose build was profiled, if the build here has changed since. */
const tree = process.argv.includes('--tree') ? process.argv[process.argv.indexOf('--tree') + 1] : undefined;
const maps = new Map<string, SourceMap | null>();
function sourceMapOf(url: string): SourceMap | null {
  if (!maps.has(url)) {
    let map: SourceMap | null = null;
    try {
      const built = fileURLToPath(url);
      const at = built.indexOf('/.next/');
      const file = (tree && at >= 0 ? path.join(tree, built.slice(at + 1)) : built) + '.map';
      if (existsSync(file)) map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(url, map);
  }
  return maps.get(url)!;
}

/** A source named by a map: relative to the generated file, or a bundler's own scheme. */
function resolveSource(source: string, generatedUrl: string): string {
  if (/^[a-z]+:/.test(source)) {
    const webpack = /^webpack:\/\/([^/]+)\/\.?\/?(.*)$/.exec(source);
    return webpack ? `node_modules/${webpack[1]}/${webpack[2]}` : source;
  }
  return path.relative(root, path.resolve(path.dirname(fileURLToPath(generatedUrl)), source));
}

/** "next", "@prisma/client", "node" (its own modules), "(gc)"…, or "app:lib/queue" for ours. */
function packageOf(source: string): string {
  if (source.startsWith('node:')) return 'node';
  if (source.startsWith('wasm:')) return 'wasm';
  const nm = source.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = source.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (source.startsWith('turbopack:')) return 'turbopack runtime';
  const dirs = source.split('/');
  return `app:${dirs.slice(0, Math.min(2, dirs.length - 1)).join('/') || source}`;
}

function placeOf(frame: CallFrame): Place {
  const fn = frame.functionName || '(anonymous)';
  if (!frame.url) return { pkg: fn.startsWith('(') ? fn : 'v8', file: fn, fn };
  let source = frame.url;
  let name = fn;
  let line = frame.lineNumber + 1;
  const map = frame.url.startsWith('file://') ? sourceMapOf(frame.url) : null;
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry && 'originalSource' in entry && entry.originalSource) {
    source = resolveSource(entry.originalSource, frame.url);
    line = entry.originalLine + 1;
    const original = (entry as { name?: string }).name;
    if (original && fn === '(anonymous)') name = original;
  }
  if (source.startsWith('file://')) source = path.relative(root, fileURLToPath(source));
  const file = source.replace(/^.*node_modules\//, '');
  return { pkg: packageOf(source), file, fn: `${name} ${file}:${line}` };
}

function summarise(profile: Profile, from: number, to: number, per: number, top: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const places = new Map(profile.nodes.map((n) => [n.id, placeOf(n.callFrame)]));
  // A native frame (writev, JSON.parse…) counts for the package that called it.
  const inherit = (id: number): string => {
    const p = places.get(id)!;
    if (p.pkg !== 'v8') return p.pkg;
    const up = parent.get(id);
    return (p.pkg = up === undefined ? 'v8' : inherit(up));
  };
  for (const n of profile.nodes) inherit(n.id);
  // The owner: the innermost package on the stack that is not node's own code, so a socket write
  // counts for pg or for node:http's caller (Next), and only what nothing called is node's.
  const owners = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const known = owners.get(id);
    if (known !== undefined) return known;
    const p = places.get(id)!;
    const up = parent.get(id);
    const own = p.pkg !== 'node' ? p.pkg : up === undefined ? 'node' : ownerOf(up);
    owners.set(id, own);
    return own;
  };
  const self = {
    pkg: new Map<string, number>(),
    owner: new Map<string, number>(),
    file: new Map<string, number>(),
    fn: new Map<string, number>(),
  };
  const total = { pkg: new Map<string, number>(), fn: new Map<string, number>() };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let t = profile.startTime;
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < from || t > to) continue;
    // A sample's weight: the time until the next one (the last sample weighs as its own delta).
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i]) / 1000;
    const leaf = profile.samples[i];
    const p = places.get(leaf)!;
    if (p.fn === '(idle)') {
      idle += ms;
      continue;
    }
    busy += ms;
    add(self.pkg, p.pkg, ms);
    add(self.owner, ownerOf(leaf), ms);
    add(self.file, p.file, ms);
    add(self.fn, p.fn, ms);
    // Total time: each package / function on the stack once, however often it recurs.
    const seenPkg = new Set<string>();
    const seenFn = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const q = places.get(id)!;
      if (byId.get(id)!.callFrame.functionName === '(root)') break;
      if (!seenPkg.has(q.pkg)) {
        seenPkg.add(q.pkg);
        add(total.pkg, q.pkg, ms);
      }
      if (!seenFn.has(q.fn)) {
        seenFn.add(q.fn);
        add(total.fn, q.fn, ms);
      }
    }
  }
  const f = (ms: number) => (ms / per).toFixed(per > 1 ? 3 : 1).padStart(9);
  const print = (title: string, m: Map<string, number>, n: number) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${f(v)}  ${k}`);
  };
  console.log(`busy ${f(busy)} ms, idle ${f(idle)} ms${per > 1 ? ` (per run, ${per} runs)` : ''}`);
  print('self time by package', self.pkg, top);
  print("self time by owner (node's own code counted for the package that called it)", self.owner, top);
  print('total time by package (on the stack)', total.pkg, top);
  print('self time by file', self.file, top);
  print('self time by function', self.fn, top);
  print('total time by function', total.fn, top * 2);
}

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const [from, to] = (opt('--window') ?? `0-${Number.MAX_SAFE_INTEGER}`).split('-').map(Number);
const per = Number(opt('--per') ?? 1);
opt('--tree'); // read above (tree)
const top = Number(opt('--top') ?? 25);
for (const file of args) {
  console.log(`== ${file}`);
  summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, from, to, per, top);
}
