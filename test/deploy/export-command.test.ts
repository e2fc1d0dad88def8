import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerExport } from '../../src/deploy/export-command.js';
import { ScenarioError } from '../../src/scenario/load.js';
import { QUICKSTART, scratchDir } from './helpers.js';

const scratch = scratchDir('export-cli');
afterAll(() => scratch.cleanup());

/** A bare program with only `export`, set up the way src/cli.ts sets up `ina`. */
function program(lines: string[]): Command {
  const p = new Command('ina').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerExport(p, { log: (l) => lines.push(l) });
  return p;
}

describe('ina export', () => {
  it('writes a compose export', async () => {
    const lines: string[] = [];
    const out = join(scratch.dir, 'compose');
    await program(lines).parseAsync(['node', 'ina', 'export', QUICKSTART, '--format', 'compose', '--out', out]);
    for (const f of ['Dockerfile', 'scenario.yaml', 'compose.yaml', 'README.md']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(lines.join('\n')).toContain(out);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('docker compose -f compose.yaml up --build');
  });

  it('writes a containerlab export with the project Dockerfile', async () => {
    const out = join(scratch.dir, 'clab');
    await program([]).parseAsync(['node', 'ina', 'export', QUICKSTART, '--format', 'containerlab', '--out', out]);
    expect(existsSync(join(out, 'quickstart-udp.clab.yml'))).toBe(true);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('sudo containerlab deploy -t quickstart-udp.clab.yml');
    const dockerfile = readFileSync(join(out, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toContain('iproute2');
    expect(dockerfile).toMatch(/^WORKDIR \/ina$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/ina.js"]');
  });

  it('rejects an unknown format as a usage error', async () => {
    const out = join(scratch.dir, 'bad-format');
    const err = await program([])
      .parseAsync(['node', 'ina', 'export', QUICKSTART, '--format', 'k8s', '--out', out])
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CommanderError);
    expect((err as CommanderError).code).toBe('commander.invalidArgument');
    expect((err as CommanderError).message).toContain('expected compose or containerlab');
    expect(existsSync(out)).toBe(false);
  });

  it('requires --format and --out', async () => {
    const err = await program([]).parseAsync(['node', 'ina', 'export', QUICKSTART]).then(() => undefined, (e: unknown) => e);
    expect((err as CommanderError).code).toBe('commander.missingMandatoryOptionValue');
  });

  it('throws ScenarioError for a bad scenario, writing nothing', async () => {
    const out = join(scratch.dir, 'bad-scenario');
    const run = program([]).parseAsync(['node', 'ina', 'export', join(scratch.dir, 'missing.yaml'), '--format', 'compose', '--out', out]);
    await expect(run).rejects.toBeInstanceOf(ScenarioError);
    expect(existsSync(out)).toBe(false);
  });
});
