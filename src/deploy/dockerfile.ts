/**
 * The project's image. The Dockerfile lives once, at the project root (so `docker build -t
 * ina:latest .` works there); an export copies it into its directory and points the build at
 * the project root as context, so the export directory needs nothing else.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tag every exported container runs. */
export const IMAGE = 'ina:latest';

/** The project root: this file is src/deploy/dockerfile.ts. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function dockerfileText(): string {
  return readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
}

/** Forward slashes whatever the host, as compose files and shells expect. */
function posix(p: string): string {
  return p.split(sep).join('/');
}

/**
 * Compose's `build` section for an export written to `outDir`: the context is the project root
 * relative to the compose file; the Dockerfile is the export's copy, relative to the context
 * (compose resolves `dockerfile` against the context, and builders accept one outside it).
 */
export function buildSection(outDir: string): { context: string; dockerfile: string } {
  const out = resolve(outDir);
  return { context: posix(relative(out, PROJECT_ROOT)) || '.', dockerfile: posix(relative(PROJECT_ROOT, join(out, 'Dockerfile'))) };
}
