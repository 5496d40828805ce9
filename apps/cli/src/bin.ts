#!/usr/bin/env node
import { disposeBackends } from '@pumer/core';
import { main } from './program.js';

const code = await main(process.argv.slice(2));
await disposeBackends().catch(() => undefined);
process.exitCode = code;
// onnxruntime / Dawn can keep handles open after dispose; don't let them hold the shell.
setTimeout(() => process.exit(code), 2000).unref();
