#!/usr/bin/env node
// The CLI as plain JavaScript: what bin/lvsd (dist/lvsd, native/launcher/lvsd.c) runs when the
// start-up snapshot does not fit, and what `node bin/lvsd.js` runs, e.g. under a profiler.
'use strict';
require('../dist/src/cli/main.js').main(process.argv);
