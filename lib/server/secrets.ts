import { z } from 'zod';
import { isReservedKey } from '@/lib/workflow/limits';
import { getDb } from '@/lib/db/client';
import { NotFoundError } from '@/lib/workflow/errors';
import { json, parseWith, readJson, type RouteContext } from './route';
import { MAX_SECRET_VALUE_BYTES, SECRET_NAME_PATTERN, SecretStore } from '@/lib/secrets/store';

// /api/secrets: values go in, names come out. No route ever returns a value.

export const secretBody = z.object({
  name: z
    .string()
    .regex(SECRET_NAME_PATTERN, 'letters, digits and _ (not a digit first), at most 64')
    .refine((n) => !isReservedKey(n), 'cannot be __proto__, constructor or prototype'),
  value: z
    .string()
    .min(1)
    .refine((v) => Buffer.byteLength(v) <= MAX_SECRET_VALUE_BYTES, `at most ${MAX_SECRET_VALUE_BYTES} bytes`),
});

async function store() {
  return new SecretStore((await getDb()).prisma);
}

export async function createSecret({ req }: RouteContext<Record<string, string>>) {
  const b = parseWith(secretBody, await readJson(req, MAX_SECRET_VALUE_BYTES * 7 + 1024));
  const { created } = await (await store()).set(b.name, b.value);
  return json({ name: b.name, created }, created ? 201 : 200);
}

export async function listSecrets() {
  return json({ secrets: await (await store()).list() });
}

export async function deleteSecret({ params }: RouteContext<{ name: string }>) {
  if (!(await (await store()).remove(params.name))) throw new NotFoundError(`Secret ${params.name}`);
  return json({ ok: true });
}
