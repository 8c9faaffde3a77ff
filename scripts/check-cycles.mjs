// `npm run lint:cycles` (part of `npm run lint` and of `npm test`'s lint step): no import cycles,
// neither between files nor between folders (lib/<folder>, components, app, cli). Static and
// dynamic import() and type-only imports all count: a cycle through types still ties two folders
// together. Tests, benches and testing/ helpers are left out of the folder graph (a test may
// reach across), but not of the file graph.
import path from 'node:path';
import madge from 'madge';

const root = path.resolve(import.meta.dirname, '..');
const GENERATED = /lib\/db\/generated\//;
const TEST_ONLY = /(\.test\.tsx?$|\/testing\/)/;

/** The folder a file belongs to for the layering rules (DESIGN.md §1). */
export function folderOf(file) {
  const parts = file.split('/');
  if (parts[0] === 'lib' && parts.length > 2) return `lib/${parts[1]}`;
  return parts.length > 1 ? parts[0] : file;
}

/** Strongly connected components with more than one member (iterative Tarjan). */
export function cyclesOf(graph) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const out = [];
  let n = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [{ v: start, i: 0 }];
    index.set(start, n);
    low.set(start, n++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const next = [...(graph.get(top.v) ?? [])];
      if (top.i < next.length) {
        const w = next[top.i++];
        if (!index.has(w)) {
          index.set(w, n);
          low.set(w, n++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v), index.get(w)));
        continue;
      }
      work.pop();
      if (work.length) {
        const p = work[work.length - 1].v;
        low.set(p, Math.min(low.get(p), low.get(top.v)));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1) out.push(comp.sort());
      }
    }
  }
  return out;
}

/** The folder graph of a madge file graph, each folder edge with one file import that makes it. */
export function folderGraph(files) {
  const graph = new Map();
  const why = new Map();
  for (const [file, deps] of Object.entries(files)) {
    if (TEST_ONLY.test(file) || GENERATED.test(file)) continue;
    const a = folderOf(file);
    for (const dep of deps) {
      if (TEST_ONLY.test(dep) || GENERATED.test(dep)) continue;
      const b = folderOf(dep);
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a).add(b);
      if (!why.has(`${a}>${b}`)) why.set(`${a}>${b}`, `${file} → ${dep}`);
    }
  }
  return { graph, why };
}

async function main() {
  const res = await madge(['lib', 'components', 'app', 'cli', 'proxy.ts'], {
    baseDir: root,
    fileExtensions: ['ts', 'tsx'],
    tsConfig: path.join(root, 'tsconfig.json'),
    excludeRegExp: [GENERATED],
  });
  const files = res.obj();
  const fileCycles = res.circular();
  const { graph, why } = folderGraph(files);
  const folderCycles = cyclesOf(graph);
  for (const c of fileCycles) console.error(`file cycle: ${c.join(' → ')} → ${c[0]}`);
  for (const comp of folderCycles) {
    console.error(`folder cycle: ${comp.join(' ↔ ')}`);
    for (const a of comp)
      for (const b of graph.get(a) ?? [])
        if (comp.includes(b)) console.error(`  ${a} → ${b}: ${why.get(`${a}>${b}`)}`);
  }
  if (fileCycles.length || folderCycles.length) {
    console.error(
      'Break the cycle: move the shared part below both, or inject it (see docs/architecture.md).',
    );
    process.exit(1);
  }
  console.log(`cycles: none among ${Object.keys(files).length} files and ${graph.size} folders`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
