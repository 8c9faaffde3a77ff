import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import boundaries of DESIGN.md §1 are a lint error, with the fix in the message.

const eslint = new ESLint({ cwd: import.meta.dirname });

async function messagesFor(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages
    .filter(
      (m) => m.ruleId === 'no-restricted-imports' || m.ruleId === '@typescript-eslint/no-restricted-imports',
    )
    .map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    [
      'lib/engine/x.ts',
      "import { PrismaClient } from '@prisma/client';\nexport const x = PrismaClient;\n",
      /TraceStore/,
    ],
    ['lib/engine/x.ts', "import { getDb } from '@/lib/db/client';\nexport const x = getDb;\n", /TraceStore/],
    [
      'lib/engine/x.ts',
      "import { NextResponse } from 'next/server';\nexport const x = NextResponse;\n",
      /Next\.js/,
    ],
    ['lib/workflow/x.ts', "import { useState } from 'react';\nexport const x = useState;\n", /pure/],
    [
      'lib/workflow/x.ts',
      "import { getNode } from '@/lib/nodes/registry';\nexport const x = getNode;\n",
      /imports nothing else/,
    ],
    ['lib/workflow/x.ts', "import fs from 'node:fs';\nexport const x = fs;\n", /no I\/O/],
    [
      'lib/payload/x.ts',
      "import { createEngine } from '@/lib/engine/engine';\nexport const x = createEngine;\n",
      /lib\/payload sits below/,
    ],
    ['lib/payload/x.ts', "import { getDb } from '@/lib/db/client';\nexport const x = getDb;\n", /TraceStore/],
    ['components/x.tsx', "import { getDb } from '@/lib/db/client';\nexport const x = getDb;\n", /over HTTP/],
    [
      'lib/engine/x.ts',
      "import { trace } from '@opentelemetry/api';\nexport const x = trace;\n",
      /lib\/telemetry/,
    ],
    [
      'lib/server/x.ts',
      "import { TracerProvider } from '@opentelemetry/sdk-trace';\nexport const x = TracerProvider;\n",
      /lib\/telemetry/,
    ],
    [
      'lib/telemetry/x.ts',
      "import { getDb } from '@/lib/db/client';\nexport const x = getDb;\n",
      /TraceStore/,
    ],
    [
      'lib/server/x.ts',
      "import { startMockLlmServer } from '@/lib/agent/testing/mock-llm-server';\nexport const x = startMockLlmServer;\n",
      /does not ship/,
    ],
    [
      'lib/db/x.ts',
      "import { tempDataDir } from './testing/databases';\nexport const x = tempDataDir;\n",
      /does not ship/,
    ],
  ])('%s: refuses %s', async (file, code, why) => {
    const messages = await messagesFor(file, code);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.some((m) => why.test(m))).toBe(true);
  });

  it('allows what the layering permits', async () => {
    expect(
      await messagesFor(
        'lib/engine/x.ts',
        "import { validate } from '@/lib/workflow/validate';\nexport const x = validate;\n",
      ),
    ).toEqual([]);
    expect(
      await messagesFor(
        'lib/db/x.ts',
        "import { PrismaClient } from '@prisma/client';\nexport const x = PrismaClient;\n",
      ),
    ).toEqual([]);
    expect(
      await messagesFor(
        'components/x.tsx',
        "import { validate } from '@/lib/workflow/validate';\nexport const x = validate;\n",
      ),
    ).toEqual([]);
    expect(
      await messagesFor(
        'lib/telemetry/x.ts',
        "import { trace } from '@opentelemetry/api';\nexport const x = trace;\n",
      ),
    ).toEqual([]);
    expect(
      await messagesFor(
        'lib/server/x.test.ts',
        "import { startMockLlmServer } from '@/lib/agent/testing/mock-llm-server';\nexport const x = startMockLlmServer;\n",
      ),
    ).toEqual([]);
  });
});
