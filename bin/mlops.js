#!/usr/bin/env node
// Tiny entry: everything lives in the bundle (dist/cli/main.js and its chunks, see scripts/build.mjs);
// the exit code is main's return value.
// The AWS SDK warns on every run that Node 20 will lose support; mlops supports Node >= 20.19, so
// the warning is noise in every command's output. A user who sets the variable keeps their value.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const argv = process.argv.slice(2);
// Under --verbose, stack traces name the TypeScript sources (the bundle ships source maps). Only
// then: reading the maps costs start-up time. Maps are read for modules loaded after this call.
const end = argv.indexOf('--');
if ((end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--verbose' || a === '-v')) process.setSourceMapsEnabled(true);

const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(argv, { handleSignals: true });
