import type { Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { listExamples } from './examples';

const SEEDED_KEY = 'examples_seeded';

/** A new embedded database shows the examples; deleting them later does not bring them back. */
export async function seedExamplesOnce(db: Db): Promise<void> {
  const done = await db.prisma.setting.findUnique({ where: { key: SEEDED_KEY } });
  if (done) return;
  // Examples are listed newest-first by updatedAt; create them in reverse so the first one is on top.
  for (const ex of listExamples().reverse()) {
    await createWorkflow(db.prisma, { name: ex.name, definition: ex.definition });
  }
  await db.prisma.setting.create({ data: { key: SEEDED_KEY, value: true } });
}
