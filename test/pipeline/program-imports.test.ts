import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Programs stay portable to another controller (and another target): they may use the engine
// (src/pipeline) and the wire format with its name contract (src/wire), and nothing above them.
// A descriptor (NAME.descriptor.ts) is the program's entry in the manifest, not program code:
// it may also use the manifest's types and zod fields (src/manifest), and nothing else.
const root = resolve(__dirname, '../..');
const pipelines = join(root, 'pipelines');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('pipelines/ imports', () => {
  it('reach only the engine, the wire format and each other', () => {
    const outside: string[] = [];
    for (const file of sources(pipelines)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)) {
        const target = relative(root, resolve(file, '..', m[1]!));
        const manifestEntry = file.endsWith('.descriptor.ts') && target.startsWith('src/manifest/');
        const ok = target.startsWith('src/pipeline/') || target.startsWith('src/wire/') || target.startsWith('pipelines/') || manifestEntry;
        if (!ok) outside.push(`${relative(root, file)} -> ${target}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
