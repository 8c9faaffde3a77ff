// A small reader of prisma/schema.prisma, enough for the drift test to derive the tables, columns,
// indexes and foreign keys Prisma expects (the native engine's DMMF is not reachable offline).
// Supports what this project's schema uses; an unknown attribute fails loudly so a new feature of
// the schema is noticed here instead of silently unchecked.

export interface ExpectedColumn {
  name: string;
  /** information_schema.columns data_type, with precision for timestamps, e.g. "timestamp with time zone(3)". */
  type: string;
  nullable: boolean;
  list: boolean;
}

export interface ExpectedIndex {
  name: string;
  unique: boolean;
  /** Column names, each followed by " DESC" when sorted descending. */
  columns: string[];
}

export interface ExpectedForeignKey {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
}

export interface ExpectedTable {
  name: string;
  columns: ExpectedColumn[];
  primaryKey: string[];
  indexes: ExpectedIndex[];
  foreignKeys: ExpectedForeignKey[];
}

const SCALARS: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric',
  Boolean: 'boolean',
  DateTime: 'timestamp without time zone(3)',
  Json: 'jsonb',
  Bytes: 'bytea',
};

const NATIVE: Record<string, (args: string) => string> = {
  Timestamptz: (a) => `timestamp with time zone(${a || '6'})`,
  Timestamp: (a) => `timestamp without time zone(${a || '6'})`,
  Uuid: () => 'uuid',
  Text: () => 'text',
  VarChar: () => 'character varying',
  Integer: () => 'integer',
  BigInt: () => 'bigint',
  DoublePrecision: () => 'double precision',
  JsonB: () => 'jsonb',
};

const KNOWN_FIELD_ATTRS = new Set(['id', 'default', 'unique', 'updatedAt', 'relation', 'db']);
const ON_DELETE: Record<string, string> = {
  Cascade: 'CASCADE',
  SetNull: 'SET NULL',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetDefault: 'SET DEFAULT',
};

function listArg(text: string, key?: string): string[] {
  const m = key ? text.match(new RegExp(`${key}\\s*:\\s*\\[([^\\]]*)\\]`)) : text.match(/\[([^\]]*)\]/);
  if (!m) return [];
  return splitTop(m[1])
    .map((s) => s.trim())
    .filter(Boolean);
}

// Splits on commas outside parentheses: `a, b(sort: Desc)`.
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function indexColumn(spec: string): string {
  const m = spec.match(/^(\w+)(?:\((.*)\))?$/);
  if (!m) throw new Error(`unsupported index column ${spec}`);
  return /sort\s*:\s*Desc/.test(m[2] ?? '') ? `${m[1]} DESC` : m[1];
}

export function parsePrismaSchema(source: string): ExpectedTable[] {
  const text = source.replace(/\/\/.*$/gm, '');
  const blocks = [...text.matchAll(/^\s*(model|enum|type|view)\s+(\w+)\s*\{([^}]*)\}/gm)];
  const modelNames = new Set(blocks.filter((b) => b[1] === 'model').map((b) => b[2]));
  const enumNames = new Set(blocks.filter((b) => b[1] === 'enum').map((b) => b[2]));
  const tables: ExpectedTable[] = [];
  for (const [, kind, name, body] of blocks) {
    if (kind === 'enum') continue;
    if (kind !== 'model') throw new Error(`prisma-schema: ${kind} blocks are not supported`);
    const t: ExpectedTable = { name, columns: [], primaryKey: [], indexes: [], foreignKeys: [] };
    for (const raw of body.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith('@@')) {
        const m = line.match(/^@@(\w+)\((.*)\)$/);
        if (!m) throw new Error(`prisma-schema: cannot read ${line}`);
        const cols = listArg(m[2]).map(indexColumn);
        const bare = cols.map((c) => c.replace(/ DESC$/, ''));
        if (m[1] === 'index')
          t.indexes.push({ name: `${name}_${bare.join('_')}_idx`, unique: false, columns: cols });
        else if (m[1] === 'unique')
          t.indexes.push({ name: `${name}_${bare.join('_')}_key`, unique: true, columns: cols });
        else if (m[1] === 'id') t.primaryKey = bare;
        else throw new Error(`prisma-schema: @@${m[1]} is not supported`);
        continue;
      }
      const m = line.match(/^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/);
      if (!m) throw new Error(`prisma-schema: cannot read field ${line}`);
      const [, field, type, list, optional, attrs] = m;
      const attrNames = [...attrs.matchAll(/@(\w+)(?:\.(\w+))?/g)];
      for (const a of attrNames) {
        if (!KNOWN_FIELD_ATTRS.has(a[1]))
          throw new Error(`prisma-schema: @${a[1]} on ${name}.${field} is not supported`);
      }
      if (modelNames.has(type)) {
        const rel = attrs.match(/@relation\(([^)]*(?:\([^)]*\)[^)]*)*)\)/)?.[1];
        const fields = rel ? listArg(rel, 'fields') : [];
        if (fields.length) {
          const onDelete = rel?.match(/onDelete\s*:\s*(\w+)/)?.[1];
          t.foreignKeys.push({
            name: `${name}_${fields.join('_')}_fkey`,
            columns: fields,
            refTable: type,
            refColumns: listArg(rel!, 'references'),
            // Prisma's defaults: Restrict for required relations, SetNull for optional ones.
            onDelete: onDelete ? ON_DELETE[onDelete] : optional ? 'SET NULL' : 'RESTRICT',
          });
        }
        continue;
      }
      let colType: string;
      const native = attrs.match(/@db\.(\w+)(?:\(([^)]*)\))?/);
      if (native) {
        const f = NATIVE[native[1]];
        if (!f) throw new Error(`prisma-schema: @db.${native[1]} is not supported`);
        colType = f(native[2] ?? '');
      } else if (SCALARS[type]) colType = SCALARS[type];
      else if (enumNames.has(type)) colType = 'USER-DEFINED';
      else throw new Error(`prisma-schema: unknown type ${type} on ${name}.${field}`);
      t.columns.push({ name: field, type: colType, nullable: !!optional, list: !!list });
      if (/@id\b/.test(attrs)) t.primaryKey = [field];
      if (/@unique\b/.test(attrs))
        t.indexes.push({ name: `${name}_${field}_key`, unique: true, columns: [field] });
    }
    tables.push(t);
  }
  return tables;
}
