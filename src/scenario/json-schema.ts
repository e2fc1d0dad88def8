/**
 * The scenario format as a JSON Schema, generated from the zod schema (schema.ts) so that the
 * two cannot drift: `ina schema` prints it, schema/scenario.schema.json is it (a test keeps the
 * file current), and editors check scenario files against it through the YAML language
 * server's `# yaml-language-server: $schema=...` line.
 *
 * It describes what a file may say (zod's input side), with every default and range. Checks
 * that need more than one key or the topology (hosts agreeing with leaves × hostsPerLeaf,
 * node names existing, whole elements of a dtype) are the loader's alone.
 */
import { z } from 'zod';
import { ScenarioSchema } from './schema.js';

/** JSON Schema draft-07: the draft every YAML language server and ajv understand by default. */
export type JsonSchema = Record<string, unknown>;

export function scenarioJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(ScenarioSchema, {
    io: 'input',
    target: 'draft-7',
    override(ctx) {
      const json = ctx.jsonSchema as JsonSchema;
      const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
      // zod leaves out the default of a transformed value (byte sizes): it is the output's;
      // here it is also a valid input (a number of bytes), and a reader wants to see it.
      if (def.type === 'default' && !('default' in json)) json.default = def.defaultValue;
      // z.int() bounds itself by the safe integers; that says nothing a reader needs.
      if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
      if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
    },
  }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'ina scenario',
    description: 'A scenario file of ina, the programmable-switch emulator (`ina run FILE.yaml`). Generated from src/scenario/schema.ts by `npm run docs:scenario`.',
    ...rest,
  };
}

/** Where the schema is committed, relative to the package root (scenarios/*.yaml point to it). */
export const SCHEMA_FILE = 'schema/scenario.schema.json';

/** The committed file's text: `ina schema` prints the same. */
export function schemaFileText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
