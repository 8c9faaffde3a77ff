import { describe, expect, it } from 'vitest';
import {
  allowPrivateFromEnv,
  checkResolvedAddress,
  checkUrl,
  classifyAddress,
  hostAllowListed,
} from '@/lib/net/ssrf';

// Pure decisions only: nothing here opens a socket.
const REFUSED: Array<[url: string, reason: RegExp]> = [
  ['http://127.0.0.1/', /loopback/],
  ['http://localhost/', /loopback host name/],
  ['http://LOCALHOST./', /loopback host name/],
  ['http://app.localhost:3000/', /loopback host name/],
  ['http://0.0.0.0/', /unspecified/],
  ['http://[::1]/', /loopback/],
  ['http://[::]/', /unspecified/],
  ['http://[::ffff:127.0.0.1]/', /IPv4-mapped loopback/],
  ['http://[::ffff:10.1.2.3]/', /IPv4-mapped private/],
  ['http://[64:ff9b::7f00:1]/', /NAT64 loopback/],
  ['http://[2002:7f00:1::]/', /6to4 loopback/],
  ['http://169.254.169.254/latest/meta-data/', /metadata/],
  ['http://169.254.10.1/', /link-local/],
  ['http://[fe80::1]/', /link-local/],
  ['http://[fc00::1]/', /unique-local/],
  ['http://[fd12:3456::1]/', /unique-local/],
  ['http://[ff02::1]/', /multicast/],
  ['http://metadata.google.internal/computeMetadata/v1/', /metadata/],
  ['http://metadata/', /metadata/],
  ['http://instance-data/latest/', /metadata/],
  ['http://10.0.0.1/', /private/],
  ['http://10.255.255.255/', /private/],
  ['http://172.16.0.1/', /private/],
  ['http://172.31.255.1/', /private/],
  ['http://192.168.1.1/', /private/],
  ['http://100.64.0.1/', /carrier-grade NAT/],
  ['http://100.127.255.254/', /carrier-grade NAT/],
  ['http://224.0.0.1/', /multicast/],
  ['http://255.255.255.255/', /reserved/],
  // Odd encodings: WHATWG URL parsing turns them all into 127.0.0.1 before we look.
  ['http://2130706433/', /refused 127\.0\.0\.1: loopback/],
  ['http://0177.0.0.1/', /refused 127\.0\.0\.1: loopback/],
  ['http://0x7f000001/', /refused 127\.0\.0\.1: loopback/],
  ['http://0x7f.0.0.1/', /refused 127\.0\.0\.1: loopback/],
  ['http://127.1/', /refused 127\.0\.0\.1: loopback/],
  ['http://017700000001/', /refused 127\.0\.0\.1: loopback/],
  ['http://x@127.0.0.1/', /refused 127\.0\.0\.1: loopback/],
  ['http://user:pass@127.0.0.1:8080/', /loopback/],
  ['file:///etc/passwd', /scheme file: is not allowed/],
  ['ftp://example.com/', /scheme ftp: is not allowed/],
  ['gopher://127.0.0.1:70/', /scheme gopher: is not allowed/],
  ['data:text/plain,hi', /scheme data: is not allowed/],
  ['javascript:alert(1)', /scheme javascript: is not allowed/],
];

describe('checkUrl (SSRF guard decision)', () => {
  it.each(REFUSED)('refuses %s by default, with the reason', (url, reason) => {
    const d = checkUrl(url);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(reason);
  });

  it('allows public addresses and names by default', () => {
    expect(checkUrl('https://example.com/x')).toEqual({ ok: true, trusted: false });
    expect(checkUrl('http://93.184.216.34/')).toEqual({ ok: true, trusted: false });
    expect(checkUrl('http://[2606:2800:220:1::1]/')).toEqual({ ok: true, trusted: false });
    expect(checkUrl('http://172.32.0.1/')).toEqual({ ok: true, trusted: false }); // just past 172.16/12
    expect(checkUrl('http://100.128.0.1/')).toEqual({ ok: true, trusted: false }); // just past 100.64/10
  });

  const HTTP_REFUSED = REFUSED.filter(([u]) => /^https?:/.test(u));
  it.each(HTTP_REFUSED)('allows %s when its host is in allowHosts', (url) => {
    const host = new URL(url).host;
    const d = checkUrl(url, { allowHosts: [host] });
    expect(d).toEqual({ ok: true, trusted: true });
  });

  it.each(HTTP_REFUSED.filter(([, r]) => !/metadata/.test(String(r))))(
    'allows %s with TRELLIS_HTTP_ALLOW_PRIVATE',
    (url) => {
      expect(checkUrl(url, { allowPrivate: true }).ok).toBe(true);
    },
  );

  it('keeps metadata endpoints closed under TRELLIS_HTTP_ALLOW_PRIVATE (allowHosts only)', () => {
    for (const url of [
      'http://169.254.169.254/',
      'http://metadata.google.internal/',
      'http://[::ffff:169.254.169.254]/',
    ]) {
      const d = checkUrl(url, { allowPrivate: true });
      expect(d.ok, url).toBe(false);
      expect(checkUrl(url, { allowHosts: [new URL(url).host] }).ok, url).toBe(true);
    }
  });

  it('still refuses other schemes when everything private is allowed', () => {
    expect(checkUrl('file:///etc/passwd', { allowPrivate: true }).ok).toBe(false);
    expect(checkUrl('gopher://x/', { allowHosts: ['x'] }).ok).toBe(false);
  });

  it('allowHosts restricts: an unlisted public host is refused', () => {
    const d = checkUrl('https://example.com/', { allowHosts: ['api.example.org'] });
    expect(d).toEqual({ ok: false, reason: "refused example.com: host is not in this node's allowHosts" });
  });

  it('allowHosts matches host or host:port, normalized like URLs', () => {
    const u = (s: string) => new URL(s);
    expect(hostAllowListed(u('http://api.test:8080/x'), ['api.test'])).toBe(true);
    expect(hostAllowListed(u('http://api.test:8080/x'), ['api.test:8080'])).toBe(true);
    expect(hostAllowListed(u('http://api.test:8081/x'), ['api.test:8080'])).toBe(false);
    expect(hostAllowListed(u('http://API.test./x'), ['api.test'])).toBe(true);
    expect(hostAllowListed(u('https://api.test/x'), ['api.test:443'])).toBe(true);
    expect(hostAllowListed(u('http://api.test/x'), ['api.test:80'])).toBe(true);
    expect(hostAllowListed(u('http://127.0.0.1:5/x'), ['127.1:5'])).toBe(true);
    expect(hostAllowListed(u('http://[::1]:5/x'), ['[::1]:5'])).toBe(true);
    expect(hostAllowListed(u('http://evil.api.test/x'), ['api.test'])).toBe(false);
    expect(hostAllowListed(u('http://api.test/x'), ['api.test/path', 'http://api.test'])).toBe(false);
  });
});

describe('checkResolvedAddress (DNS answers)', () => {
  it('refuses a public name that resolves to a private address', () => {
    expect(checkResolvedAddress('rebind.test', '127.0.0.1', {}, false)).toEqual({
      ok: false,
      reason: 'refused rebind.test (127.0.0.1): loopback address',
    });
    expect(checkResolvedAddress('x.test', '::ffff:a9fe:a9fe', { allowPrivate: true }, false).ok).toBe(false);
    expect(checkResolvedAddress('x.test', '10.0.0.1', { allowPrivate: true }, false).ok).toBe(true);
    expect(checkResolvedAddress('x.test', '10.0.0.1', {}, true).ok).toBe(true);
    expect(checkResolvedAddress('x.test', '8.8.8.8', {}, false).ok).toBe(true);
  });
});

describe('classifyAddress', () => {
  it('covers every blocked range at both edges', () => {
    expect(classifyAddress('9.255.255.255')).toBeNull();
    expect(classifyAddress('11.0.0.0')).toBeNull();
    expect(classifyAddress('172.15.255.255')).toBeNull();
    expect(classifyAddress('192.169.0.0')).toBeNull();
    expect(classifyAddress('169.253.255.255')).toBeNull();
    expect(classifyAddress('100.63.255.255')).toBeNull();
    expect(classifyAddress('223.255.255.255')).toBeNull();
    expect(classifyAddress('0.255.255.255')).toMatch(/unspecified/);
    expect(classifyAddress('127.255.255.255')).toMatch(/loopback/);
    expect(classifyAddress('fbff::1')).toBeNull();
    expect(classifyAddress('fe7f::1')).toBeNull();
    expect(classifyAddress('febf::1')).toMatch(/link-local/);
    expect(classifyAddress('::ffff:8.8.8.8')).toBeNull();
    expect(classifyAddress('::ffff:7f00:1')).toMatch(/IPv4-mapped loopback/);
    expect(classifyAddress('not-an-ip')).toMatch(/not an IP/);
  });
});

describe('allowPrivateFromEnv', () => {
  it('reads 1/true only', () => {
    expect(allowPrivateFromEnv({ TRELLIS_HTTP_ALLOW_PRIVATE: '1' })).toBe(true);
    expect(allowPrivateFromEnv({ TRELLIS_HTTP_ALLOW_PRIVATE: 'TRUE' })).toBe(true);
    expect(allowPrivateFromEnv({ TRELLIS_HTTP_ALLOW_PRIVATE: '0' })).toBe(false);
    expect(allowPrivateFromEnv({ TRELLIS_HTTP_ALLOW_PRIVATE: 'yes' })).toBe(false);
    expect(allowPrivateFromEnv({})).toBe(false);
  });
});
