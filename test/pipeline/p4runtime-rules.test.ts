import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import { ControlPlaneError, type ControlPlaneCode, type Update } from '../../src/pipeline/control-plane.js';
import { Meter } from '../../src/pipeline/externs/meter.js';
import { TableError, type FieldMatch } from '../../src/pipeline/match-types.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { defineProgram, type PipelineEnv } from '../../src/pipeline/program.js';
import { readU16, readU32 } from '../../src/wire/bytes.js';
import { makeFrame, OFF_DST, OFF_DSTPORT, OFF_PROTOCOL } from '../../src/wire/common-header.js';

// The control plane's departures from P4Runtime (spec sections on "don't care" matches and on
// the default entry) closed by issue 11 item 8, and RFC 2698's burst sizes for meters.

function env(): PipelineEnv {
  return { switchName: 'sw', seed: 5, rng: createRng(5), clock: new SimClock(), portCount: 8, queueBytes: () => 0, options: {} };
}

/**
 * acl: lpm dst (32 bits) + ternary protocol (8) + range dstPort (16); default forward(port 6)
 * always: keyless, default forward(port 3)
 */
const rulesProgram = defineProgram<Record<string, never>>({
  name: 'p4runtime-rules',
  description: 'tables exercising P4Runtime write rules',
  metadata: () => ({}),
  build(p) {
    const common = declareCommonHeader(p);
    p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
    const forward = p.action('forward', [{ name: 'port', width: 9 }], (pkt, params) => pkt.sendToPort(params[0]!));
    const acl = p.table({
      name: 'acl',
      keys: [
        { name: 'dst', match: 'lpm', width: 32, read: (pkt) => readU32(pkt.buf, OFF_DST) },
        { name: 'protocol', match: 'ternary', width: 8, read: (pkt) => pkt.buf[OFF_PROTOCOL]! },
        { name: 'dstPort', match: 'range', width: 16, read: (pkt) => readU16(pkt.buf, OFF_DSTPORT) },
      ],
      actions: [forward],
      defaultAction: forward,
      defaultParams: [6],
      size: 16,
    });
    const always = p.table({ name: 'always', keys: [], actions: [forward], defaultAction: forward, defaultParams: [3], size: 1 });
    return {
      ingress(pkt) {
        if (pkt.buf[OFF_PROTOCOL] === 99) always.apply(pkt);
        else acl.apply(pkt);
      },
    };
  },
});

function codeOf(fn: () => unknown): { code: ControlPlaneCode; message: string; field?: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ControlPlaneError);
    const c = e as ControlPlaneError;
    return { code: c.code, message: c.message, ...(c.field !== undefined ? { field: c.field } : {}) };
  }
  throw new Error('expected a ControlPlaneError, nothing was thrown');
}

const aclInsert = (match: Record<string, FieldMatch>, priority = 1): Update => ({
  type: 'INSERT',
  entity: { kind: 'tableEntry', table: 'acl', match, priority, action: { name: 'forward', params: [1] } },
});

/** The port a frame of this protocol leaves by, or null if dropped. */
function portFor(pipe: Pipeline<Record<string, never>>, protocol: number): number | null {
  let port: number | null = null;
  pipe.process(makeFrame({ protocol, src: 1, dst: 0x0a000001 }, 0), 0, (p) => (port = p));
  return port;
}

describe('P4Runtime: a "don\'t care" field must be omitted, not spelled out', () => {
  it('a ternary mask of 0, an lpm prefix length of 0 and a full range are INVALID_ARGUMENT naming the field', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 2 }), (priority, which) => {
        const pipe = new Pipeline(rulesProgram, env());
        const [field, m]: [string, FieldMatch] = [
          ['protocol', { kind: 'ternary', value: 0, mask: 0 }] as [string, FieldMatch],
          ['dst', { kind: 'lpm', value: 0, prefixLen: 0 }] as [string, FieldMatch],
          ['dstPort', { kind: 'range', low: 0, high: 0xffff }] as [string, FieldMatch],
        ][which]!;
        const e = codeOf(() => pipe.controlPlane.write([aclInsert({ [field]: m }, priority)]));
        expect(e.code).toBe('INVALID_ARGUMENT');
        expect(e.field).toBe(field);
        expect(e.message).toContain('omit the field');
        expect(pipe.controlPlane.readTableEntries('acl')).toEqual([]);
        // reads that name an entry follow the same rule
        expect(codeOf(() => pipe.controlPlane.readDirectCounter('acl', { [field]: m }, priority)).code).toBe('INVALID_ARGUMENT');
      }),
    );
  });

  it('the omitted spelling is accepted, and so are the nearest real matches (mask 1, /1, a range one short)', () => {
    const pipe = new Pipeline(rulesProgram, env());
    pipe.controlPlane.write([
      aclInsert({}, 1),
      aclInsert({ protocol: { kind: 'ternary', value: 0, mask: 1 } }, 2),
      aclInsert({ dst: { kind: 'lpm', value: 0, prefixLen: 1 } }, 3),
      aclInsert({ dstPort: { kind: 'range', low: 0, high: 0xfffe } }, 4),
      aclInsert({ dstPort: { kind: 'range', low: 1, high: 0xffff } }, 5),
    ]);
    expect(pipe.controlPlane.readTableEntries('acl').map((e) => e.priority)).toEqual([1, 2, 3, 4, 5]);
    expect(pipe.controlPlane.readTableEntries('acl')[0]!.match).toEqual({});
  });
});

describe('P4Runtime: keyless tables and the default entry', () => {
  it('INSERT into a keyless table is INVALID_ARGUMENT; its default entry is still writable', () => {
    const pipe = new Pipeline(rulesProgram, env());
    const e = codeOf(() => pipe.controlPlane.write([{ type: 'INSERT', entity: { kind: 'tableEntry', table: 'always', action: { name: 'forward', params: [1] } } }]));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('table always has no key fields');
    expect(portFor(pipe, 99)).toBe(3);
    pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'always', isDefault: true, action: { name: 'forward', params: [4] } } }]);
    expect(portFor(pipe, 99)).toBe(4);
  });

  it('a default-entry write with a match or a priority is INVALID_ARGUMENT and changes nothing', () => {
    const pipe = new Pipeline(rulesProgram, env());
    const action = { name: 'forward', params: [2] };
    const withMatch = codeOf(() =>
      pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'acl', isDefault: true, match: { protocol: { kind: 'ternary', value: 1, mask: 0xff } }, action } }]),
    );
    expect(withMatch).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'protocol' });
    expect(withMatch.message).toContain('takes no match');
    const withPriority = codeOf(() => pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'acl', isDefault: true, priority: 7, action } }]));
    expect(withPriority).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'priority' });
    expect(portFor(pipe, 17)).toBe(6);
  });

  it('MODIFY of the default entry with no action resets it to the program\'s default', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 5 }), (ports) => {
        const pipe = new Pipeline(rulesProgram, env());
        for (const port of ports) {
          pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'acl', isDefault: true, action: { name: 'forward', params: [port] } } }]);
          expect(portFor(pipe, 17)).toBe(port);
        }
        pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'acl', isDefault: true } }]);
        expect(portFor(pipe, 17)).toBe(6);
        pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'always', isDefault: true } }]);
        expect(portFor(pipe, 99)).toBe(3);
      }),
    );
  });
});

describe('RFC 2698: committed and peak burst sizes must be greater than 0', () => {
  it('a CBS or PBS of 0 is INVALID_ARGUMENT naming the meter and the burst; the index stays as it was', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 9000 }), fc.boolean(), (cir, burst, zeroCommitted) => {
        const m = new Meter('police', 2);
        const config = { cir, pir: cir, cburst: zeroCommitted ? 0 : burst, pburst: zeroCommitted ? burst : 0 };
        let err: unknown;
        try {
          m.configure(1, config);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(TableError);
        expect((err as TableError).code).toBe('INVALID_ARGUMENT');
        expect((err as TableError).message).toMatch(new RegExp(`^meter police: index 1: ${zeroCommitted ? 'cburst' : 'pburst'} must be greater than 0`));
        expect(m.config(1)).toBeUndefined();
        m.configure(1, { ...config, cburst: burst, pburst: burst });
        expect(m.config(1)).toEqual({ cir, pir: cir, cburst: burst, pburst: burst });
      }),
    );
  });
});
