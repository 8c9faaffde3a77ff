import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { swRunCommand } from '@/cli/sw-run';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { shutdownSandbox } from '@/lib/sandbox';
import { shutdownJq } from '@/lib/sandbox/jq';
import { ValidationError } from '@/lib/workflow/errors';
import { importServerlessWorkflow } from './serverless-workflow';
import { loadScenarios, startScenarioServer, type Scenario } from './testing/sw-scenarios';

// Given / When / Then: each scenario's workflow runs through `trellis sw-run` (the command's code
// in process; one run as a real process below) and must print the stated output or error object.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-sw-'));
let server: Awaited<ReturnType<typeof startScenarioServer>>;
let scenarios: Scenario[] = [];
const prevAllow = process.env.TRELLIS_HTTP_ALLOW_PRIVATE;

beforeAll(async () => {
  process.env.TRELLIS_HTTP_ALLOW_PRIVATE = 'true';
  server = await startScenarioServer();
  scenarios = loadScenarios(server.base);
});
afterAll(async () => {
  if (prevAllow === undefined) delete process.env.TRELLIS_HTTP_ALLOW_PRIVATE;
  else process.env.TRELLIS_HTTP_ALLOW_PRIVATE = prevAllow;
  await server.close();
  await shutdownJq();
  await shutdownSandbox();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function swRun(s: Scenario) {
  const file = path.join(dir, `${s.name.replace(/\W+/g, '-')}.yaml`);
  fs.writeFileSync(file, stringify(s.workflow));
  for (const [name, content] of Object.entries(s.files ?? {}))
    fs.writeFileSync(path.join(dir, name), stringify(content));
  const lines: string[] = [];
  const code = await swRunCommand(
    file,
    { input: JSON.stringify(s.input) },
    { log: (l) => lines.push(l), error: (l) => lines.push(l) },
  );
  return { code, printed: JSON.parse(lines.join('\n')) };
}

const NAMES = loadScenarios('http://placeholder').map((s) => s.name);

describe('Serverless Workflow conformance via trellis sw-run', () => {
  it.each(NAMES)('%s', async (name) => {
    const s = scenarios.find((x) => x.name === name)!;
    const { code, printed } = await swRun(s);
    if (s.then.error) {
      expect(code).toBe(1);
      expect(printed).toMatchObject(s.then.error);
    } else {
      expect(printed).toEqual(s.then.output);
      expect(code).toBe(0);
    }
  });
});

describe('Serverless Workflow fork', () => {
  it('stops the losing branches of a competition before their next call', async () => {
    const s: Scenario = {
      name: 'compete stops losers',
      input: {},
      workflow: {
        document: { dsl: '1.0.0', namespace: 't', name: 'losers', version: '1.0.0' },
        do: [
          {
            race: {
              fork: {
                compete: true,
                branches: [
                  { fast: { set: { winner: 'fast' } } },
                  {
                    slow: {
                      do: [
                        { pause: { wait: { milliseconds: 200 } } },
                        {
                          late: {
                            call: 'http',
                            with: { method: 'get', endpoint: `${server.base}/echo-loser` },
                          },
                        },
                      ],
                    },
                  },
                ],
              },
            },
          },
        ],
      },
      then: { output: { winner: 'fast' } },
    };
    const { code, printed } = await swRun(s);
    expect(code).toBe(0);
    expect(printed).toEqual({ winner: 'fast' });
    await new Promise((r) => setTimeout(r, 500));
    expect(server.hits).not.toContain('/echo-loser');
  });
});

describe('Serverless Workflow import', () => {
  it('maps each top-level task to one jq step, with a handle per jump target', () => {
    const s = loadScenarios('http://x').find((x) => x.name.startsWith('switch jumps'))!;
    const { definition, report } = importServerlessWorkflow(stringify(s.workflow));
    expect(validateDefinition(definition)).toEqual({ valid: true, problems: [] });
    const route = definition.nodes.find((n) => n.id === 'route')!;
    expect(route).toMatchObject({
      type: 'sw.task',
      expressionLanguage: 'jq',
      config: { next: 'standard', targets: { gold: 'gold' } },
    });
    expect(
      definition.edges
        .filter((e) => e.source === 'route')
        .map((e) => e.sourceHandle)
        .sort(),
    ).toEqual(['end', 'gold', 'standard']);
    expect(report.entries.map((e) => [e.task, e.kind, e.status])).toEqual([
      ['route', 'switch', 'mapped'],
      ['standard', 'set', 'mapped'],
      ['gold', 'set', 'mapped'],
    ]);
  });

  it('refuses jq on a node type that reads JavaScript', () => {
    const { definition } = importServerlessWorkflow(loadScenarios('http://x')[0].workflow);
    const transform = {
      id: 'js',
      type: 'transform',
      expressionLanguage: 'jq' as const,
      position: { x: 0, y: 0 },
      config: { value: '${ . }' },
    };
    const bad = {
      ...definition,
      nodes: [...definition.nodes, transform],
      edges: [...definition.edges, { id: 'x', source: 'result', target: 'js' }],
    };
    expect(validateDefinition(bad).problems).toContainEqual(
      expect.objectContaining({
        path: `/nodes/${definition.nodes.length}/expressionLanguage`,
        code: 'unsupported_expression_language',
      }),
    );
  });

  it('reports unsupported tasks, and refuses a document with JSON pointers', () => {
    const s = loadScenarios('http://x').find((x) => x.name.startsWith('listen'))!;
    const { report } = importServerlessWorkflow(s.workflow);
    expect(report.entries[0]).toMatchObject({ status: 'unsupported', kind: 'listen' });
    expect(() => importServerlessWorkflow({ document: { dsl: '0.8' }, do: [] })).toThrow(ValidationError);
    try {
      importServerlessWorkflow('document: [unclosed');
    } catch (err) {
      expect((err as ValidationError).problems[0].code).toBe('invalid_document');
    }
  });

  it('names an unsupported task nested in try, catch and fork by its JSON pointer', () => {
    const listen = { listen: { to: { one: { with: { type: 'x' } } } } };
    const { report } = importServerlessWorkflow({
      document: { dsl: '1.0.0', namespace: 'n', name: 'nested', version: '1.0.0' },
      do: [
        {
          guarded: {
            try: [{ inner: listen }],
            catch: { do: [{ recover: listen }] },
          },
        },
        { both: { fork: { branches: [{ a: { set: { x: 1 } } }, { b: listen }] } } },
      ],
    });
    expect(report.entries.map((e) => e.reasons.map((r) => r.split(':')[0]))).toEqual([
      ['/do/0/guarded/try/0/inner', '/do/0/guarded/catch/do/0/recover'],
      ['/do/1/both/fork/branches/1/b'],
    ]);
  });

  it('runs as a real `trellis sw-run` process: output on stdout, exit 0; the error object, exit 1', () => {
    const ok = scenarios.find((x) => x.name.startsWith('set replaces'))!;
    const fail = scenarios.find((x) => x.name.startsWith('raise by name'))!;
    const run = (s: Scenario) => {
      const file = path.join(dir, 'real.yaml');
      fs.writeFileSync(file, stringify(s.workflow));
      return spawnSync('npx', ['tsx', 'cli/trellis.ts', 'sw-run', file, '--input', JSON.stringify(s.input)], {
        cwd: path.resolve(import.meta.dirname, '..', '..'),
        encoding: 'utf8',
        timeout: 60_000,
      });
    };
    const a = run(ok);
    expect(a.status).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(ok.then.output);
    const b = run(fail);
    expect(b.status).toBe(1);
    expect(JSON.parse(b.stdout)).toMatchObject(fail.then.error!);
  });
});
