import type { ExpectedTable } from './prisma-schema';
import type { SqlQueryable } from './sql-executor';

// Reads the live public schema (pg_catalog) and lists every way it differs from what
// schema.prisma describes. Used by the drift test; also handy in `trellis migrate --check` later.

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
  datetime_precision: number | null;
}

export async function schemaProblems(db: SqlQueryable, expected: ExpectedTable[]): Promise<string[]> {
  const problems: string[] = [];
  const columns = await db.query<ColumnRow>(
    `SELECT table_name, column_name, data_type, is_nullable, datetime_precision
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
  );
  const indexes = await db.query<{ tablename: string; indexname: string; indexdef: string }>(
    `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
  );
  const fks = await db.query<{ conname: string; tbl: string; def: string }>(
    `SELECT c.conname, t.relname AS tbl, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND c.contype = 'f'`,
  );
  const pks = await db.query<{ tbl: string; def: string }>(
    `SELECT t.relname AS tbl, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND c.contype = 'p'`,
  );

  const unquote = (s: string) => s.replace(/"/g, '').replace(/public\./g, '');
  const colType = (c: ColumnRow) =>
    c.data_type.startsWith('timestamp') ? `${c.data_type}(${c.datetime_precision})` : c.data_type;

  const dbTables = new Set(columns.map((c) => c.table_name));
  const modelTables = new Set(expected.map((t) => t.name));
  for (const t of dbTables)
    if (!modelTables.has(t)) problems.push(`table ${t} exists in the database but not in schema.prisma`);

  for (const t of expected) {
    if (!dbTables.has(t.name)) {
      problems.push(`table ${t.name} is missing`);
      continue;
    }
    const cols = new Map(columns.filter((c) => c.table_name === t.name).map((c) => [c.column_name, c]));
    for (const col of t.columns) {
      const c = cols.get(col.name);
      if (!c) {
        problems.push(`column ${t.name}.${col.name} is missing`);
        continue;
      }
      const want = col.list ? 'ARRAY' : col.type;
      if (colType(c) !== want)
        problems.push(`column ${t.name}.${col.name} is ${colType(c)}, schema says ${want}`);
      if ((c.is_nullable === 'YES') !== col.nullable)
        problems.push(
          `column ${t.name}.${col.name} nullable=${c.is_nullable}, schema says ${col.nullable ? 'optional' : 'required'}`,
        );
      cols.delete(col.name);
    }
    for (const extra of cols.keys())
      problems.push(`column ${t.name}.${extra} exists in the database but not in schema.prisma`);

    const pk = pks.find((p) => p.tbl === t.name);
    const wantPk = `PRIMARY KEY (${t.primaryKey.join(', ')})`;
    if (!pk || unquote(pk.def) !== wantPk)
      problems.push(`primary key of ${t.name} is ${pk ? unquote(pk.def) : 'missing'}, schema says ${wantPk}`);

    const idx = new Map(
      indexes
        .filter((i) => i.tablename === t.name && !i.indexname.endsWith('_pkey'))
        .map((i) => [i.indexname, i]),
    );
    for (const want of t.indexes) {
      const got = idx.get(want.name);
      if (!got) {
        problems.push(`index ${want.name} is missing`);
        continue;
      }
      const def = unquote(got.indexdef);
      const wantDef = `CREATE ${want.unique ? 'UNIQUE ' : ''}INDEX ${want.name} ON ${t.name} USING btree (${want.columns.join(', ')})`;
      if (def !== wantDef) problems.push(`index ${want.name} is "${def}", schema says "${wantDef}"`);
      idx.delete(want.name);
    }
    for (const extra of idx.keys())
      problems.push(`index ${extra} exists in the database but not in schema.prisma`);

    const fk = new Map(fks.filter((f) => f.tbl === t.name).map((f) => [f.conname, unquote(f.def)]));
    for (const want of t.foreignKeys) {
      const got = fk.get(want.name);
      const onDelete = want.onDelete === 'NO ACTION' ? '' : ` ON DELETE ${want.onDelete}`;
      const wantDef = `FOREIGN KEY (${want.columns.join(', ')}) REFERENCES ${want.refTable}(${want.refColumns.join(', ')}) ON UPDATE CASCADE${onDelete}`;
      if (!got) problems.push(`foreign key ${want.name} is missing`);
      else if (got !== wantDef)
        problems.push(`foreign key ${want.name} is "${got}", schema says "${wantDef}"`);
      fk.delete(want.name);
    }
    for (const extra of fk.keys())
      problems.push(`foreign key ${extra} exists in the database but not in schema.prisma`);
  }
  return problems;
}
