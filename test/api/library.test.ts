/**
 * The library entry point, imported by the package's own name as a user's project would
 * (package.json `exports` lets a package import itself): load and validate a scenario, run it,
 * read the report, and define a program and run it on a fabric.
 */
import { describe, expect, it } from 'vitest';
import {
  Fabric,
  ScenarioError,
  buildTopology,
  declareCommonHeader,
  declareForwarding,
  defineProgram,
  makeFrame,
  OFF_PROTOCOL,
  nodeByName,
  parseScenario,
  renderReport,
  runScenario,
  verifyCommonHeader,
  type AllreduceResult,
  type Report,
  type SimClock,
} from 'ina-emulator';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../cli/helpers.js';

const SCENARIO = `
name: library
mode: sim
topology: { kind: star, hosts: 4 }
links: { rateGbps: 100 }
workloads:
  - kind: allreduce
    algorithms: [ring, switchml]
    bytes: 64KiB
    iterations: 1
`;

describe("the package's entry point", () => {
  it('resolves by the package name to src/index.ts', () => {
    const require = createRequire(import.meta.url);
    expect(require('ina-emulator/package.json').name).toBe('ina-emulator');
  });

  it('loads, validates and runs a scenario, and gives its report and table', async () => {
    const scenario = parseScenario(SCENARIO, 'library.yaml');
    expect(scenario.switches.aggregation.slots).toBe(512); // defaults filled in
    const report: Report = await runScenario(scenario);
    const runs = report.runs as AllreduceResult[];
    expect(runs.map((r) => [r.algorithm, r.workers, r.correct])).toEqual([
      ['ring', 4, true],
      ['switchml', 4, true],
    ]);
    expect(renderReport(report)).toContain('switchml');
  });

  it('rejects a bad scenario naming the file, the key path and what was expected', () => {
    expect(() => parseScenario('name: x\ntopology: { kind: ring }\n', 'bad.yaml')).toThrow(ScenarioError);
    expect(() => parseScenario('name: x\ntopology: { kind: ring }\n', 'bad.yaml')).toThrow(/bad\.yaml.*topology\.kind.*expected one of star, leaf-spine, fat-tree/s);
  });

  it('runs a program defined with defineProgram on a fabric: a firewall that drops one protocol and routes the rest', async () => {
    const BLOCKED = 99;
    const firewall = defineProgram<Record<string, never>>({
      name: 'firewall',
      description: `drops protocol ${BLOCKED}, routes everything else`,
      metadata: () => ({}),
      build(p) {
        const common = declareCommonHeader(p);
        p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
        const routes = declareForwarding(p, 'l3'); // the table the routing controller fills
        return {
          ingress(pkt) {
            if (pkt.buf[OFF_PROTOCOL] === BLOCKED) pkt.markToDrop();
            else routes.apply(pkt);
          },
        };
      },
    });
    const topology = buildTopology({ kind: 'star', hosts: 2 });
    const fabric = await Fabric.build({ topology, mode: 'sim', seed: 1, links: {}, program: firewall });
    try {
      const h0 = fabric.hosts.get('h0')!;
      const h1 = fabric.hosts.get('h1')!;
      const got: number[] = [];
      for (const protocol of [17, BLOCKED]) h1.bind(protocol, (f) => got.push(f[OFF_PROTOCOL]!));
      const dst = nodeByName(topology, 'h1').address;
      for (const protocol of [17, BLOCKED, 17]) h0.send(makeFrame({ protocol, src: h0.address, dst }, 8));
      (fabric.clock as SimClock).runAll();
      expect(got).toEqual([17, 17]);
      expect(fabric.switches.get('s0')!.drops().table).toBe(1);
    } finally {
      await fabric.close();
    }
  });
});

describe("the README's library example", () => {
  it('runs as written, through the package name', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /## Library\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, 'a ```ts block in the Library section').toBeDefined();
    // inside the package (not under node_modules), where a file may import the package by name
    const dir = mkdtempSync(join(ROOT, '.readme-example-'));
    try {
      writeFileSync(join(dir, 'example.ts'), example!);
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(dir, 'example.ts')], { cwd: ROOT, encoding: 'utf8' });
      expect(out).toMatch(/^true /);
      expect(out).toContain('all runs correct');
      expect(out).toMatch(/h1 got \d+ bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
