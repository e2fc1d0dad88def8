/**
 * A program and a workload added the way a new file in pipelines/ or hosts/ adds one: a
 * descriptor, put in a manifest. Everything else (schema, checks, program choice, loaders, the
 * table) must follow from the descriptors alone. The scheme is the README's worked example.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineProgramDescriptor, defineWorkloadDescriptor } from '../../src/manifest/descriptor.js';
import { manifestOf } from '../../src/manifest/manifest.js';
import { BUILTIN_PROGRAMS, BUILTIN_WORKLOADS, MANIFEST } from '../../src/manifest/builtin.js';
import { commonWorkloadFields, HostSelectorSchema, int } from '../../src/manifest/fields.js';
import { validateScenario, ScenarioError } from '../../src/scenario/load.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { runScenario } from '../../src/run/runner.js';
import { renderReport } from '../../src/report/table.js';
import type { RunResult } from '../../src/report/types.js';

/** Packet spraying: a random member of the route's group, redrawn every `sprayEvery` packets. */
const spray = defineProgramDescriptor({
  name: 'spray',
  spreads: 'per packet at random (spray)',
  switchOptions: {
    sprayEvery: int(1).default(1).describe('spray: packets sent on one drawn member before the next draw'),
  },
  load: async () => {
    const { forwardingProgram } = await import('../../pipelines/lib/forwarding.js');
    return forwardingProgram(
      'spray',
      (p) => {
        const random = p.random('spray');
        const every = p.env.options.sprayEvery as number;
        let pick = 0;
        let left = 0;
        return {
          kind: 'spray',
          choose(_pkt, g) {
            if (left === 0 || pick >= g.members.length) {
              pick = random.read(0, g.members.length - 1);
              left = every;
            }
            left--;
            return pick;
          },
        };
      },
      'LPM routing to ECMP groups, a random member every sprayEvery packets',
    );
  },
});

interface Census {
  hosts: number;
  scheme: string;
}

/** Counts who takes part and on which scheme: the smallest workload there is. */
const census = defineWorkloadDescriptor({
  kind: 'census',
  schema: () =>
    z.strictObject({
      kind: z.literal('census').describe('counts the hosts taking part'),
      ...commonWorkloadFields,
      members: HostSelectorSchema.default('all').describe('the hosts counted'),
    }),
  hosts: { key: 'members', min: 1 },
  table: {
    isRow: (r) => r.workload === 'census',
    lines: (rows) => rows.map((r) => `census: ${String((r as unknown as Census).hosts)} hosts on ${(r as unknown as Census).scheme}`),
  },
  load: async () => ({
    kind: 'census',
    run: async (ctx) => [{ workload: 'census', correct: true, hosts: ctx.hosts.length, scheme: ctx.loadBalancing ?? '?' } as RunResult],
  }),
});

const toy = manifestOf([...BUILTIN_PROGRAMS, spray], [...BUILTIN_WORKLOADS, census]);

const scenario = {
  name: 'toy',
  mode: 'sim',
  topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
  switches: { loadBalancing: 'spray', sprayEvery: 2 },
  workloads: [{ kind: 'pingall', count: 2 }, { kind: 'census', members: 3 }],
};

describe('a program and a workload registered through their descriptors', () => {
  it('are unknown to the shipped manifest', () => {
    expect(() => validateScenario(scenario)).toThrow(ScenarioError);
    expect(() => validateScenario(scenario)).toThrow(/switches\.loadBalancing: expected one of ecmp, flowlet, drill, conga/);
  });

  it('add their keys, defaults and kinds to the scenario format', () => {
    const s = validateScenario(scenario, 'toy.yaml', undefined, toy);
    expect(s.switches).toMatchObject({ loadBalancing: 'spray', sprayEvery: 2, flowletGapUs: 100 });
    const plain = validateScenario({ ...scenario, switches: { loadBalancing: 'spray' } }, 'toy.yaml', undefined, toy);
    expect((plain.switches as Record<string, unknown>).sprayEvery).toBe(1);
    const json = z.toJSONSchema(scenarioSchema(toy), { io: 'input' }) as unknown as { properties: { switches: { properties: Record<string, { enum?: string[]; description?: string }> } } };
    const lb = json.properties.switches.properties.loadBalancing!;
    expect(lb.enum).toEqual(['ecmp', 'flowlet', 'drill', 'conga', 'spray']);
    expect(lb.description).toMatch(/per packet at random \(spray\)$/);
  });

  it('have their topology checks run from the descriptor', () => {
    const tooMany = { ...scenario, workloads: [{ kind: 'census', members: 9 }] };
    expect(() => validateScenario(tooMany, 'toy.yaml', undefined, toy)).toThrow(/workloads\[0\]\.members: expected at most 4 members/);
  });

  it('run: the scheme forwards every ping, the workload reports, and the table shows its row', async () => {
    const report = await runScenario(validateScenario(scenario, 'toy.yaml', undefined, toy), { manifest: toy });
    expect(report.runs.map((r) => [r.workload, r.correct])).toEqual([['pingall', true], ['census', true]]);
    expect(report.runs[1]).toMatchObject({ hosts: 3, scheme: 'spray' });
    expect(report.switches.map((s) => s.program)).toEqual(report.switches.map(() => 'spray'));
    expect(report.switches.reduce((n, s) => n + s.packetsIn, 0)).toBeGreaterThan(0);
    expect(renderReport(report, toy)).toContain('census: 3 hosts on spray');
  });
});

describe('the manifest', () => {
  it('picks the narrowest program that serves what the workloads need', () => {
    const ar = (algorithms: string[]) => ({ kind: 'allreduce', algorithms });
    expect(MANIFEST.programFor('drill', [ar(['ring'])])).toBe('drill');
    expect(MANIFEST.programFor('drill', [ar(['ring', 'switchml'])])).toBe('switchml');
    expect(MANIFEST.programFor('ecmp', [ar(['switchml']), ar(['sharp'])])).toBe('sharp');
    expect(MANIFEST.programFor('ecmp', [{ kind: 'flows' }])).toBe('ecmp');
  });

  it('refuses two descriptors of one name and two meanings of one switches key', () => {
    expect(() => manifestOf([...BUILTIN_PROGRAMS, { ...spray, name: 'ecmp' }], BUILTIN_WORKLOADS)).toThrow(/two switch programs named ecmp/);
    const clash = defineProgramDescriptor({ name: 'gap', switchOptions: { flowletGapUs: int(1).default(5) }, load: spray.load });
    expect(() => manifestOf([...BUILTIN_PROGRAMS, clash], BUILTIN_WORKLOADS)).toThrow(/switches\.flowletGapUs is declared by gap/);
    expect(() => manifestOf([...BUILTIN_PROGRAMS], [...BUILTIN_WORKLOADS, census, census])).toThrow(/two workloads named census/);
  });
});
