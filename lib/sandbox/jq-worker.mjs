// jq in a worker thread (jq-wasm: jq compiled to WebAssembly). The host (jq.ts) owns the deadline
// and the heap limit, and terminates this thread when either is exceeded.
import { parentPort } from 'node:worker_threads';
import jq from 'jq-wasm';

// Loading the WebAssembly module is the slow part: do it before the host starts any deadline.
await jq.raw('null', '.', ['-c']);
parentPort.postMessage({ ready: true });

parentPort.on('message', async ({ id, input, filter, args }) => {
  try {
    const flags = ['-c'];
    for (const [name, value] of Object.entries(args ?? {}))
      flags.push('--argjson', name, JSON.stringify(value ?? null));
    const raw = await jq.raw(JSON.stringify(input ?? null), filter, flags);
    const outputs = raw
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l));
    parentPort.postMessage({ id, ok: true, outputs });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, message: String(err?.message ?? err) });
  }
});
