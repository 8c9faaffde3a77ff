import type { Locator, Page } from 'playwright-core';
import { TrellisError } from '@/lib/workflow/errors';
import { checkJsonSchema } from '@/lib/workflow/json-schema-check';
import { describeTarget, type ActionLog } from './action-log';
import type { Blocked, Guard } from './guard';
import { MAX_DOM_SNAPSHOT_BYTES, MAX_EXTRACT_ITEMS, MAX_TEXT_CHARS } from './limits';
import { describeFingerprint, fingerprintOf, fingerprintsOf, sameControl, tableOf } from './page-script';
import type { BrowserAction, Fingerprint, Target } from './schema';

// Runs one action of the vocabulary on a live page, checking each target against what was
// recorded before acting on it: a selector that still resolves but now points at another control
// is a missing target, never a click on the wrong thing.

export interface RunnerEnv {
  page: Page;
  guard: Guard;
  timeoutMs: number;
  /** Renders a template string of the saved config with the step's scope. */
  render(template: string): Promise<string>;
  /** Whether a template reads secrets: its field is masked in screenshots. */
  readsSecrets(template: string): boolean;
  /** Stores a screenshot with the step; undefined when the host keeps no artifacts. */
  saveScreenshot?(bytes: Buffer, meta: Record<string, unknown>): Promise<string>;
  /** Stores a DOM snapshot with the step; undefined when the host keeps no artifacts. */
  saveDom?(bytes: Buffer, meta: Record<string, unknown>): Promise<string>;
  /** Time origin of the step, for the waterfall. */
  t0: number;
  extracted: Record<string, unknown>;
  screenshots: string[];
  /** Fields that received a secret: painted over in every screenshot. */
  secretFields: Locator[];
  /** Text typed from a secret: replaced in every DOM snapshot (a page may echo a field). */
  secretValues: string[];
}

export class TargetMissing extends TrellisError {
  constructor(
    readonly index: number,
    readonly reason: string,
    readonly found?: Fingerprint,
  ) {
    super('browser_target_missing', `action ${index}: ${reason}`, {
      details: { pointer: `/config/actions/${index}`, reason, ...(found ? { found } : {}) },
    });
  }
}

function locatorFor(page: Page, t: Target): Locator {
  if (t.role)
    return page.getByRole(t.role as Parameters<Page['getByRole']>[0], {
      ...(t.name !== undefined ? { name: t.name, exact: true } : {}),
    });
  if (t.label) return page.getByLabel(t.label, { exact: true });
  if (t.text) return page.getByText(t.text, { exact: true });
  return page.locator(t.css!);
}

/** Elements of one target compared with the recorded control (a list of same-named links). */
const MAX_CANDIDATES = 10;

/** The first element the target resolves to that is still the recorded control. */
export async function resolveTarget(
  page: Page,
  t: Target,
  index: number,
  timeoutMs: number,
): Promise<{ locator: Locator; found: Fingerprint }> {
  const loc = locatorFor(page, t);
  try {
    await loc.first().waitFor({ state: 'attached', timeout: timeoutMs });
  } catch {
    throw new TargetMissing(index, `no element matches ${describeTarget(t)} within ${timeoutMs} ms`);
  }
  const all = await fingerprintsOf(loc, MAX_CANDIDATES);
  const first: Fingerprint | undefined = all[0];
  for (let i = 0; i < all.length; i++)
    if (!t.expect || sameControl(t.expect, all[i])) return { locator: loc.nth(i), found: all[i] };
  throw new TargetMissing(
    index,
    `${describeTarget(t)} now points at ${first ? describeFingerprint(first) : 'nothing'}, recorded ${describeFingerprint(t.expect!)}`,
    first,
  );
}

/**
 * After an action that may navigate: wait until the document has loaded. Redirects are followed by
 * Chromium itself (every hop passes the egress proxy), so the page that arrives is the last hop.
 */
async function settle(env: RunnerEnv): Promise<void> {
  await env.page.waitForLoadState('domcontentloaded', { timeout: env.timeoutMs }).catch(() => {});
}

const ssrfError = (b: Blocked) => new TrellisError('ssrf_blocked', b.reason, { details: { ...b } });

async function navigate(env: RunnerEnv, url: string): Promise<void> {
  // Checked here as well as by the proxy: a scheme that never reaches a proxy (file:, chrome:)
  // would otherwise open, and the error names the URL the step asked for.
  const refused = env.guard.refuseNavigation(url);
  if (refused) throw ssrfError(refused);
  const mark = env.guard.mark();
  try {
    await env.page.goto(url, { timeout: env.timeoutMs, waitUntil: 'domcontentloaded' });
  } catch (err) {
    const blocked = env.guard.navigationRefusal(mark);
    if (blocked) throw ssrfError(blocked);
    throw new TrellisError(
      'http_error',
      `could not open ${url.slice(0, 200)}: ${(err as Error).message.split('\n')[0]}`,
      {
        retryable: true,
      },
    );
  }
  if (env.page.url().startsWith('chrome-error:')) {
    const blocked = env.guard.navigationRefusal(mark);
    if (blocked) throw ssrfError(blocked);
  }
}

const clipText = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT_CHARS);

async function extract(
  env: RunnerEnv,
  a: Extract<BrowserAction, { type: 'extract' }>,
  index: number,
): Promise<{ value: unknown; found?: Fingerprint }> {
  const { page } = env;
  let value: unknown;
  let found: Fingerprint | undefined;
  if (!a.target) {
    value =
      a.as === 'table'
        ? await tableOf(page.locator('table').first(), MAX_EXTRACT_ITEMS)
        : clipText(await page.locator('body').innerText());
  } else if (a.as === 'list') {
    const loc = locatorFor(page, a.target);
    await loc
      .first()
      .waitFor({ state: 'attached', timeout: env.timeoutMs })
      .catch(() => {
        throw new TargetMissing(
          index,
          `no element matches ${describeTarget(a.target!)} within ${env.timeoutMs} ms`,
        );
      });
    const texts = await loc.allInnerTexts();
    const items = texts.length === 1 ? await loc.first().locator('li').allInnerTexts() : texts;
    value = (items.length ? items : texts).slice(0, MAX_EXTRACT_ITEMS).map(clipText);
  } else {
    const r = await resolveTarget(page, a.target, index, env.timeoutMs);
    found = r.found;
    if (a.as === 'table') value = await tableOf(r.locator, MAX_EXTRACT_ITEMS);
    else if (a.as === 'attribute') value = await r.locator.getAttribute(a.attribute ?? 'href');
    else value = clipText(await r.locator.innerText());
  }
  if (a.schema) {
    const errors = checkJsonSchema(a.schema, value);
    if (errors.length)
      throw new TrellisError(
        'unprocessable',
        `action ${index}: extracted "${a.into}" does not match its schema: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`,
        { details: { pointer: `/config/actions/${index}/schema`, errors } },
      );
  }
  return { value, found };
}

export async function screenshot(
  env: RunnerEnv,
  meta: Record<string, unknown>,
  fullPage = false,
): Promise<string | undefined> {
  if (!env.saveScreenshot) return undefined;
  const bytes = await env.page.screenshot({
    type: 'jpeg',
    quality: 70,
    fullPage,
    mask: env.secretFields,
    timeout: env.timeoutMs,
  });
  const id = await env.saveScreenshot(bytes, { ...meta, url: env.page.url() });
  env.screenshots.push(id);
  return id;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The page's HTML as it is now (its DOM serialized, not the bytes that came), any text typed from
 * a secret replaced, cut at MAX_DOM_SNAPSHOT_BYTES. Served back sandboxed, never as a live page.
 */
export async function domSnapshot(
  env: RunnerEnv,
  meta: Record<string, unknown>,
): Promise<string | undefined> {
  if (!env.saveDom) return undefined;
  let html = await env.page.content();
  for (const secret of env.secretValues)
    for (const form of new Set([secret, escapeHtml(secret), encodeURIComponent(secret)]))
      html = html.split(form).join('••••••');
  const full = Buffer.from(html);
  const truncated = full.length > MAX_DOM_SNAPSHOT_BYTES;
  const bytes = truncated
    ? Buffer.concat([
        full.subarray(0, MAX_DOM_SNAPSHOT_BYTES),
        Buffer.from(`\n<!-- cut by Trellis at ${MAX_DOM_SNAPSHOT_BYTES} of ${full.length} bytes -->\n`),
      ])
    : full;
  return env.saveDom(bytes, {
    ...meta,
    url: env.page.url(),
    bytes: full.length,
    ...(truncated ? { truncated } : {}),
  });
}

/** Run one action; returns its log entry (status ok) or throws (TargetMissing, ssrf_blocked, …). */
export async function runAction(
  env: RunnerEnv,
  action: BrowserAction,
  index: number,
  by: ActionLog['by'],
): Promise<ActionLog> {
  const start = performance.now();
  const log: ActionLog = {
    index,
    type: action.type,
    by,
    status: 'ok',
    startMs: Math.round(start - env.t0),
    durationMs: 0,
  };
  if ('target' in action && action.target) log.target = action.target;
  const { page } = env;
  const t = env.timeoutMs;
  const target = async () => {
    const r = await resolveTarget(page, (action as { target: Target }).target, index, t);
    log.observed = r.found;
    return r.locator;
  };
  switch (action.type) {
    case 'goto':
      await navigate(env, await env.render(action.url));
      break;
    case 'click':
      await (await target()).click({ timeout: t });
      await settle(env);
      break;
    case 'fill': {
      const loc = await target();
      log.value = action.value;
      const typed = await env.render(action.value);
      await loc.fill(typed, { timeout: t });
      if (env.readsSecrets(action.value)) {
        env.secretFields.push(loc);
        if (typed) env.secretValues.push(typed);
      }
      break;
    }
    case 'select':
      await (await target()).selectOption(action.value, { timeout: t });
      break;
    case 'check':
      await (await target()).setChecked(action.checked ?? true, { timeout: t });
      break;
    case 'press':
      if (action.target) await (await target()).press(action.key, { timeout: t });
      else await page.keyboard.press(action.key);
      await settle(env);
      break;
    case 'waitFor':
      if (action.target) {
        const loc = locatorFor(page, action.target);
        await loc
          .first()
          .waitFor({ state: action.state ?? 'visible', timeout: t })
          .catch(() => {
            throw new TargetMissing(
              index,
              `${describeTarget(action.target!)} did not become ${action.state ?? 'visible'} within ${t} ms`,
            );
          });
        if (action.state === 'visible' || action.state === 'attached' || !action.state)
          log.observed = await fingerprintOf(loc.first()).catch(() => undefined);
      }
      if (action.urlIncludes)
        await page.waitForURL((u) => u.toString().includes(action.urlIncludes!), { timeout: t });
      break;
    case 'extract': {
      const r = await extract(env, action, index);
      if (r.found) log.observed = r.found;
      env.extracted[action.into] = r.value;
      break;
    }
    case 'screenshot':
      log.screenshot = await screenshot(env, { action: index, by }, action.fullPage);
      break;
  }
  log.url = page.url();
  log.durationMs = Math.round(performance.now() - start);
  return log;
}

/** The action as it should replay next time: its target's `expect` set to what it acted on. */
export function recorded(action: BrowserAction, observed: Fingerprint | undefined): BrowserAction {
  if (!observed || !('target' in action) || !action.target) return action;
  return { ...action, target: { ...action.target, expect: observed } } as BrowserAction;
}
