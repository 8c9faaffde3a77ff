import { format } from 'node:util';

// Masks secret values wherever they may travel: raw, JSON-escaped, URL-encoded (component and
// form style) and base64 (standard and url-safe, at each of the three byte alignments, so a secret
// inside a longer base64 text such as a Basic auth header is found too).

export const REDACTED = '[REDACTED]';
/** Shorter values are not masked: "a" or "1" would shred every payload and reveal nothing. */
export const MIN_REDACTED_LENGTH = 4;
/** An encoded fragment shorter than this is not searched for (too many false hits). */
const MIN_FRAGMENT_LENGTH = 6;

function base64Fragments(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Character i encodes bits [6i, 6i+6); keep those that depend on the secret's bytes only.
    const from = Math.ceil((8 * k) / 6);
    const to = Math.floor((8 * (k + bytes.length)) / 6);
    const frag = enc.slice(from, to);
    if (frag.length >= MIN_FRAGMENT_LENGTH) {
      out.push(frag, frag.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return out;
}

export function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.add(encodeURIComponent(value));
  forms.add(encodeURIComponent(value).replace(/%20/g, '+'));
  forms.add(encodeURI(value));
  for (const f of base64Fragments(value)) forms.add(f);
  return [...forms].filter((f) => f.length >= Math.min(MIN_FRAGMENT_LENGTH, value.length));
}

export class SecretRedactor {
  private forms: string[] = [];
  private pattern: RegExp | null = null;

  private known = new Set<string>();

  /** Adds values to mask; values are never forgotten (old traces and logs may still carry them). */
  remember(values: Iterable<string>): void {
    let changed = false;
    for (const v of values) {
      if (v.length >= MIN_REDACTED_LENGTH && !this.known.has(v)) {
        this.known.add(v);
        changed = true;
      }
    }
    if (changed) this.setValues(this.known);
  }

  setValues(values: Iterable<string>): void {
    this.known = new Set(values);
    const all = new Set<string>();
    for (const v of this.known)
      if (v.length >= MIN_REDACTED_LENGTH) for (const f of encodedForms(v)) all.add(f);
    // Longest first, so a value is masked whole before a shorter one inside it.
    this.forms = [...all].sort((a, b) => b.length - a.length);
    this.pattern = this.forms.length
      ? new RegExp(this.forms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
      : null;
  }

  get size(): number {
    return this.forms.length;
  }

  redactString(s: string): string {
    if (!this.pattern || s.length < MIN_FRAGMENT_LENGTH - 2) return s;
    this.pattern.lastIndex = 0;
    return this.pattern.test(s) ? s.replace(this.pattern, REDACTED) : s;
  }

  /**
   * The value with every string (and object key) masked; non-plain objects pass as they are. Only
   * what holds a match is copied: a payload without a secret comes back as the same object, so a
   * large output is not rebuilt (and keeps its remembered JSON text, json-text.ts) at each pass.
   */
  redact = (value: unknown): unknown => {
    if (!this.pattern) return value;
    const walk = (v: unknown, depth: number): unknown => {
      if (typeof v === 'string') return this.redactString(v);
      if (depth > 200 || v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < v.length; i++) {
          const x = walk(v[i], depth + 1);
          if (x !== v[i] && !out) out = v.slice(0, i);
          out?.push(x);
        }
        return out ?? v;
      }
      if (v instanceof Error) {
        const e = new Error(this.redactString(v.message));
        e.name = v.name;
        e.stack = v.stack && this.redactString(v.stack);
        return e;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return v;
      const entries = Object.entries(v);
      let out: Record<string, unknown> | undefined;
      for (let i = 0; i < entries.length; i++) {
        const [k, x] = entries[i];
        const key = this.redactString(k);
        const masked = walk(x, depth + 1);
        if ((key !== k || masked !== x) && !out) {
          out = {};
          for (let j = 0; j < i; j++) out[entries[j][0]] = entries[j][1];
        }
        if (out) out[key] = masked;
      }
      return out ?? v;
    };
    return walk(value, 0);
  };

  /** console.* arguments formatted the way console would, then masked. */
  formatForLog(args: unknown[]): string {
    return this.redactString(format(...args));
  }

  /**
   * This redactor plus a run's own secret values, as one pattern, so a payload is walked once
   * whatever masks it. Returns this when there is nothing new.
   */
  withValues(values: Iterable<string>): SecretRedactor {
    const extra = [...values].filter((v) => v.length >= MIN_REDACTED_LENGTH && !this.known.has(v));
    if (!extra.length) return this;
    const r = new SecretRedactor();
    r.setValues([...this.known, ...extra]);
    return r;
  }
}
