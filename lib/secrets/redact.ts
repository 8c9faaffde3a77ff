import { SecretRedactor } from '@/lib/payload';

// The process-wide redactor (lib/payload's SecretRedactor) and the console layer that uses it.

export { REDACTED, MIN_REDACTED_LENGTH, SecretRedactor, encodedForms } from '@/lib/payload';

const KEY = Symbol.for('trellis.secret-redactor');
type Holder = { [KEY]?: SecretRedactor };

/** The process-wide redactor: the secrets store keeps it current, the engine and store use it. */
export function secretRedactor(): SecretRedactor {
  const g = globalThis as Holder;
  return (g[KEY] ??= new SecretRedactor());
}

const CONSOLE_KEY = Symbol.for('trellis.console-redaction');
const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Routes console output through the redactor: the server's logs are where an error message
 * carrying a secret would otherwise end up. Idempotent.
 */
export function installConsoleRedaction(redactor: SecretRedactor = secretRedactor()): void {
  const g = globalThis as { [CONSOLE_KEY]?: boolean };
  if (g[CONSOLE_KEY]) return;
  g[CONSOLE_KEY] = true;
  for (const m of METHODS) {
    const original = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      if (redactor.size === 0) return original(...args);
      original(redactor.formatForLog(args));
    };
  }
}
