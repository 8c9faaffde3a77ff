import { z } from 'zod';
import { MAX_ACTION_TIMEOUT_MS, MAX_BROWSER_ACTIONS, MAX_VIEWPORT_PX } from './limits';

// The browser step's action vocabulary: one zod source for the node's config, the editor's form,
// the JSON Schema export and the interface agent's `act` tool.

/** What a target was when it was recorded: the replay refuses a control that no longer matches. */
export const fingerprintSchema = z.object({
  role: z.string().describe('Accessible role, e.g. button, link, textbox'),
  name: z.string().describe('Accessible name'),
  near: z.string().optional().describe('Heading or labelled region around the control (its neighbourhood)'),
});
export type Fingerprint = z.infer<typeof fingerprintSchema>;

export const TARGET_KINDS = ['role', 'label', 'text', 'css'] as const;

export const targetSchema = z
  .object({
    role: z.string().min(1).optional().describe('Accessible role (preferred, with name)'),
    name: z.string().optional().describe('Accessible name, with role'),
    label: z.string().min(1).optional().describe('Form control by its label text'),
    text: z.string().min(1).optional().describe('Element by its visible text'),
    css: z.string().min(1).optional().describe('CSS selector (last resort: breaks on redesigns)'),
    expect: fingerprintSchema
      .optional()
      .describe('What this target was when recorded; a control that no longer matches counts as missing'),
  })
  .superRefine((t, ctx) => {
    const kinds = TARGET_KINDS.filter((k) => t[k] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? 'a target needs one of role (+ name), label, text or css'
            : `a target uses one of role, label, text or css, not ${kinds.join(' and ')}`,
      });
    if (t.name !== undefined && t.role === undefined)
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'name goes with role' });
  });
export type Target = z.infer<typeof targetSchema>;

const target = targetSchema.describe('The control this action works on');

export const gotoAction = z.object({
  type: z.literal('goto'),
  url: z.string().min(1).describe('URL to open; may hold {{ }} expressions'),
});
export const clickAction = z.object({ type: z.literal('click'), target });
export const fillAction = z.object({
  type: z.literal('fill'),
  target,
  value: z.string().describe('Text to type; may hold {{ secrets.name }} (masked in the trace)'),
});
export const selectAction = z.object({
  type: z.literal('select'),
  target,
  value: z.union([z.string(), z.array(z.string())]).describe('Option value(s) or label(s)'),
});
export const checkAction = z.object({
  type: z.literal('check'),
  target,
  checked: z.boolean().default(true).describe('Tick (true) or untick (false)'),
});
export const pressAction = z.object({
  type: z.literal('press'),
  key: z.string().min(1).describe('Key, e.g. Enter, Tab, Control+A'),
  target: target.optional(),
});
export const waitForAction = z.object({
  type: z.literal('waitFor'),
  target: target.optional(),
  state: z.enum(['visible', 'hidden', 'attached', 'detached']).default('visible'),
  urlIncludes: z.string().optional().describe('Wait until the page URL contains this'),
});
export const EXTRACT_KINDS = ['text', 'attribute', 'table', 'list'] as const;
export const extractAction = z.object({
  type: z.literal('extract'),
  into: z.string().min(1).describe('Key of output.extracted that receives the value'),
  as: z.enum(EXTRACT_KINDS).default('text'),
  target: target.optional(),
  attribute: z.string().optional().describe('Attribute to read (as: attribute)'),
  schema: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('JSON Schema the extracted value must satisfy'),
});
export const screenshotAction = z.object({
  type: z.literal('screenshot'),
  fullPage: z.boolean().optional(),
});

export const browserActionSchema = z.discriminatedUnion('type', [
  gotoAction,
  clickAction,
  fillAction,
  selectAction,
  checkAction,
  pressAction,
  waitForAction,
  extractAction,
  screenshotAction,
]);
export type BrowserAction = z.infer<typeof browserActionSchema>;
/** An action as written in a definition (defaults not yet applied). */
export type BrowserActionInput = z.input<typeof browserActionSchema>;
export type ActionType = BrowserAction['type'];
export const ACTION_TYPES = browserActionSchema.options.map((o) => o.shape.type.value) as ActionType[];

export const viewportSchema = z.object({
  width: z.number().int().min(200).max(MAX_VIEWPORT_PX),
  height: z.number().int().min(200).max(MAX_VIEWPORT_PX),
});

export const browserConfigSchema = z.object({
  startUrl: z.string().min(1).describe('Page to open first; may hold {{ }} expressions'),
  actions: z
    .array(browserActionSchema)
    .max(MAX_BROWSER_ACTIONS)
    .default([])
    .describe('What to do on the page, in order; each target is checked against what it was when recorded'),
  allowHosts: z
    .array(z.string())
    .optional()
    .describe(
      'Hosts the page may reach (host or host:port), listed hosts may be private. Default: the start URL host only, public addresses only.',
    ),
  viewport: viewportSchema.optional().describe('Page size in CSS pixels (default 1280×720)'),
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(MAX_ACTION_TIMEOUT_MS)
    .optional()
    .describe('Wait per action for a target or navigation'),
  heal: z
    .boolean()
    .optional()
    .describe(
      'When a recorded target is missing, let the interface agent finish the goal (agent mode implies it)',
    ),
  captureEachAction: z.boolean().optional().describe('Screenshot after every action (shown in the trace)'),
  domSnapshots: z
    .boolean()
    .optional()
    .describe(
      "Keep the page's HTML after every action and at a failure (shown in the trace; off by default)",
    ),
});
export type BrowserConfig = z.infer<typeof browserConfigSchema>;
