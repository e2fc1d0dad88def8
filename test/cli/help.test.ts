/** What a newcomer sees first: `ina --version`, and help that points somewhere and shows no internals. */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { ina } from './helpers.js';

/** main() in this process, with what it writes to stdout (help goes there). */
async function stdoutOf(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const code = await main(['node', 'ina', ...args]);
  vi.restoreAllMocks();
  return { code, out };
}
afterEach(() => vi.restoreAllMocks());

/** The subcommand names a help text lists under "Commands:", but `help`. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

describe('ina --version and --help', () => {
  it('ina --version prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await ina(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('ina --help points to the scenarios folder and the README', async () => {
    const { code, out } = await stdoutOf(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/scenarios\/quickstart\.yaml/);
    expect(out).toMatch(/Scenarios to start from: \S*scenarios\//);
    expect(out).toMatch(/README\.md/);
  });

  it('no command\'s help shows a default as internal JSON', async () => {
    const root = (await stdoutOf(['--help'])).out;
    const seen: string[] = [];
    const visit = async (path: string[], help: string): Promise<void> => {
      for (const c of commandsIn(help)) {
        const sub = await stdoutOf([...path, c, '--help']);
        expect(sub.code).toBe(0);
        seen.push([...path, c].join(' '));
        expect(sub.out, `ina ${[...path, c].join(' ')} --help`).not.toMatch(/default: [{[]/);
        await visit([...path, c], sub.out);
      }
    };
    await visit([], root);
    // the walk did reach the commands (and the one whose default used to be {"kind":"links"})
    expect(seen).toEqual(expect.arrayContaining(['run', 'node', 'up', 'addresses', 'bench', 'bench allreduce']));
  });
});
