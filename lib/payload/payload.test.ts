import { describe, expect, it } from 'vitest';
import {
  isTruncated,
  MAX_TRACE_FIELD_BYTES,
  REDACTED,
  SecretRedactor,
  toTraceJson,
  toTraceValue,
  TRACE_PREVIEW_CHARS,
} from '@/lib/payload';

// The one capper and the one redactor every trace payload goes through (engine and stores).

describe('toTraceJson', () => {
  it(`keeps a value of exactly MAX_TRACE_FIELD_BYTES (${MAX_TRACE_FIELD_BYTES}) and caps one byte more`, () => {
    const exact = 'a'.repeat(MAX_TRACE_FIELD_BYTES - 2);
    expect(toTraceJson(exact)).toBe(JSON.stringify(exact));
    const over = JSON.parse(toTraceJson(exact + 'a')!);
    expect(isTruncated(over)).toBe(true);
    expect(over).toMatchObject({ bytes: MAX_TRACE_FIELD_BYTES + 1 });
    expect(over.preview).toHaveLength(TRACE_PREVIEW_CHARS);
  });

  it('counts bytes, not characters, for multi-byte text', () => {
    const euro = '€'.repeat(1000); // 3 bytes each
    expect(JSON.parse(toTraceJson(euro, { maxBytes: 2_000 })!)).toMatchObject({
      $truncated: true,
      bytes: 3002,
    });
    expect(toTraceJson(euro, { maxBytes: 3_002 })).toBe(JSON.stringify(euro));
  });

  it('applies the redact option once, before capping', () => {
    let calls = 0;
    const redact = (v: unknown) => {
      calls++;
      return JSON.parse(JSON.stringify(v).replaceAll('s3cret', REDACTED));
    };
    expect(toTraceJson({ k: 's3cret' }, { redact })).toBe(`{"k":"${REDACTED}"}`);
    expect(calls).toBe(1);
  });

  it('never throws: cycles become a marker, undefined and functions become null', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(JSON.parse(toTraceJson(cyclic)!)).toMatchObject({ $unserializable: true });
    expect(toTraceJson(undefined)).toBeNull();
    expect(toTraceJson(() => 1)).toBeNull();
    expect(toTraceValue(undefined)).toBeUndefined();
  });
});

describe('SecretRedactor.withValues', () => {
  it('masks host and run secrets in one walk and leaves the host redactor as it was', () => {
    const host = new SecretRedactor();
    host.setValues(['host-secret-1']);
    const run = host.withValues(['run-secret-2', 'ab']);
    expect(run.redact({ a: 'x host-secret-1 y', b: ['run-secret-2'], c: 'ab' })).toEqual({
      a: `x ${REDACTED} y`,
      b: [REDACTED],
      c: 'ab',
    });
    expect(host.redact('run-secret-2')).toBe('run-secret-2');
    expect(host.withValues(['host-secret-1', 'abc'])).toBe(host);
  });
});

describe('SecretRedactor.redact', () => {
  it('copies only what holds a match: the rest is the same object, the input is untouched', () => {
    const r = new SecretRedactor();
    r.setValues(['s3cret-value']);
    const clean = { items: [{ i: 1 }, { i: 2 }], note: 'nothing here' };
    expect(r.redact(clean)).toBe(clean);
    const dirty = { a: { keep: [1, 2] }, b: ['x', 'key s3cret-value'], c: { n: 1 } };
    const masked = r.redact(dirty) as typeof dirty;
    expect(masked).toEqual({ a: { keep: [1, 2] }, b: ['x', `key ${REDACTED}`], c: { n: 1 } });
    expect(masked).not.toBe(dirty);
    expect(masked.a).toBe(dirty.a);
    expect(masked.c).toBe(dirty.c);
    expect(dirty.b[1]).toBe('key s3cret-value');
    expect(r.redact({ ['s3cret-value']: 1, z: 2 })).toEqual({ [REDACTED]: 1, z: 2 });
  });
});
