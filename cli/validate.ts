import { open, stat } from 'node:fs/promises';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { MAX_DEFINITION_BYTES } from '@/lib/workflow/limits';

export interface CommandOutput {
  log(line: string): void;
  error(line: string): void;
}

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNREADABLE = 2;

/**
 * Files larger than this are refused without being read whole: validation would reject them
 * anyway (MAX_DEFINITION_BYTES), and pretty-printing can make a valid definition a few times
 * bigger on disk than its compact size.
 */
export const MAX_DEFINITION_FILE_BYTES = 4 * MAX_DEFINITION_BYTES;

/** `trellis validate <file.json>`: 0 valid, 1 invalid (one `path: message` per line), 2 unreadable. */
export async function validateCommand(file: string, out: CommandOutput): Promise<number> {
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) {
      out.error(`${file}: not a file`);
      return EXIT_UNREADABLE;
    }
    if (info.size > MAX_DEFINITION_FILE_BYTES) {
      out.log(`/: definition file is ${info.size} bytes; the limit is ${MAX_DEFINITION_BYTES} bytes`);
      return EXIT_INVALID;
    }
    const handle = await open(file, 'r');
    try {
      text = await handle.readFile({ encoding: 'utf8' });
    } finally {
      await handle.close();
    }
  } catch (err) {
    out.error(`${file}: cannot read: ${(err as Error).message}`);
    return EXIT_UNREADABLE;
  }
  let definition: unknown;
  try {
    definition = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    out.error(`${file}: not valid JSON: ${(err as Error).message}`);
    return EXIT_UNREADABLE;
  }
  const result = validateDefinition(definition);
  if (result.valid) {
    out.log(`${file}: valid`);
    return EXIT_VALID;
  }
  for (const p of result.problems) out.log(`${p.path || '/'}: ${p.message}`);
  return EXIT_INVALID;
}
