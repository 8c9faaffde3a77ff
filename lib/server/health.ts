import { getDb } from '@/lib/db/client';
import { VERSION } from './version';

export async function health() {
  const db = await getDb();
  await db.prisma.$queryRawUnsafe('SELECT 1');
  return { ok: true, db: db.kind, version: VERSION };
}
