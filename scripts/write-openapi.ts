// Writes docs/openapi.json from the route schemas (npm run openapi:json).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderOpenApiJson } from '@/lib/server/openapi';

const file = path.join(import.meta.dirname, '..', 'docs', 'openapi.json');
writeFileSync(file, renderOpenApiJson());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
