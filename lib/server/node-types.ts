import { z } from 'zod';
import { nodeRegistry } from '@/lib/nodes/registry';

/** Node-type metadata for the editor: the config JSON Schema derives from the same zod schema validation uses. */
export function listNodeTypes() {
  return nodeRegistry.list().map((n) => ({
    type: n.type,
    label: n.label,
    group: n.group,
    icon: n.icon,
    description: n.description,
    defaultConfig: n.defaultConfig,
    outputs: n.outputs(n.defaultConfig),
    hasInput: n.hasInput,
    isTrigger: Boolean(n.isTrigger),
    agentCapable: Boolean(n.agentCapable),
    runsOnce: Boolean(n.runsOnce),
    expressionFields: n.expressionFields ?? [],
    configSchema: z.toJSONSchema(n.config, { unrepresentable: 'any', io: 'input' }),
  }));
}
