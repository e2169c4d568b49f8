#!/usr/bin/env node
// Runs a TypeScript file: node bin/run-ts.mjs path/to/file.ts [args]
import { register } from 'tsx/esm/api';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
register();
const file = process.argv[2];
process.argv.splice(2, 1);
await import(pathToFileURL(path.resolve(file)).href);
