/**
 * Every form a secret may travel in: raw, URI- and form-encoded, JSON-escaped, and base64 (plain
 * and URL-safe) at each of the three alignments it can take inside a longer encoded string.
 */
export function secretForms(v: string): string[] {
  const b = Buffer.from(v);
  const out = [
    v,
    encodeURI(v),
    encodeURIComponent(v),
    encodeURIComponent(v).replace(/%20/g, '+'),
    JSON.stringify(v).slice(1, -1),
  ];
  for (const k of [0, 1, 2]) {
    const enc = Buffer.concat([Buffer.alloc(k), b]).toString('base64');
    const frag = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + b.length)) / 6));
    out.push(frag, frag.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(out)];
}
