import { PGlite } from '@electric-sql/pglite';
import fs from 'node:fs';
const r = () => (process.memoryUsage().rss / 1048576).toFixed(0);
const dir = process.argv[2];
console.log('start', r());
const t = Date.now();
const c = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'] });
console.log('open', r(), Date.now() - t, 'ms', 'ext', (process.memoryUsage().external/1048576).toFixed(0));
await c.query('select 1');
await new Promise((x) => setTimeout(x, 1000));
console.log('after 1s', r());
if (process.argv[3] === 'close') { await c.close(); global.gc?.(); await new Promise((x) => setTimeout(x, 500)); global.gc?.(); console.log('closed+gc', r()); }
