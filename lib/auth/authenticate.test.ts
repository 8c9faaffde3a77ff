import { describe, expect, it } from 'vitest';
import { assertSameOriginIfUnsafe, authenticate, readCookie, sameOrigin } from './authenticate';

const r = (method: string, headers: Record<string, string>) =>
  new Request('http://127.0.0.1:3000/api/x', { method, headers });

describe('Origin check (CSRF)', () => {
  it('accepts a matching Origin, or a matching Referer when Origin is absent', () => {
    expect(sameOrigin(r('POST', { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }))).toBe(true);
    expect(sameOrigin(r('POST', { host: '127.0.0.1:3000', referer: 'http://127.0.0.1:3000/settings' }))).toBe(
      true,
    );
    expect(
      sameOrigin(
        r('POST', {
          host: 'app.example',
          'x-forwarded-host': 'trellis.example',
          origin: 'https://trellis.example',
        }),
      ),
    ).toBe(true);
  });
  it('refuses another origin, a null origin, no origin, another port, a look-alike host', () => {
    for (const headers of <Record<string, string>[]>[
      { host: '127.0.0.1:3000', origin: 'https://evil.example' },
      { host: '127.0.0.1:3000', origin: 'null' },
      { host: '127.0.0.1:3000' },
      { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3001' },
      { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000.evil.example' },
      { host: '127.0.0.1:3000', referer: 'not a url' },
    ]) {
      expect(sameOrigin(r('POST', headers)), JSON.stringify(headers)).toBe(false);
    }
  });
  it('applies to state-changing methods only', () => {
    expect(() => assertSameOriginIfUnsafe(r('GET', { host: 'a' }))).not.toThrow();
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(() => assertSameOriginIfUnsafe(r(m, { host: 'a' }))).toThrow(/Origin/);
    }
  });
});

describe('authenticate without a database', () => {
  it('takes the bootstrap token from the environment, compared exactly', async () => {
    const envToken = 'bootstrap-0123456789abcdef';
    const ok = await authenticate(r('GET', { authorization: `Bearer ${envToken}` }), { envToken });
    expect(ok).toEqual({ kind: 'env_token' });
    expect(await authenticate(r('GET', {}), { envToken })).toBeNull();
  });
  it('reads the session cookie among others', () => {
    expect(readCookie(r('GET', { cookie: 'a=1; trellis_session=trs_abc; b=2' }), 'trellis_session')).toBe(
      'trs_abc',
    );
    expect(readCookie(r('GET', { cookie: 'xtrellis_session=1' }), 'trellis_session')).toBeUndefined();
  });
});
