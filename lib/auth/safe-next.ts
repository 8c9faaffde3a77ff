// Where to go after sign-in. `next` comes from the URL, so anyone can craft it: it must stay on
// this origin. Browsers drop tab, CR and LF from URLs before resolving them ("/\t/evil.example"
// becomes "//evil.example") and treat "\" like "/", so the check resolves the value the way the
// browser will, after removing those characters, and compares origins.

export const DEFAULT_AFTER_SIGN_IN = '/workflows';
const PROBE_ORIGIN = 'http://trellis.invalid';

export function safeNext(next: string | null | undefined): string {
  if (!next) return DEFAULT_AFTER_SIGN_IN;
  // eslint-disable-next-line no-control-regex -- exactly the characters the URL parser drops
  const cleaned = next.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
  if (!cleaned.startsWith('/') || cleaned.startsWith('//') || cleaned.startsWith('/\\')) {
    return DEFAULT_AFTER_SIGN_IN;
  }
  let url: URL;
  try {
    url = new URL(cleaned, PROBE_ORIGIN);
  } catch {
    return DEFAULT_AFTER_SIGN_IN;
  }
  if (url.origin !== PROBE_ORIGIN) return DEFAULT_AFTER_SIGN_IN;
  return url.pathname + url.search + url.hash;
}
