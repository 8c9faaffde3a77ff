// Creates an embedded database cluster (initdb) in a folder, in a process of its own, then exits.
// Plain JavaScript on purpose: openDb runs it with `node <this file>` from any host (tsx, Vitest, a
// bundled Next.js server), none of which share a TypeScript loader with a child process.
//
// Why a process of its own (issue 21, idle memory): initdb grows PGlite's WebAssembly memory to
// several hundred MB, and a WebAssembly memory never shrinks; the web process that opens the folder
// afterwards starts from the small memory a reopen needs.
//
// Usage: node pglite-initdb.mjs <dir> [extra start params as JSON]
import { PGlite } from '@electric-sql/pglite';

const [dir, params = '[]'] = process.argv.slice(2);
const client = await PGlite.create(dir, {
  startParams: [...PGlite.defaultStartParams, ...JSON.parse(params)],
});
await client.close();
