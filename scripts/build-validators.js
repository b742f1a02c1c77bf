#!/usr/bin/env node
// Writes the director config's validator ahead of time (run after `tsc`, part of `npm run build`):
// ajv's standalone code for the same schema and options src/config/validate.ts compiles with, so
// `lvsd director run` starts without ajv's compile (about 0.3 s here, several seconds under the
// lab's emulation). The module carries the hash of the JSON Schema it was made from; the director
// compiles at run time instead when the hash differs (a schema edited and only `tsc` run).
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const standalone = require('ajv/dist/standalone').default;

const root = join(__dirname, '..');
const { newAjv, schemaHash, toJsonSchema } = require(join(root, 'dist/src/config/validate.js'));
const { DirectorConfigSchema, DIRECTOR_VALIDATOR_MODULE } = require(join(root, 'dist/src/config/director.js'));

const json = toJsonSchema(DirectorConfigSchema);
const ajv = newAjv({ source: true });
const code = standalone(ajv, ajv.compile(json));
const out = join(root, 'dist/src/config', DIRECTOR_VALIDATOR_MODULE);
writeFileSync(out, `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(json))};\n`);
process.stdout.write(`build-validators: ${(code.length / 1024).toFixed(0)} KiB -> ${join('dist/src/config', DIRECTOR_VALIDATOR_MODULE)}\n`);
