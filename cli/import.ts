import fs from 'node:fs';
import { importN8n } from '@/lib/import/n8n';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { TrellisError } from '@/lib/workflow/errors';

interface Io {
  log(s: string): void;
  error(s: string): void;
}

/** `trellis import n8n <file>`: the definition on stdout (pipe it to a file), the report on stderr. */
export function importCommand(format: string, file: string, io: Io): number {
  if (format !== 'n8n') {
    io.error(`unknown import format "${format}" (supported: n8n)`);
    return 2;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    io.error(`cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  try {
    const { definition, report } = importN8n(raw, { validate: validateDefinition });
    io.log(JSON.stringify(definition, null, 2));
    const s = report.summary;
    io.error(
      `imported "${definition.name}": ${s.mapped} mapped, ${s.approximated} approximated, ${s.placeholder} placeholder, ${s.dropped} dropped`,
    );
    for (const e of report.entries)
      io.error(
        `  ${e.status.padEnd(12)} ${e.node} (${e.n8nType})${e.trellisId ? ` → ${e.trellisId}` : ''}${e.reasons.length ? `: ${e.reasons.join('; ')}` : ''}`,
      );
    const { problems } = validateDefinition(definition);
    for (const p of problems) io.error(`  problem ${p.path} ${p.code}: ${p.message}`);
    return problems.length ? 1 : 0;
  } catch (err) {
    if (err instanceof TrellisError) {
      io.error(err.message);
      return 1;
    }
    throw err;
  }
}
