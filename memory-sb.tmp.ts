import { warmSandbox } from '@/lib/sandbox';
const r = () => (process.memoryUsage().rss / 1048576).toFixed(1);
const a = r();
await warmSandbox();
await new Promise((x) => setTimeout(x, 3000));
console.log('before', a, 'after warm', r());
