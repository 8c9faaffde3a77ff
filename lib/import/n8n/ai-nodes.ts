import { isRec, type Rec } from '@/lib/workflow/record';
import { toTemplate } from './expressions';
import { locatorValue, out, type MapInput, type Mapped } from './mapped';
import type { ImportStatus, N8nNode } from './types';

// n8n's AI nodes (Agent, Basic LLM Chain, OpenAI) become one `llm` step in agent mode with
// shadow on: the workflow-first way in. The deterministic `llm` call is the fallback slot the
// owner is asked to replace with a rule once the shadow evidence shows what the model does.

type Kind = 'agent' | 'chain' | 'openai';

const DEFAULT_MODEL = 'gpt-4.1-mini';

function modelOf(lm: N8nNode | undefined): string | undefined {
  if (!lm) return undefined;
  const p = lm.parameters;
  const m = locatorValue(p.model ?? p.modelName ?? p.modelId);
  return typeof m === 'string' && m ? m : undefined;
}

/** A JSON Schema inferred from an example value (n8n's "generate from JSON example"). */
export function schemaFromExample(v: unknown): Rec {
  if (Array.isArray(v)) return { type: 'array', items: v.length ? schemaFromExample(v[0]) : {} };
  if (v === null) return { type: 'null' };
  if (typeof v === 'object') {
    const props = Object.fromEntries(Object.entries(v as Rec).map(([k, x]) => [k, schemaFromExample(x)]));
    return { type: 'object', properties: props, required: Object.keys(props) };
  }
  if (typeof v === 'number') return { type: Number.isInteger(v) ? 'integer' : 'number' };
  return { type: typeof v };
}

function outputSchema(parser: N8nNode | undefined, issues: string[]): Rec | undefined {
  if (!parser) return undefined;
  const p = parser.parameters;
  const raw = p.schemaType === 'manual' ? p.inputSchema : (p.jsonSchemaExample ?? p.jsonSchema);
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = JSON.parse(raw);
    return p.schemaType === 'manual' || (p.jsonSchema !== undefined && p.jsonSchemaExample === undefined)
      ? parsed
      : schemaFromExample(parsed);
  } catch {
    issues.push('the output parser schema does not parse; no output schema set');
    return undefined;
  }
}

export function mapAiNode({ node, expr, subNodes }: MapInput, kind: Kind): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  const folded: NonNullable<Mapped['folded']> = [];
  const fold = (n: N8nNode, status: ImportStatus, reasons: string[]) =>
    folded.push({ node: n, status, reasons });
  const lm = subNodes.get('ai_languageModel')?.[0];
  if (lm) fold(lm, 'mapped', [`its model is the model of "${node.name}"`]);
  const parser = subNodes.get('ai_outputParser')?.[0];
  const schema = outputSchema(parser, issues);
  if (parser)
    fold(parser, schema ? 'mapped' : 'approximated', [`became the output schema of "${node.name}"`]);
  for (const mem of subNodes.get('ai_memory') ?? [])
    fold(mem, 'dropped', ['Trellis agent steps keep no memory between runs; pass history in the input']);

  let model = modelOf(lm);
  let system: string | undefined;
  let prompt: unknown;
  const options = isRec(p.options) ? p.options : {};
  if (kind === 'openai') {
    model = modelOf(node) ?? model;
    const msgs = isRec(p.messages) && Array.isArray(p.messages.values) ? p.messages.values.filter(isRec) : [];
    system =
      msgs
        .filter((m) => m.role === 'system')
        .map((m) => String(m.content ?? ''))
        .join('\n') || undefined;
    prompt = msgs
      .filter((m) => m.role !== 'system')
      .map((m) => String(m.content ?? ''))
      .join('\n');
    if (msgs.some((m) => m.role === 'assistant'))
      issues.push('assistant messages are folded into the prompt');
  } else {
    prompt =
      p.promptType === 'define' || p.text !== undefined ? (p.text ?? p.prompt) : '={{ $json.chatInput }}';
    if (prompt === undefined) prompt = p.prompt ?? '={{ $json.chatInput }}';
    system = typeof options.systemMessage === 'string' ? options.systemMessage : undefined;
    const msgs =
      isRec(p.messages) && Array.isArray(p.messages.messageValues)
        ? p.messages.messageValues.filter(isRec)
        : [];
    const sys = msgs
      .filter((m) => m.type === undefined || m.type === 'SystemMessagePromptTemplate')
      .map((m) => String(m.message ?? ''));
    if (sys.length) system = [system, ...sys].filter(Boolean).join('\n');
  }
  const tools: string[] = [];
  let allowHosts: string[] | undefined;
  for (const t of subNodes.get('ai_tool') ?? []) {
    if (t.type === '@n8n/n8n-nodes-langchain.toolWorkflow') {
      const id = String(locatorValue(t.parameters.workflowId) ?? '');
      if (id) {
        tools.push(`workflow:${id}`);
        fold(t, 'approximated', [
          `became the tool workflow:${id}; import that workflow and set its Trellis id`,
        ]);
        continue;
      }
    }
    if (t.type === '@n8n/n8n-nodes-langchain.toolHttpRequest' && typeof t.parameters.url === 'string') {
      try {
        const host = new URL(t.parameters.url.replace(/^=/, '').replace(/\{\{[\s\S]*?\}\}/g, 'x')).host;
        if (!tools.includes('http')) tools.push('http');
        allowHosts = [...(allowHosts ?? []), host];
        fold(t, 'approximated', [`became the http tool limited to ${host}`]);
        continue;
      } catch {
        /* falls through to dropped */
      }
    }
    fold(t, 'dropped', [
      `tool ${t.type} has no Trellis equivalent; add a workflow:<id> tool that does the same`,
    ]);
  }
  const promptText = toTemplate(prompt ?? '', expr, issues);
  const systemText = system === undefined ? undefined : toTemplate(system, expr, issues);
  const config: Rec = { model: model ?? DEFAULT_MODEL, prompt: String(promptText || '{{ input }}') };
  if (systemText) config.system = String(systemText);
  if (schema) config.outputSchema = schema;
  if (typeof options.temperature === 'number') config.temperature = options.temperature;
  if (!model) issues.push(`no language model was attached; ${DEFAULT_MODEL} is set`);
  const maxSteps = Math.min(100, Math.max(1, Number(options.maxIterations ?? 6) || 6));
  return {
    type: 'llm',
    config,
    mode: 'agent',
    agent: {
      instructions: String(systemText ?? ''),
      tools,
      maxSteps,
      fallback: 'deterministic',
      shadow: true,
      ...(allowHosts ? { allowHosts } : {}),
    },
    notes:
      'Imported from an n8n AI node. Shadow mode is on: the deterministic step serves every run and the agent is recorded beside it. The llm call in the config is the deterministic fallback slot: replace it with a rule (transform, code, switch) once the shadow evidence shows what the model does.',
    status: 'approximated',
    reasons: ['runs in shadow mode with a deterministic fallback slot marked for the owner', ...issues],
    folded,
    handle: out,
  };
}
