#!/usr/bin/env node
// The CLI as plain JavaScript: what bin/lvsd (dist/lvsd: native/launcher/lvsd.c, or the script
// scripts/build-launcher.js writes without a C compiler) runs when the start-up snapshot does not
// fit; npm's bin entry (a file that exists in every checkout, without any build of native code);
// what the systemd units run with node by absolute path; and what `node bin/lvsd.js` runs, e.g.
// under a profiler.
'use strict';
require('../dist/src/cli/main.js').main(process.argv);
