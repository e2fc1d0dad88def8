/**
 * `npm run docs:scenario`: writes schema/scenario.schema.json and the README's scenario
 * reference from the zod schema (src/scenario/schema.ts). test/scenario/reference.test.ts
 * fails until this has been run after a change to the schema.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCHEMA_FILE, scenarioJsonSchema, schemaFileText } from '../src/scenario/json-schema.js';
import { renderReference, withReference } from '../src/scenario/reference.js';

const root = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

writeFileSync(root(SCHEMA_FILE), schemaFileText());
const readme = readFileSync(root('README.md'), 'utf8');
writeFileSync(root('README.md'), withReference(readme, renderReference(scenarioJsonSchema())));
process.stderr.write(`wrote ${SCHEMA_FILE} and the scenario reference in README.md\n`);
