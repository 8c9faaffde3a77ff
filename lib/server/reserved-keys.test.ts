import { describe, expect, it } from 'vitest';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { RESERVED_KEYS } from '@/lib/workflow/limits';
import { priceTableSchema } from './model-prices';

// Issue 14.7: __proto__, constructor and prototype index an object's prototype, not a property:
// refused as node ids and price keys by validation (secret names: lib/secrets/api.test.ts).

const def = (id: string) => ({
  schemaVersion: 1,
  name: 'r',
  nodes: [
    { id: 'start', type: 'trigger.manual', config: {} },
    { id, type: 'transform', config: { value: 1 } },
  ],
  edges: [{ id: 'e', source: 'start', target: id }],
});

describe('reserved keys', () => {
  it.each(RESERVED_KEYS)('%s is refused as a node id, with a pointer', (k) => {
    const r = validateDefinition(JSON.parse(JSON.stringify(def(k))));
    expect(r.valid).toBe(false);
    expect(r.problems.some((p) => p.path === '/nodes/1/id')).toBe(true);
    expect(validateDefinition(def(`${k}x`)).valid).toBe(true);
  });

  it.each(RESERVED_KEYS)('%s is refused as a model price key', (k) => {
    const table = JSON.parse(`{"${k}":{"inputPerMTok":1,"outputPerMTok":1}}`);
    expect(priceTableSchema.safeParse(table).success).toBe(false);
    expect(priceTableSchema.safeParse({ [`${k}x`]: { inputPerMTok: 1, outputPerMTok: 1 } }).success).toBe(
      true,
    );
  });
});
