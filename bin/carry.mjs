#!/usr/bin/env node
// `carry` — the command line. TypeScript sources run through tsx; no build step.
import { register } from 'tsx/esm/api';
register();
await import('../engine/cli/carry.ts');
