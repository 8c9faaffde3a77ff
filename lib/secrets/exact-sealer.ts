import { decryptSecret, encryptSecret, loadSecretKey, SecretKeyMissingError } from './crypto';

/**
 * Seals the exact copies of payloads (Run.executableInput, Step.executableOutput) at rest.
 *
 * The trace copy of a payload is masked; the exact copy is what a resumed run or a rerun must use,
 * so it may hold a secret's value, and stored as plain JSON it put that value in the database for
 * anyone who reads a table. Sealed with the secrets' key (AES-256-GCM, its own label), a row tells
 * nothing without the key. Without a key (server mode with no TRELLIS_SECRET_KEY) no stored secret
 * can be decrypted, so no payload can hold one: the exact copy is then kept as it is.
 */
const LABEL = 'trellis.exact-payload';
const PREFIX = 'v1:';

export interface ExactSealer {
  seal(text: string): string;
  open(text: string): string;
}

export function exactSealer(key: () => Buffer | null = keyIfAny): ExactSealer {
  let cached: Buffer | null | undefined;
  const get = () => (cached === undefined ? (cached = key()) : cached);
  return {
    seal: (text) => {
      const k = get();
      return k ? encryptSecret(k, LABEL, text) : text;
    },
    open: (text) => {
      // JSON text never starts with "v", so an unsealed copy (no key, or written before sealing) reads as it is.
      if (!text.startsWith(PREFIX)) return text;
      const k = get();
      if (!k) throw new SecretKeyMissingError();
      return decryptSecret(k, LABEL, text);
    },
  };
}

function keyIfAny(): Buffer | null {
  try {
    return loadSecretKey();
  } catch (err) {
    if (err instanceof SecretKeyMissingError) return null;
    throw err;
  }
}
