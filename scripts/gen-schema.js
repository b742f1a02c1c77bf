#!/usr/bin/env node
// Writes config/director.schema.json from the TypeBox declaration in src/config/director.ts
// (run after `tsc`: `npm run codegen`). test/unit/config/json-schema-is-current fails when the
// shipped file differs from what this writes.
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const { directorJsonSchema } = require(join(root, 'dist/src/config/director.js'));
const out = join(root, 'config/director.schema.json');
writeFileSync(out, directorJsonSchema());
process.stdout.write(`wrote ${out}\n`);
