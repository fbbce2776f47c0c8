#!/usr/bin/env node
// Tiny entry: everything lives in dist/cli/main.js; the exit code is main's return value.
// The AWS SDK warns on every run that Node 20 will lose support; mlops supports Node >= 20.19, so
// the warning is noise in every command's output. A user who sets the variable keeps their value.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2), { handleSignals: true });
