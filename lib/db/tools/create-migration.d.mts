export function diffSchemaAgainstMigrations(opts: {
  schemaPath: string;
  migrationsDir: string;
}): Promise<string>;
export function loadSchemaEngine(): Promise<unknown>;
export function readMigrations(dir: string): unknown[];
