// trellis validate <file.json> · trellis run <file.json> [--input JSON] [--json]
// trellis worker [--concurrency N] · trellis migrate · trellis import n8n <file>
// trellis backtest <workflow> <node> [--runs N] [--scorer SPEC] [--min-agreement x] [--json]
import { parseArgs } from 'node:util';

const USAGE = `Usage:
  trellis validate <file.json>
  trellis run <file.json> [--input JSON] [--json]
  trellis worker [--concurrency N]
  trellis migrate
  trellis import n8n <file.json>
  trellis backtest <workflow> <node> [--runs N] [--scorer SPEC] [--min-agreement x] [--budget USD]
                   [--concurrency N] [--model M] [--tools refuse|read_only] [--json]`;

const io = { log: (s: string) => console.log(s), error: (s: string) => console.error(s) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'validate': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length !== 1) return usage();
      const { validateCommand } = await import('./validate');
      return validateCommand(positionals[0], io);
    }
    case 'run': {
      const { positionals, values } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { input: { type: 'string' }, json: { type: 'boolean', default: false } },
      });
      if (positionals.length !== 1) return usage();
      const { runCommand } = await import('./run');
      return runCommand(positionals[0], { input: values.input, json: values.json }, io);
    }
    case 'worker': {
      const { values } = parseArgs({
        args: rest,
        options: { concurrency: { type: 'string', default: '4' } },
      });
      const { workerCommand } = await import('./worker');
      return workerCommand({ concurrency: Number(values.concurrency) }, io);
    }
    case 'import': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length !== 2) return usage();
      const { importCommand } = await import('./import');
      return importCommand(positionals[0], positionals[1], io);
    }
    case 'sw-run': {
      const { positionals, values } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { input: { type: 'string' } },
      });
      if (positionals.length !== 1) return usage();
      const { swRunCommand } = await import('./sw-run');
      const code = await swRunCommand(positionals[0], { input: values.input }, io);
      const { shutdownJq } = await import('@/lib/sandbox/jq');
      await shutdownJq();
      return code;
    }
    case 'backtest': {
      const { positionals, values } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          runs: { type: 'string' },
          scorer: { type: 'string' },
          'min-agreement': { type: 'string' },
          budget: { type: 'string' },
          concurrency: { type: 'string' },
          model: { type: 'string' },
          tools: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      });
      if (positionals.length !== 2) return usage();
      const { backtestCommand } = await import('./backtest');
      return backtestCommand(
        positionals[0],
        positionals[1],
        { ...values, minAgreement: values['min-agreement'] },
        io,
      );
    }
    case 'migrate': {
      const { getDb } = await import('@/lib/db/client');
      const db = await getDb();
      io.log(`migrated (${db.kind})`);
      await db.close();
      return 0;
    }
    default:
      return usage();
  }
}

function usage(): number {
  io.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    io.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
