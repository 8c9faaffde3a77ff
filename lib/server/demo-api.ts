import { ValidationError } from '@/lib/workflow/errors';
import { json, readJson } from './route';

/** Bodies the demo API reads (summarize, notify): a demo needs little, a public route must cap it. */
export const MAX_DEMO_BODY_BYTES = 64 * 1024;

// A tiny deterministic API that ships with the app so the examples run green with no internet
// and no API key. Examples reach it through an explicit allowHosts entry, never by loosening the
// SSRF guard globally.

const TICKETS: Record<
  string,
  { id: string; subject: string; text: string; priority: 'high' | 'low'; customer: string }
> = {
  'T-1001': {
    id: 'T-1001',
    subject: 'Charged twice',
    text: 'I was billed twice for my March invoice.',
    priority: 'high',
    customer: 'ada@example.com',
  },
  'T-1002': {
    id: 'T-1002',
    subject: 'Export crashes',
    text: 'The CSV export crashes with a 500 error.',
    priority: 'low',
    customer: 'linus@example.com',
  },
  'T-1003': {
    id: 'T-1003',
    subject: 'Feature idea',
    text: 'Could you add dark mode to the dashboard?',
    priority: 'low',
    customer: 'grace@example.com',
  },
};

const COMPANIES: Record<string, { company: string; employees: number; industry: string }> = {
  'example.com': { company: 'Example Corp', employees: 420, industry: 'Software' },
  'acme.test': { company: 'Acme', employees: 12_000, industry: 'Manufacturing' },
  'initech.test': { company: 'Initech', employees: 85, industry: 'Finance' },
};

const HEADLINES = [
  'Postgres 18 ships asynchronous I/O',
  'WebAssembly components reach 1.0',
  'Local LLMs pass 100 tokens/s on laptops',
  'Workflow engines converge on durable execution',
];

// Per-key attempt counters for the flaky endpoint (bounded so it cannot grow without end).
const flakyAttempts = new Map<string, number>();
const MAX_FLAKY_KEYS = 10_000;

/** The JSON body, or null when there is none or it is not JSON; too large or too deep throws. */
async function demoBody(req: Request): Promise<unknown> {
  try {
    return await readJson(req, MAX_DEMO_BODY_BYTES);
  } catch (e) {
    if (e instanceof ValidationError) return null;
    throw e;
  }
}

export async function demoApi(req: Request, path: string[]): Promise<Response> {
  const [resource, id] = path;
  const url = new URL(req.url);
  switch (resource) {
    case 'tickets': {
      const t = id ? TICKETS[id] : undefined;
      return t ? json(t) : json({ error: 'no such ticket' }, 404);
    }
    case 'enrich': {
      const email = url.searchParams.get('email') ?? '';
      const domain = email.split('@')[1] ?? '';
      const c = COMPANIES[domain];
      return json(c ? { email, domain, ...c } : { email, domain, company: null });
    }
    case 'headlines':
      return json({ date: new Date().toISOString().slice(0, 10), headlines: HEADLINES });
    case 'summarize': {
      const body = ((await demoBody(req)) ?? {}) as { text?: string };
      const text = String(body.text ?? '');
      const sentences = text.split(/(?<=[.!?])\s+/).filter(Boolean);
      return json({
        summary: sentences.slice(0, 2).join(' '),
        words: text.split(/\s+/).filter(Boolean).length,
      });
    }
    case 'flaky': {
      // Fails the first `failures` calls for a key with 503, then succeeds.
      const key = url.searchParams.get('key') ?? 'default';
      const failures = Math.min(Number(url.searchParams.get('failures') ?? '1') || 0, 10);
      if (!flakyAttempts.has(key) && flakyAttempts.size >= MAX_FLAKY_KEYS) flakyAttempts.clear();
      const n = (flakyAttempts.get(key) ?? 0) + 1;
      flakyAttempts.set(key, n);
      if (n <= failures) return json({ error: 'temporarily unavailable', attempt: n }, 503);
      return json({ ok: true, attempt: n });
    }
    case 'notify': {
      const body = await demoBody(req);
      return json({ delivered: true, receivedAt: new Date().toISOString(), echo: body });
    }
    default:
      return json({ error: 'unknown demo resource' }, 404);
  }
}
