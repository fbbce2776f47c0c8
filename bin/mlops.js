#!/usr/bin/env node
// Tiny entry: everything lives in dist/cli/main.js; the exit code is main's return value.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2), { handleSignals: true });
