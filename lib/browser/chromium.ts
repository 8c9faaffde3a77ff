import { existsSync } from 'node:fs';
import { TrellisError } from '@/lib/workflow/errors';

// Where Chromium is and how it is started. The same places scripts/find-chromium.mjs looks (that
// script also installs the Debian package for tests; a running server never installs anything).

export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

/**
 * Launch flags: no sandbox (containers), and nothing that talks to the network on its own
 * (component updates, sync, background fetches, QUIC that route interception would not see).
 */
export const BROWSER_LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--dns-prefetch-disable',
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
];

export function findChromium(env: Record<string, string | undefined> = process.env): string | null {
  // turbopackIgnore: system paths, not files of the project to trace into the server bundle.
  if (env.CHROMIUM_PATH && existsSync(/*turbopackIgnore: true*/ env.CHROMIUM_PATH)) return env.CHROMIUM_PATH;
  for (const c of CHROMIUM_CANDIDATES) if (existsSync(/*turbopackIgnore: true*/ c)) return c;
  return null;
}

export function browserUnavailable(env: Record<string, string | undefined> = process.env): TrellisError {
  const tried = [env.CHROMIUM_PATH && `CHROMIUM_PATH=${env.CHROMIUM_PATH}`, ...CHROMIUM_CANDIDATES]
    .filter(Boolean)
    .join(', ');
  return new TrellisError(
    'browser_unavailable',
    `No Chromium found for the browser step (looked at ${tried}). Install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
  );
}
