/**
 * The Compose Specification's JSON schema, as shipped by dclint (a maintained Compose linter
 * whose package carries the upstream compose-spec schema), checked with ajv: an exported
 * compose file is validated with nothing beyond `npm ci`. `docker-compose config` runs in
 * addition where it is installed (compose.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';

// dclint's `exports` map hides its schemas/ folder, so the file is found beside its package.json.
const require = createRequire(import.meta.url);
export const COMPOSE_SCHEMA_FILE = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');

/**
 * The schema names its draft as https://json-schema.org/draft-07/schema, a spelling ajv does not
 * register (it knows http://json-schema.org/draft-07/schema#); draft-07 is ajv's default, so the
 * declaration is dropped. The schema's union types (`type: [string, number]`) are deliberate.
 */
function compile() {
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(COMPOSE_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  return new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false }).compile(schema);
}

let validate: ReturnType<typeof compile> | undefined;

/** The schema's complaints about a parsed compose file, one line each; [] when it conforms. */
export function composeSpecErrors(compose: unknown): string[] {
  validate ??= compile();
  if (validate(compose)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

export const HAS_DOCKER_COMPOSE = (() => {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** docker-compose's own validation (no engine needed); throws with its message when it rejects. */
export function dockerComposeConfig(dir: string): void {
  try {
    execFileSync('docker-compose', ['-f', 'compose.yaml', 'config', '-q'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`docker-compose rejected ${dir}/compose.yaml:\n${err.stderr?.toString() ?? err.message}`);
  }
}
