import { findTemplateSegments } from '@/lib/workflow/expressions';

// In graduation's cases `input` is the step's input, so that is what the model's proposal reads as
// `input`. In a saved step's expressions and code `input` is the run's input (DESIGN.md §2), and the
// step's own input is its upstream step's output. So a proposal is bound before it is backtested:
// inside every `{{ }}` body and the code body, `input` is rebound to `steps["<source>"].output`, and
// the backtest runs the bound config in a saved step's scope (the run's input unknown, null). What
// passes the backtest is then exactly what runs once the owner saves it.

const sourceRead = (source: string) => `steps[${JSON.stringify(source)}].output`;

/** The config with `input` meaning the step's input (its one upstream step's output). */
export function bindStepInput(
  nodeType: 'code' | 'transform',
  config: Record<string, unknown>,
  source: string,
): Record<string, unknown> {
  if (nodeType === 'code')
    return {
      ...config,
      code: [
        `// \`input\` below is this step's input: the output of ${JSON.stringify(source)}.`,
        'return ((input) => {',
        String(config.code),
        `})(${sourceRead(source)});`,
      ].join('\n'),
    };
  return { ...config, value: bindTemplate(config.value, source) };
}

function bindTemplate(value: unknown, source: string): unknown {
  if (typeof value === 'string') {
    const { segments } = findTemplateSegments(value);
    let out = '';
    let at = 0;
    for (const s of segments) {
      out += `${value.slice(at, s.start)}{{ ((input) => (${s.body.trim()}))(${sourceRead(source)}) }}`;
      at = s.end;
    }
    return out + value.slice(at);
  }
  if (Array.isArray(value)) return value.map((v) => bindTemplate(v, source));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bindTemplate(v, source)]));
  return value;
}

/** The scope a saved step has, for one recorded step input: the run's input is not recorded here. */
export function savedStepScope(source: string, stepInput: unknown) {
  return { input: null, steps: { [source]: { output: stepInput } }, env: {}, secrets: {} };
}
