#!/usr/bin/env node
// The `ina` command. TypeScript sources run through tsx's loader, so a fresh clone needs
// only `npm ci` (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv);
