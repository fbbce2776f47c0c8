#!/usr/bin/env node
// Tiny entry: everything lives in the bundle (dist/cli/main.js and its chunks, see scripts/build.mjs);
// the exit code is main's return value. CommonJS, like the bundle: on Node 20 the ES module loader
// alone adds ~6 ms to every start.
'use strict';
// The AWS SDK warns on every run that Node 20 will lose support; mlops supports Node >= 20.19, so
// the warning is noise in every command's output. A user who sets the variable keeps their value.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const argv = process.argv.slice(2);
// Under --verbose, stack traces name the TypeScript sources (the bundle ships source maps). Only
// then: reading the maps costs start-up time. Maps are read for modules loaded after this call.
const end = argv.indexOf('--');
// -v may come in a cluster of short flags (-qv), as commander accepts it.
if ((end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--verbose' || /^-[a-zA-Z]*v[a-zA-Z]*$/.test(a)))
  process.setSourceMapsEnabled(true);

// Node 22.1 and later keep V8's compiled code of the bundle between runs (Node 20 has no such cache).
require('node:module').enableCompileCache?.();

require('../dist/cli/main.js')
  .main(argv, { handleSignals: true })
  .then((code) => {
    process.exitCode = code;
  });
