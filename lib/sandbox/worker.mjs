// Worker thread of the expression sandbox (see README.md). Plain JavaScript on purpose: it is started
// with `new Worker(path)` and must load the same way under Node, tsx, Vitest and a bundled Next.js
// server, none of which share a TypeScript loader with worker threads.
//
// One QuickJS runtime and one hardened context per worker, reused across evaluations: creating a
// context costs ~500 µs, evaluating in a reused one ~10 µs. Reuse is safe because every object the
// context starts with is frozen (so nothing an evaluation writes survives it) and each evaluation
// receives a fresh copy of its scope parsed from JSON inside the sandbox.
import { parentPort, workerData } from 'node:worker_threads';
import { getQuickJS } from 'quickjs-emscripten';

const limits = workerData.limits;
/** Tasks started, shared with the host's watchdog (pool.ts). */
const progress = new Int32Array(workerData.progress);

// Runs once inside each new context. Freezes every reachable intrinsic (SES-style lockdown) and
// returns the `run` function the host calls; `run` is never stored where sandboxed code can reach it.
const LOCKDOWN_SOURCE = String.raw`(function () {
  'use strict';
  const { freeze, getPrototypeOf, getOwnPropertyDescriptor, defineProperty } = Object;
  const ownKeys = Reflect.ownKeys;
  const apply = Reflect.apply;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const PromiseCtor = Promise;
  const then = Promise.prototype.then;
  const ErrorCtor = Error;
  const StringCtor = String;
  const TypeErrorCtor = TypeError;

  // Frozen prototypes break "err.name = 'X'" and "obj.toString = f" (the override mistake); these
  // accessors make such assignments define an own property instead, as SES does.
  function tame(proto, name) {
    const d = getOwnPropertyDescriptor(proto, name);
    if (!d || !('value' in d) || !d.configurable) return;
    const value = d.value;
    defineProperty(proto, name, {
      get: function () { return value; },
      set: function (v) {
        if (this === proto) throw new TypeErrorCtor('Cannot assign to read only property ' + StringCtor(name));
        defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: d.enumerable,
      configurable: false,
    });
  }
  for (const name of ownKeys(Object.prototype)) if (typeof name === 'string') tame(Object.prototype, name);
  for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    for (const name of ['name', 'message', 'constructor', 'toString']) tame(E.prototype, name);
  }
  for (const name of ['toString', 'constructor']) {
    tame(Function.prototype, name);
    tame(Array.prototype, name);
  }

  // Intrinsics not reachable from globalThis by property walks alone.
  const roots = [globalThis];
  const extras = [
    () => function* () {},
    () => (function* () {})(),
    () => async function () {},
    () => async function* () {},
    () => (async function* () {})(),
    () => [][Symbol.iterator](),
    () => new Map()[Symbol.iterator](),
    () => new Set()[Symbol.iterator](),
    () => ''[Symbol.iterator](),
    () => /a/g[Symbol.matchAll](''),
    () => (function () { 'use strict'; return arguments; })(),
    () => (function () { return arguments; })(),
    () => Iterator.from({ next() { return { done: true, value: undefined }; } }),
    () => [].values().map((x) => x),
    () => Promise.resolve(),
  ];
  for (const make of extras) {
    try { roots.push(make()); } catch (e) { /* intrinsic absent in this QuickJS build */ }
  }
  const seen = new Set();
  const stack = roots;
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    freeze(o);
    stack.push(getPrototypeOf(o));
    for (const k of ownKeys(o)) {
      const d = getOwnPropertyDescriptor(o, k);
      if ('value' in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
  }

  function describe(e) {
    try {
      if (e instanceof ErrorCtor) return StringCtor(e.name) + ': ' + StringCtor(e.message);
      if (typeof e === 'string') return e;
      const j = stringify(e);
      return j === undefined ? StringCtor(e) : j;
    } catch (_) {
      return 'Uncaught exception';
    }
  }
  function finish(r) {
    if (r === undefined) return 'u';
    const j = stringify(r);
    return j === undefined ? 'u' : 'v' + j;
  }
  function settle(v) {
    try { return finish(v); } catch (e) { return 'e' + describe(e); }
  }
  function reject(e) {
    return 'e' + describe(e);
  }
  // Result protocol: 'u' (undefined), 'v' + JSON, 'e' + message; or a promise of one of those.
  return function run(fn, scopeJson) {
    try {
      const s = parse(scopeJson);
      const r = apply(fn, undefined, [s.input, s.steps, s.item, s.index, s.env, s.secrets]);
      if (r instanceof PromiseCtor) return apply(then, r, [settle, reject]);
      return finish(r);
    } catch (e) {
      return 'e' + describe(e);
    }
  };
})()`;

const QuickJS = await getQuickJS();
let runtime;
let context;
let runFn;
let uses = 0;
let deadline = 0;
// Compiled wrappers of this context by source: a map's expressions compile once, not per item.
// Reuse is safe for the same reason the context is: a wrapper is an anonymous strict-mode function,
// so nothing it runs can reach (or change) the function object itself.
const compiled = new Map();

function disposeAll() {
  try {
    for (const fn of compiled.values()) fn.dispose();
    compiled.clear();
    runFn?.dispose();
    context?.dispose();
    runtime?.dispose();
  } catch {
    // a runtime that hit out-of-memory may refuse a clean dispose; the worker survives either way
  }
  runFn = context = runtime = undefined;
}

function freshContext() {
  disposeAll();
  runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(limits.memoryBytes);
  runtime.setMaxStackSize(limits.stackBytes);
  runtime.setInterruptHandler(() => Date.now() > deadline);
  context = runtime.newContext();
  deadline = Date.now() + 10_000;
  runFn = context.unwrapResult(context.evalCode(LOCKDOWN_SOURCE, 'lockdown.js'));
  uses = 0;
}

// The scope's JSON enters QuickJS as one string. quickjs-emscripten's newString encodes it to UTF-8
// with a JavaScript loop (measured 8–48 ms for a 600 KB scope, the largest cost of a `code` step
// over 10,000 items); Buffer's native encoder writes the same bytes straight into the WebAssembly
// heap in under 1 ms. Both end in QTS_NewString, which reads a NUL-terminated UTF-8 string: the
// text is always JSON.stringify output, where U+0000 is escaped, so the first NUL is the end.
// The module's fields are not in the package's types; without them newString does the same.
const wasm = QuickJS.module;
const direct = typeof wasm?._malloc === 'function' && typeof QuickJS.ffi?.QTS_NewString === 'function';

function newScopeString(json) {
  if (!direct) return context.newString(json);
  const bytes = Buffer.byteLength(json);
  const ptr = wasm._malloc(bytes + 1);
  try {
    // HEAPU8 is read after _malloc, which may have grown (and so replaced) the memory.
    const heap = wasm.HEAPU8;
    heap[ptr + Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength).write(json, ptr, 'utf8')] = 0;
    return context.memory.heapValueHandle(QuickJS.ffi.QTS_NewString(context.ctx.value, ptr));
  } finally {
    wasm._free(ptr);
  }
}

function cut(message) {
  const s = String(message);
  return s.length > limits.maxErrorLength ? s.slice(0, limits.maxErrorLength) + '… (truncated)' : s;
}

/** Turns an error handle (compile error, or an uncatchable one such as an interrupt) into a result. */
function failure(handle, stage) {
  let name = 'Error';
  let message = 'Unknown error';
  // Describing the error runs inside the context; give it a moment even when the deadline has passed.
  deadline = Math.max(deadline, Date.now() + 20);
  try {
    const d = context.dump(handle);
    if (d && typeof d === 'object') {
      name = String(d.name ?? name);
      message = String(d.message ?? message);
    } else message = String(d);
  } finally {
    handle.dispose();
  }
  if (name === 'InternalError' && message === 'interrupted')
    return { ok: false, kind: 'timeout', message, reset: true };
  if (stage === 'compile' && name === 'SyntaxError')
    return { ok: false, kind: 'syntax', message: cut(message) };
  return { ok: false, kind: 'error', message: cut(`${name}: ${message}`), reset: name === 'InternalError' };
}

function decode(text) {
  if (text === 'u') return { ok: true };
  if (text[0] === 'v') {
    const json = text.slice(1);
    if (Buffer.byteLength(json) > limits.maxResultBytes) {
      return { ok: false, kind: 'error', message: `Result is larger than ${limits.maxResultBytes} bytes` };
    }
    return { ok: true, json };
  }
  const message = cut(text.slice(1));
  // Inside an async body the interrupt surfaces as a rejection rather than an uncatchable error.
  if (message === 'InternalError: interrupted') return { ok: false, kind: 'timeout', message, reset: true };
  return {
    ok: false,
    kind: 'error',
    message,
    reset: /^InternalError: (out of memory|stack overflow)/.test(message),
  };
}

function compile(source) {
  const hit = compiled.get(source);
  if (hit) return { value: hit };
  const c = context.evalCode(source, 'expression.js');
  if (c.error) return c;
  if (compiled.size >= limits.compiledCacheSize) {
    const [oldest, fn] = compiled.entries().next().value;
    compiled.delete(oldest);
    fn.dispose();
  }
  compiled.set(source, c.value);
  return c;
}

function evaluateOne(source, scopeHandle) {
  const fn = compile(source);
  if (fn.error) return failure(fn.error, 'compile');
  const called = context.callFunction(runFn, context.undefined, fn.value, scopeHandle);
  if (called.error) return failure(called.error, 'run');
  const handle = called.value;
  try {
    if (context.typeof(handle) === 'string') {
      drainJobs();
      return decode(context.getString(handle));
    }
    // A promise (async code body): settle it by running the job queue under the same deadline.
    const jobs = runtime.executePendingJobs();
    if (jobs.error) return failure(jobs.error, 'run');
    const state = context.getPromiseState(handle);
    if (state.type === 'fulfilled') {
      const text = context.getString(state.value);
      state.value.dispose();
      return decode(text);
    }
    if (state.type === 'rejected') return failure(state.error, 'run');
    return { ok: false, kind: 'error', message: 'Error: the code awaited something that never resolved' };
  } finally {
    handle.dispose();
  }
}

// Jobs left queued by one evaluation must not run (and spend time) inside the next one.
function drainJobs() {
  if (!runtime.hasPendingJob()) return;
  const jobs = runtime.executePendingJobs();
  if (jobs.error) jobs.error.dispose();
}

// One task: the job's sources named by `task.sources`, against one scope, under one deadline.
function runTask(sources, task, timeoutMs) {
  if (!context || uses >= limits.contextMaxUses) freshContext();
  uses++;
  deadline = Date.now() + timeoutMs;
  const results = [];
  const scopeHandle = newScopeString(task.scope);
  let reset = false;
  try {
    for (const i of task.sources) {
      const r = reset
        ? { ok: false, kind: 'timeout', message: 'interrupted' }
        : evaluateOne(sources[i], scopeHandle);
      if (r.reset) reset = true;
      delete r.reset;
      results.push(r);
    }
  } finally {
    scopeHandle.dispose();
    // Interrupted, out of memory or stack overflow: start the next evaluation on a clean runtime.
    if (reset) disposeAll();
  }
  return results;
}

const resultBytes = (results) => results.reduce((n, r) => n + (r.json?.length ?? r.message?.length ?? 0), 0);

// A job is one message: its tasks run in order, each with its own deadline (a map sends many items'
// scopes in one message). After the first task, the worker stops starting tasks once the message
// has run for budgetMs or its results reach maxBatchResultBytes; those come back as null (not
// run) and the host sends them again, so one map cannot hold a worker while other runs wait.
// `progress` counts tasks started: the host's watchdog reads it to tell a slow batch from a stuck one.
function handle(job) {
  const out = [];
  const started = Date.now();
  let bytes = 0;
  for (let t = 0; t < job.tasks.length; t++) {
    if (t > 0 && (Date.now() - started >= job.budgetMs || bytes >= limits.maxBatchResultBytes)) {
      out.push(null);
      continue;
    }
    Atomics.add(progress, 0, 1);
    let results;
    try {
      results = runTask(job.sources, job.tasks[t], job.timeoutMs);
    } catch (err) {
      // A host-level failure inside WebAssembly (trap, V8 stack overflow) leaves QuickJS in an
      // unknown state: report it for this task, run no more, and let the host replace this worker.
      const task = job.tasks[t];
      out.push(
        task.sources.map(() => ({
          ok: false,
          kind: 'error',
          message: cut(`Sandbox failure: ${err?.message ?? err}`),
        })),
      );
      for (let rest = t + 1; rest < job.tasks.length; rest++) out.push(null);
      return { results: out, fatal: true };
    }
    bytes += resultBytes(results);
    out.push(results);
  }
  return { results: out };
}

parentPort.on('message', (job) => {
  parentPort.postMessage({ id: job.id, ...handle(job) });
});

freshContext();
parentPort.postMessage({ ready: true });
