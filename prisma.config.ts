import { defineConfig } from 'prisma/config';

// Used by Prisma's CLI (generate; migrate status/deploy where its schema engine is reachable).
// The app applies prisma/migrations itself (lib/db/migrate.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
