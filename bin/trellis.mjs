#!/usr/bin/env node
// The package's `bin`: runs the CLI bundled into one JavaScript file (scripts/build-cli.mjs; built
// when missing or older than the sources), in this process. No TypeScript loader stays resident in
// a long-lived `trellis worker` (issue 21, memory).
import { pathToFileURL } from 'node:url';
import { ensureCli } from '../scripts/build-cli.mjs';

await import(pathToFileURL(await ensureCli()).href);
