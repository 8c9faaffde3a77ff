import type { Locator, Page } from 'playwright-core';
import { MAX_SNAPSHOT_ELEMENTS, MAX_TEXT_CHARS } from './limits';
import type { Fingerprint } from './schema';

// Code that runs inside the page: what a control is (role, accessible name, neighbourhood) and the
// trimmed accessibility snapshot the interface agent observes. Kept as source text, not functions:
// a bundler's helpers (esbuild's __name) do not exist inside the page.

const HELPERS = String.raw`
const MAX = ${MAX_TEXT_CHARS};
const norm = (s) => String(s || '').replace(/\s+/g, ' ').trim().slice(0, MAX);
const INPUT_ROLES = { button: 'button', submit: 'button', reset: 'button', image: 'button', checkbox: 'checkbox',
  radio: 'radio', range: 'slider', number: 'spinbutton', search: 'searchbox', hidden: 'none' };
const TAG_ROLES = { button: 'button', select: 'combobox', textarea: 'textbox', table: 'table', img: 'img',
  nav: 'navigation', main: 'main', form: 'form', ul: 'list', ol: 'list', li: 'listitem', tr: 'row', td: 'cell',
  th: 'columnheader', dialog: 'dialog', option: 'option', h1: 'heading', h2: 'heading', h3: 'heading',
  h4: 'heading', h5: 'heading', h6: 'heading' };
function roleOf(el) {
  const explicit = el.getAttribute('role');
  if (explicit) return explicit.split(/\s+/)[0];
  const t = el.tagName.toLowerCase();
  if (t === 'a') return el.hasAttribute('href') ? 'link' : 'generic';
  if (t === 'input') return INPUT_ROLES[(el.getAttribute('type') || 'text').toLowerCase()] || 'textbox';
  if (t === 'select' && (el.multiple || el.size > 1)) return 'listbox';
  return TAG_ROLES[t] || 'generic';
}
function nameOf(el) {
  const aria = el.getAttribute('aria-label');
  if (aria) return norm(aria);
  const by = el.getAttribute('aria-labelledby');
  if (by) return norm(by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' '));
  if (el.labels && el.labels.length) return norm([...el.labels].map((l) => l.textContent).join(' '));
  const t = el.tagName.toLowerCase();
  if (t === 'input') {
    const type = (el.type || '').toLowerCase();
    if (type === 'submit' || type === 'button' || type === 'reset') return norm(el.value || (type === 'submit' ? 'Submit' : ''));
    if (type === 'image') return norm(el.alt);
  }
  if (t === 'img') return norm(el.getAttribute('alt'));
  if (t === 'input' || t === 'textarea' || t === 'select') return norm(el.getAttribute('placeholder') || el.getAttribute('title'));
  if (t === 'table') { const c = el.querySelector('caption'); return norm(c ? c.textContent : el.getAttribute('title')); }
  return norm(el.innerText || el.textContent || el.getAttribute('title'));
}
function nearOf(el) {
  const region = el.parentElement && el.parentElement.closest('section,form,article,fieldset,dialog,aside,nav,main,[role=region],[role=dialog]');
  if (region) {
    const label = region.getAttribute('aria-label');
    if (label) return norm(label).slice(0, 80);
    const head = region.querySelector('legend,h1,h2,h3,h4,h5,h6');
    if (head) return norm(head.textContent).slice(0, 80);
  }
  let best = '';
  for (const h of document.querySelectorAll('h1,h2,h3,h4,h5,h6'))
    if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) best = norm(h.textContent);
  return best.slice(0, 80);
}
function fingerprint(el) {
  const near = nearOf(el);
  return near ? { role: roleOf(el), name: nameOf(el).slice(0, 200), near } : { role: roleOf(el), name: nameOf(el).slice(0, 200) };
}
function visible(el) {
  if (!el.getClientRects().length) return false;
  const s = getComputedStyle(el);
  return s.visibility !== 'hidden' && s.display !== 'none';
}
`;

const fingerprintFn = new Function('el', `${HELPERS}\nreturn fingerprint(el);`) as (
  el: Element,
) => Fingerprint;

const snapshotFn = new Function(
  'max',
  `${HELPERS}
  const sel = 'a[href],button,input,select,textarea,[role],h1,h2,h3,h4,h5,h6,table';
  const out = [];
  let total = 0;
  for (const el of document.querySelectorAll(sel)) {
    if (!visible(el)) continue;
    const f = fingerprint(el);
    if (f.role === 'none' || f.role === 'generic' || f.role === 'presentation') continue;
    total++;
    if (out.length >= max) continue;
    if (el.type === 'checkbox' || el.type === 'radio') f.checked = !!el.checked;
    if (el.disabled) f.disabled = true;
    out.push(f);
  }
  return { elements: out, omitted: total - out.length };`,
) as (max: number) => {
  elements: Array<Fingerprint & { checked?: boolean; disabled?: boolean }>;
  omitted: number;
};

const tableFn = new Function(
  'el',
  'max',
  `${HELPERS}
  const table = el.tagName.toLowerCase() === 'table' ? el : el.querySelector('table');
  if (!table) return null;
  const rows = [...table.rows];
  let headers = [];
  const headRow = table.tHead && table.tHead.rows[0] ? table.tHead.rows[0] : rows[0] && [...rows[0].cells].every((c) => c.tagName === 'TH') ? rows[0] : null;
  if (headRow) headers = [...headRow.cells].map((c, i) => norm(c.innerText) || 'column' + (i + 1));
  const body = rows.filter((r) => r !== headRow && r.parentElement.tagName !== 'THEAD');
  return body.slice(0, max).map((r) => {
    const cells = [...r.cells].map((c) => norm(c.innerText));
    if (!headers.length) return cells;
    const o = {};
    headers.forEach((h, i) => { o[h] = cells[i] === undefined ? null : cells[i]; });
    return o;
  });`,
) as (el: Element, max: number) => unknown[] | null;

const fingerprintsFn = new Function(
  'els',
  'max',
  `${HELPERS}\nreturn els.slice(0, max).map(fingerprint);`,
) as (els: Element[], max: number) => Fingerprint[];

/** Fingerprints of the first `max` elements a locator matches, in one round trip. */
export function fingerprintsOf(locator: Locator, max: number): Promise<Fingerprint[]> {
  return locator.evaluateAll(fingerprintsFn, max);
}

export function fingerprintOf(locator: Locator): Promise<Fingerprint> {
  return locator.evaluate(fingerprintFn);
}

export function snapshotOf(page: Page, max = MAX_SNAPSHOT_ELEMENTS) {
  return page.evaluate(snapshotFn, max);
}

export function tableOf(locator: Locator, max: number): Promise<unknown[] | null> {
  return locator.evaluate(tableFn, max);
}

/** Same control? Role and name (case and spacing aside), and the neighbourhood when one was recorded. */
export function sameControl(expected: Fingerprint, found: Fingerprint): boolean {
  const n = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
  if (n(expected.role) !== n(found.role) || n(expected.name) !== n(found.name)) return false;
  return !expected.near || n(expected.near) === n(found.near);
}

export function describeFingerprint(f: Fingerprint): string {
  return `${f.role} "${f.name}"${f.near ? ` near "${f.near}"` : ''}`;
}
