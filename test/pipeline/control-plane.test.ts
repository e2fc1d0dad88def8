import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import ecmp from '../../pipelines/ecmp.js';
import l3 from '../../pipelines/l3.js';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import { ControlPlaneError, type ControlPlaneCode, type Update } from '../../src/pipeline/control-plane.js';
import type { FieldMatch } from '../../src/pipeline/match-types.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { defineProgram, type PipelineEnv, type ProgramFactory } from '../../src/pipeline/program.js';
import { readU16, readU32 } from '../../src/wire/bytes.js';
import { makeFrame, OFF_DST, OFF_DSTPORT, OFF_PROTOCOL } from '../../src/wire/common-header.js';

function env(portCount = 8, options: Record<string, unknown> = {}): PipelineEnv {
  return { switchName: 'sw', seed: 3, rng: createRng(3), clock: new SimClock(), portCount, queueBytes: () => 0, options };
}

const ROUTE_SIZE = 4;

/**
 * route: exact on dst (direct counter), size 4, actions allow(port:9) and set_two(a:8, b:16)
 * acl:   ternary protocol + range dstPort, actions allow and deny
 * registers reg12 (12 bits x 8) and reg32 (signed 32 x 4); counter ctr (4); meter m (2)
 */
const cpProgram = defineProgram<Record<string, never>>({
  name: 'cp-test',
  description: 'control-plane test program',
  metadata: () => ({}),
  build(p) {
    const common = declareCommonHeader(p);
    p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
    const allow = p.action('allow', [{ name: 'port', width: 9 }], (pkt, params) => pkt.sendToPort(params[0]!));
    const deny = p.action('deny', [], (pkt) => pkt.markToDrop());
    const setTwo = p.action('set_two', [{ name: 'a', width: 8 }, { name: 'b', width: 16 }], () => {});
    const route = p.table({
      name: 'route',
      keys: [{ name: 'hdr.common.dst', match: 'exact', width: 32, read: (pkt) => readU32(pkt.buf, OFF_DST) }],
      actions: [allow, setTwo],
      size: ROUTE_SIZE,
      directCounter: true,
    });
    const acl = p.table({
      name: 'acl',
      keys: [
        { name: 'hdr.common.protocol', match: 'ternary', width: 8, read: (pkt) => pkt.buf[OFF_PROTOCOL]! },
        { name: 'hdr.common.dstPort', match: 'range', width: 16, read: (pkt) => readU16(pkt.buf, OFF_DSTPORT) },
      ],
      actions: [allow, deny],
      size: 8,
    });
    p.register('reg12', 12, 8);
    p.register('reg32', 32, 4, true);
    const ctr = p.counter('ctr', 4);
    p.meter('m', 2);
    p.maxPasses = 3;
    return {
      ingress(pkt) {
        ctr.count(pkt.ingressPort & 3, pkt.buf.length);
        route.apply(pkt);
        acl.apply(pkt);
      },
    };
  },
});

/** Runs fn and returns the ControlPlaneError it throws (failing the test if it throws anything else). */
function cpError(fn: () => unknown): ControlPlaneError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ControlPlaneError);
    return e as ControlPlaneError;
  }
  throw new Error('expected a ControlPlaneError, nothing was thrown');
}

function expectCpError(fn: () => unknown, code: ControlPlaneCode, ...mentions: string[]): ControlPlaneError {
  const e = cpError(fn);
  expect(e.code).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

const routeUpdate = (type: Update['type'], dst: number, action?: { name: string; params?: Record<string, number> | number[] }): Update => ({
  type,
  entity: { kind: 'tableEntry', table: 'route', match: { 'hdr.common.dst': { kind: 'exact', value: dst } }, action },
});

describe('table entries: INSERT / MODIFY / DELETE', () => {
  it('behaves like a map of entries (read back, forwarding, sizes, error codes), for any sequence of writes', () => {
    type Op = { type: Update['type']; dst: number; port: number };
    const opArb: fc.Arbitrary<Op> = fc.record({
      type: fc.constantFrom<Update['type']>('INSERT', 'INSERT', 'MODIFY', 'DELETE'),
      dst: fc.integer({ min: 0, max: 6 }),
      port: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const pipe = new Pipeline(cpProgram, env());
        const cp = pipe.controlPlane;
        const model = new Map<number, number>();
        for (const op of ops) {
          let want: ControlPlaneCode | null = null;
          if (op.type === 'INSERT') {
            if (model.has(op.dst)) want = 'ALREADY_EXISTS';
            else if (model.size >= ROUTE_SIZE) want = 'RESOURCE_EXHAUSTED';
          } else if (!model.has(op.dst)) want = 'NOT_FOUND';
          const u = routeUpdate(op.type, op.dst, op.type === 'DELETE' ? undefined : { name: 'allow', params: { port: op.port } });
          if (want === null) {
            cp.write([u]);
            if (op.type === 'DELETE') model.delete(op.dst);
            else model.set(op.dst, op.port);
          } else {
            const e = expectCpError(() => cp.write([u]), want, 'update 0', 'route');
            expect(e.table).toBe('route');
            expect(e.updateIndex).toBe(0);
          }
          expect(cp.readTableEntries('route')).toEqual(
            [...model].map(([dst, port]) => ({
              kind: 'tableEntry',
              table: 'route',
              match: { 'hdr.common.dst': { kind: 'exact', value: dst } },
              priority: 0,
              action: { name: 'allow', params: [port] },
            })),
          );
        }
        expect(pipe.resources().tables.find((t) => t.name === 'route')).toEqual({
          name: 'route',
          keys: ['hdr.common.dst:exact'],
          size: ROUTE_SIZE,
          entries: model.size,
          selector: null,
        });
        // the data plane agrees with what was read back
        for (let dst = 0; dst <= 6; dst++) {
          const out: number[] = [];
          pipe.process(makeFrame({ protocol: 1, src: 9, dst }, 0), 0, (port) => out.push(port));
          expect(out).toEqual(model.has(dst) ? [model.get(dst)!] : []);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reads back ternary/range entries with their priority, and all tables when no name is given', () => {
    const pipe = new Pipeline(cpProgram, env());
    pipe.controlPlane.write([
      {
        type: 'INSERT',
        entity: {
          kind: 'tableEntry',
          table: 'acl',
          match: { 'hdr.common.protocol': { kind: 'ternary', value: 0x10, mask: 0xf0 }, 'hdr.common.dstPort': { kind: 'range', low: 10, high: 20 } },
          priority: 10,
          action: { name: 'deny' },
        },
      },
      { type: 'INSERT', entity: { kind: 'tableEntry', table: 'acl', match: { 'hdr.common.dstPort': { kind: 'range', low: 5, high: 6 } }, priority: 3, action: { name: 'allow', params: [2] } } },
      routeUpdate('INSERT', 7, { name: 'set_two', params: { b: 300, a: 1 } }),
    ]);
    expect(pipe.controlPlane.readTableEntries('acl')).toEqual([
      {
        kind: 'tableEntry',
        table: 'acl',
        match: { 'hdr.common.protocol': { kind: 'ternary', value: 0x10, mask: 0xf0 }, 'hdr.common.dstPort': { kind: 'range', low: 10, high: 20 } },
        priority: 10,
        action: { name: 'deny', params: [] },
      },
      { kind: 'tableEntry', table: 'acl', match: { 'hdr.common.dstPort': { kind: 'range', low: 5, high: 6 } }, priority: 3, action: { name: 'allow', params: [2] } },
    ]);
    // named parameters are stored in declaration order
    expect(pipe.controlPlane.readTableEntries('route')[0]!.action).toEqual({ name: 'set_two', params: [1, 300] });
    expect(pipe.controlPlane.readTableEntries().map((e) => e.table).sort()).toEqual(['acl', 'acl', 'route']);
    // the same ternary match at another priority is another entry; deleting needs the priority
    expectCpError(
      () => pipe.controlPlane.write([{ type: 'DELETE', entity: { kind: 'tableEntry', table: 'acl', match: { 'hdr.common.dstPort': { kind: 'range', low: 5, high: 6 } }, priority: 4 } }]),
      'NOT_FOUND',
      'acl',
    );
    pipe.controlPlane.write([{ type: 'DELETE', entity: { kind: 'tableEntry', table: 'acl', match: { 'hdr.common.dstPort': { kind: 'range', low: 5, high: 6 } }, priority: 3 } }]);
    expect(pipe.controlPlane.readTableEntries('acl')).toHaveLength(1);
  });

  it('a failing update names its index; the updates before it stay applied, the ones after are not', () => {
    const pipe = new Pipeline(cpProgram, env());
    const e = expectCpError(
      () =>
        pipe.controlPlane.write([
          routeUpdate('INSERT', 1, { name: 'allow', params: [1] }),
          routeUpdate('INSERT', 2, { name: 'allow', params: [2] }),
          routeUpdate('INSERT', 1, { name: 'allow', params: [3] }),
          routeUpdate('INSERT', 3, { name: 'allow', params: [3] }),
        ]),
      'ALREADY_EXISTS',
      'update 2',
    );
    expect(e.updateIndex).toBe(2);
    expect(pipe.controlPlane.readTableEntries('route').map((x) => x.match!['hdr.common.dst'])).toEqual([
      { kind: 'exact', value: 1 },
      { kind: 'exact', value: 2 },
    ]);
  });
});

describe('control-plane errors name the table and the field', () => {
  const pipe = new Pipeline(cpProgram, env());
  const cp = pipe.controlPlane;
  const write = (u: Update) => () => cp.write([u]);

  it('unknown table: NOT_FOUND naming it', () => {
    const e = expectCpError(write({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'nope', action: { name: 'allow', params: [1] } } }), 'NOT_FOUND', 'nope');
    expect(e.table).toBe('nope');
  });

  it('unknown key field: INVALID_ARGUMENT naming table and field', () => {
    const e = expectCpError(
      write({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'route', match: { 'hdr.common.src': { kind: 'exact', value: 1 } }, action: { name: 'allow', params: [1] } } }),
      'INVALID_ARGUMENT',
      'route',
      'hdr.common.src',
    );
    expect([e.table, e.field]).toEqual(['route', 'hdr.common.src']);
  });

  it('missing exact field, wrong match kind, value too wide: INVALID_ARGUMENT naming the field', () => {
    const matches: Array<Record<string, FieldMatch>> = [{}, { 'hdr.common.dst': { kind: 'lpm', value: 0, prefixLen: 8 } }, { 'hdr.common.dst': { kind: 'exact', value: 2 ** 32 } }];
    for (const match of matches) {
      const e = expectCpError(write({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'route', match, action: { name: 'allow', params: [1] } } }), 'INVALID_ARGUMENT', 'route', 'hdr.common.dst');
      expect(e.field).toBe('hdr.common.dst');
    }
  });

  it('unknown action: INVALID_ARGUMENT naming table and action', () => {
    const e = expectCpError(write(routeUpdate('INSERT', 1, { name: 'deny' })), 'INVALID_ARGUMENT', 'route', 'deny');
    expect(e.table).toBe('route');
  });

  it('wrong parameter count: INVALID_ARGUMENT naming table, action and the counts', () => {
    expectCpError(write(routeUpdate('INSERT', 1, { name: 'allow', params: [1, 2] })), 'INVALID_ARGUMENT', 'route', 'allow', '1', '2');
    expectCpError(write(routeUpdate('INSERT', 1, { name: 'set_two', params: [1] })), 'INVALID_ARGUMENT', 'route', 'set_two');
    expectCpError(write(routeUpdate('INSERT', 1, { name: 'allow' })), 'INVALID_ARGUMENT', 'route', 'allow');
  });

  it('parameter too wide, negative or fractional: INVALID_ARGUMENT naming the parameter', () => {
    for (const v of [512, -1, 1.5, 2 ** 40, Number.NaN]) {
      const e = expectCpError(write(routeUpdate('INSERT', 1, { name: 'allow', params: [v] })), 'INVALID_ARGUMENT', 'route', 'port', '9 bits');
      expect(e.field).toBe('port');
    }
    // the widest values fit
    cp.write([routeUpdate('INSERT', 1, { name: 'allow', params: [511] }), routeUpdate('INSERT', 2, { name: 'set_two', params: [255, 65535] })]);
    cp.write([routeUpdate('DELETE', 1), routeUpdate('DELETE', 2)]);
  });

  it('missing or unknown named parameter: INVALID_ARGUMENT naming it', () => {
    const e = expectCpError(write(routeUpdate('INSERT', 1, { name: 'set_two', params: { a: 1 } })), 'INVALID_ARGUMENT', 'route', 'set_two', 'b');
    expect(e.field).toBe('b');
    const f = expectCpError(write(routeUpdate('INSERT', 1, { name: 'allow', params: { port: 1, vlan: 2 } })), 'INVALID_ARGUMENT', 'route', 'vlan');
    expect(f.field).toBe('vlan');
  });

  it('duplicate INSERT is ALREADY_EXISTS, DELETE/MODIFY of an absent entry NOT_FOUND, a full table RESOURCE_EXHAUSTED', () => {
    const p = new Pipeline(cpProgram, env());
    const c = p.controlPlane;
    c.write([routeUpdate('INSERT', 1, { name: 'allow', params: [1] })]);
    expectCpError(() => c.write([routeUpdate('INSERT', 1, { name: 'allow', params: [2] })]), 'ALREADY_EXISTS', 'route');
    expectCpError(() => c.write([routeUpdate('DELETE', 9)]), 'NOT_FOUND', 'route');
    expectCpError(() => c.write([routeUpdate('MODIFY', 9, { name: 'allow', params: [2] })]), 'NOT_FOUND', 'route');
    c.write([2, 3, 4].map((d) => routeUpdate('INSERT', d, { name: 'allow', params: [d] })));
    expectCpError(() => c.write([routeUpdate('INSERT', 5, { name: 'allow', params: [1] })]), 'RESOURCE_EXHAUSTED', 'route', String(ROUTE_SIZE));
    expect(c.readTableEntries('route')).toHaveLength(ROUTE_SIZE);
  });

  it('priority rules: ternary tables need one, exact tables refuse one', () => {
    expectCpError(
      write({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'acl', match: { 'hdr.common.protocol': { kind: 'ternary', value: 1, mask: 0xff } }, action: { name: 'deny' } } }),
      'INVALID_ARGUMENT',
      'acl',
      'priority',
    );
    expectCpError(
      write({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'route', match: { 'hdr.common.dst': { kind: 'exact', value: 1 } }, priority: 5, action: { name: 'allow', params: [1] } } }),
      'INVALID_ARGUMENT',
      'route',
      'priority',
    );
  });

  it('entries of a direct table need an action; default entries only MODIFY (one with no action resets it)', () => {
    expectCpError(write(routeUpdate('INSERT', 1)), 'INVALID_ARGUMENT', 'route', 'action');
    expectCpError(write({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'route', memberId: 1 } }), 'INVALID_ARGUMENT', 'route');
    expectCpError(write({ type: 'DELETE', entity: { kind: 'tableEntry', table: 'route', isDefault: true } }), 'INVALID_ARGUMENT', 'route', 'default');
    expect(write({ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'route', isDefault: true } })).not.toThrow();
  });

  it('read errors are ControlPlaneErrors too (not the table\'s own error type)', () => {
    const p = new Pipeline(cpProgram, env());
    const c = p.controlPlane;
    c.write([routeUpdate('INSERT', 1, { name: 'allow', params: [1] })]);
    expectCpError(() => c.readDirectCounter('nope', {}), 'NOT_FOUND', 'nope');
    expectCpError(() => c.readDirectCounter('route', { 'hdr.common.dst': { kind: 'exact', value: 2 } }), 'NOT_FOUND', 'route');
    expectCpError(() => c.readDirectCounter('route', { 'hdr.common.bogus': { kind: 'exact', value: 1 } }), 'INVALID_ARGUMENT', 'route', 'hdr.common.bogus');
    // a bad priority or match value comes from the match table; the API still answers in its own vocabulary
    expectCpError(() => c.readDirectCounter('route', { 'hdr.common.dst': { kind: 'exact', value: 1 } }, 5), 'INVALID_ARGUMENT', 'route', 'priority');
    expectCpError(() => c.readDirectCounter('route', { 'hdr.common.dst': { kind: 'exact', value: -1 } }), 'INVALID_ARGUMENT', 'route', 'hdr.common.dst');
  });
});

describe('action profiles on a selector table (ecmp)', () => {
  const PREFIX_A = 0x0a000000; // 10.0.0.0/8 -> group 1
  const PREFIX_B = 0x14000000; // 20.0.0.0/8 -> member 4
  const member = (memberId: number, port: number, type: Update['type'] = 'INSERT'): Update => ({
    type,
    entity: { kind: 'actionProfileMember', profile: 'ecmp_selector', memberId, action: { name: 'forward', params: { port } } },
  });
  const group = (groupId: number, members: number[], type: Update['type'] = 'INSERT'): Update => ({
    type,
    entity: { kind: 'actionProfileGroup', profile: 'ecmp_selector', groupId, members: members.map((memberId) => ({ memberId })) },
  });
  const route = (type: Update['type'], prefix: number, ref: { groupId?: number; memberId?: number } = {}): Update => ({
    type,
    entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: prefix, prefixLen: 8 } }, ...ref },
  });

  function setup(): Pipeline {
    const pipe = new Pipeline(ecmp, env(8));
    pipe.controlPlane.write([member(1, 1), member(2, 2), member(3, 3), member(4, 4), member(5, 5), group(1, [1, 2, 3]), route('INSERT', PREFIX_A, { groupId: 1 }), route('INSERT', PREFIX_B, { memberId: 4 })]);
    return pipe;
  }
  const forwardOnce = (pipe: Pipeline, t: { src: number; dst: number; srcPort: number; dstPort: number; protocol: number }): number[] => {
    const out: number[] = [];
    pipe.process(makeFrame({ ...t, ttl: 64 }, 0), 0, (port) => out.push(port));
    return out;
  };

  it('deleting a member used by a group, or a group/member used by an entry, is FAILED_PRECONDITION', () => {
    const pipe = setup();
    const cp = pipe.controlPlane;
    expectCpError(() => cp.write([member(1, 0, 'DELETE')]), 'FAILED_PRECONDITION', 'ecmp_selector', 'member 1');
    expectCpError(() => cp.write([group(1, [], 'DELETE')]), 'FAILED_PRECONDITION', 'ecmp_selector', 'group 1');
    expectCpError(() => cp.write([member(4, 0, 'DELETE')]), 'FAILED_PRECONDITION', 'ecmp_selector', 'member 4');
    cp.write([member(5, 0, 'DELETE')]); // unused: fine
    // once the entry is gone, the group can go, and then its members
    cp.write([route('DELETE', PREFIX_A), group(1, [], 'DELETE'), member(1, 0, 'DELETE')]);
    // MODIFY of the other entry from member 4 to member 2 releases member 4
    cp.write([route('MODIFY', PREFIX_B, { memberId: 2 })]);
    cp.write([member(4, 0, 'DELETE')]);
    expectCpError(() => cp.write([member(2, 0, 'DELETE')]), 'FAILED_PRECONDITION', 'member 2');
  });

  it('a refused entry holds no reference to its group', () => {
    const pipe = setup();
    const cp = pipe.controlPlane;
    expectCpError(() => cp.write([route('INSERT', PREFIX_A, { groupId: 1 })]), 'ALREADY_EXISTS', 'ipv4_lpm');
    expectCpError(() => cp.write([route('MODIFY', 0x1e000000, { groupId: 1 })]), 'NOT_FOUND', 'ipv4_lpm');
    cp.write([route('DELETE', PREFIX_A)]);
    cp.write([group(1, [], 'DELETE')]); // would be FAILED_PRECONDITION if a failed write had leaked a reference
  });

  it('selector entries name an existing member or group, never an action', () => {
    const pipe = setup();
    const cp = pipe.controlPlane;
    expectCpError(() => cp.write([route('INSERT', 0x1e000000, { groupId: 99 })]), 'NOT_FOUND', 'group 99');
    expectCpError(() => cp.write([route('INSERT', 0x1e000000, { memberId: 99 })]), 'NOT_FOUND', 'member 99');
    expectCpError(
      () => cp.write([{ type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: 0x1e000000, prefixLen: 8 } }, action: { name: 'drop' } } }]),
      'INVALID_ARGUMENT',
      'ipv4_lpm',
    );
    expectCpError(() => cp.write([route('INSERT', 0x1e000000)]), 'INVALID_ARGUMENT', 'ipv4_lpm');
    expectCpError(() => cp.write([{ type: 'INSERT', entity: { kind: 'actionProfileMember', profile: 'nope', memberId: 9, action: { name: 'forward', params: [1] } } }]), 'NOT_FOUND', 'nope');
    const e = expectCpError(() => cp.write([member(9, 70000)]), 'INVALID_ARGUMENT', 'ecmp_selector', 'port');
    expect(e.field).toBe('port');
    expectCpError(() => cp.write([group(2, [1, 42])]), 'NOT_FOUND', 'member 42');
    expect(cp.readTableEntries('ipv4_lpm')).toEqual([
      { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: PREFIX_A, prefixLen: 8 } }, priority: 0, groupId: 1 },
      { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: PREFIX_B, prefixLen: 8 } }, priority: 0, memberId: 4 },
    ]);
  });

  const tupleArb = (prefix: number) =>
    fc.record({
      src: fc.integer({ min: 0, max: 0xffffffff }),
      dst: fc.integer({ min: 0, max: 0xffffff }).map((low) => (prefix | low) >>> 0),
      srcPort: fc.integer({ min: 0, max: 0xffff }),
      dstPort: fc.integer({ min: 0, max: 0xffff }),
      protocol: fc.integer({ min: 0, max: 255 }),
    });

  it('a group entry forwards each 5-tuple to one port of its members, always the same one', () => {
    const pipe = setup();
    fc.assert(
      fc.property(tupleArb(PREFIX_A), (t) => {
        const a = forwardOnce(pipe, t);
        expect(a).toHaveLength(1);
        expect([1, 2, 3]).toContain(a[0]);
        expect(forwardOnce(pipe, t)).toEqual(a);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(tupleArb(PREFIX_B), (t) => {
        expect(forwardOnce(pipe, t)).toEqual([4]);
      }),
      { numRuns: 100 },
    );
  });

  it('after a group MODIFY, flows only reach the new members', () => {
    const pipe = setup();
    pipe.controlPlane.write([group(1, [2, 5], 'MODIFY')]);
    fc.assert(
      fc.property(tupleArb(PREFIX_A), (t) => {
        expect([2, 5]).toContain(forwardOnce(pipe, t)[0]);
      }),
      { numRuns: 300 },
    );
    // a member MODIFY is seen by the groups that list it
    pipe.controlPlane.write([member(5, 7, 'MODIFY')]);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(forwardOnce(pipe, { src: i, dst: PREFIX_A | 1, srcPort: 1000 + i, dstPort: 80, protocol: 6 })[0]!);
    expect([...seen].sort()).toEqual([2, 7]);
  });

  it('spreads many flows over all members', () => {
    const pipe = setup();
    const counts = new Map<number, number>();
    const flows = 900;
    for (let i = 0; i < flows; i++) {
      const [port] = forwardOnce(pipe, { src: 0x0b000001 + (i % 17), dst: PREFIX_A | (i * 7919) % 0xffffff, srcPort: 10000 + i, dstPort: 4791, protocol: 17 });
      counts.set(port!, (counts.get(port!) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 2, 3]);
    // crc32 over distinct 5-tuples: each member well within a factor 2 of its fair share (300)
    for (const n of counts.values()) expect(n).toBeGreaterThan(150);
  });
});

describe('multicast groups and clone sessions', () => {
  const mc = (type: Update['type'], groupId: number, replicas: Array<{ port: number; instance: number }>): Update => ({
    type,
    entity: { kind: 'multicastGroupEntry', groupId, replicas },
  });

  it('INSERT / MODIFY / DELETE, read back', () => {
    const pipe = new Pipeline(cpProgram, env(4));
    const cp = pipe.controlPlane;
    const replicas = [{ port: 0, instance: 1 }, { port: 3, instance: 1 }, { port: 0, instance: 2 }];
    cp.write([mc('INSERT', 1, replicas), mc('INSERT', 65535, [])]);
    replicas[0] = { port: 2, instance: 9 }; // the engine keeps its own copy
    expect(cp.readMulticastGroups()).toEqual([
      { kind: 'multicastGroupEntry', groupId: 1, replicas: [{ port: 0, instance: 1 }, { port: 3, instance: 1 }, { port: 0, instance: 2 }] },
      { kind: 'multicastGroupEntry', groupId: 65535, replicas: [] },
    ]);
    expect(pipe.resources().multicastGroups).toBe(2);
    cp.write([mc('MODIFY', 1, [{ port: 1, instance: 5 }])]);
    expect(cp.readMulticastGroups()[0]!.replicas).toEqual([{ port: 1, instance: 5 }]);
    cp.write([mc('DELETE', 65535, [])]);
    expect(cp.readMulticastGroups().map((g) => g.groupId)).toEqual([1]);
  });

  it('validates id, ports, repeated replicas and existence; a refused MODIFY changes nothing', () => {
    const pipe = new Pipeline(cpProgram, env(4));
    const cp = pipe.controlPlane;
    cp.write([mc('INSERT', 1, [{ port: 1, instance: 1 }])]);
    for (const id of [0, -1, 65536, 1e9]) expectCpError(() => cp.write([mc('INSERT', id, [])]), 'INVALID_ARGUMENT', `multicast group ${id}`);
    for (const port of [4, -1, 0.5, 0xffff]) {
      expectCpError(() => cp.write([mc('INSERT', 2, [{ port, instance: 0 }])]), 'INVALID_ARGUMENT', 'multicast group 2', `port ${port}`);
    }
    expectCpError(() => cp.write([mc('INSERT', 2, [{ port: 1, instance: 3 }, { port: 2, instance: 3 }, { port: 1, instance: 3 }])]), 'INVALID_ARGUMENT', 'multicast group 2', 'repeated');
    expectCpError(() => cp.write([mc('INSERT', 1, [])]), 'ALREADY_EXISTS', 'multicast group 1');
    expectCpError(() => cp.write([mc('MODIFY', 2, [])]), 'NOT_FOUND', 'multicast group 2');
    expectCpError(() => cp.write([mc('DELETE', 2, [])]), 'NOT_FOUND', 'multicast group 2');
    expectCpError(() => cp.write([mc('MODIFY', 1, [{ port: 9, instance: 1 }])]), 'INVALID_ARGUMENT', 'port 9');
    expect(cp.readMulticastGroups()).toEqual([{ kind: 'multicastGroupEntry', groupId: 1, replicas: [{ port: 1, instance: 1 }] }]);
    // a too-long replica list
    const many = Array.from({ length: pipe.pre.maxReplicas + 1 }, (_, i) => ({ port: i % 4, instance: i }));
    expectCpError(() => cp.write([mc('INSERT', 3, many)]), 'RESOURCE_EXHAUSTED', 'multicast group 3');
  });

  it('a non-integer group id is refused like a non-integer port (INVALID_ARGUMENT)', () => {
    const pipe = new Pipeline(cpProgram, env(4));
    const cp = pipe.controlPlane;
    for (const id of [1.5, Number.NaN]) expectCpError(() => cp.write([mc('INSERT', id, [])]), 'INVALID_ARGUMENT', 'multicast group');
    expect(cp.readMulticastGroups()).toEqual([]);
  });

  it('clone sessions: INSERT / MODIFY / DELETE with port validation', () => {
    const pipe = new Pipeline(cpProgram, env(4));
    const cp = pipe.controlPlane;
    const cs = (type: Update['type'], sessionId: number, port: number): Update => ({ type, entity: { kind: 'cloneSessionEntry', sessionId, port } });
    cp.write([cs('INSERT', 5, 2)]);
    expect(pipe.pre.cloneSessions.get(5)).toBe(2);
    expectCpError(() => cp.write([cs('INSERT', 5, 1)]), 'ALREADY_EXISTS', 'clone session 5');
    expectCpError(() => cp.write([cs('INSERT', 6, 4)]), 'INVALID_ARGUMENT', 'clone session 6', 'port 4');
    expectCpError(() => cp.write([cs('MODIFY', 6, 1)]), 'NOT_FOUND', 'clone session 6');
    cp.write([cs('MODIFY', 5, 3)]);
    expect(pipe.pre.cloneSessions.get(5)).toBe(3);
    cp.write([cs('DELETE', 5, 0)]);
    expect(pipe.pre.cloneSessions.has(5)).toBe(false);
    expectCpError(() => cp.write([cs('DELETE', 5, 0)]), 'NOT_FOUND', 'clone session 5');
  });
});

describe('registers and counters', () => {
  const reg = (type: Update['type'], register: string, index: number, value: number): Update => ({ type, entity: { kind: 'registerEntry', register, index, value } });

  it('registerEntry MODIFY writes a cell (wrapped to the width) and readRegister reads it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (i, v, j, w) => {
        const pipe = new Pipeline(cpProgram, env());
        pipe.controlPlane.write([reg('MODIFY', 'reg12', i, v), reg('MODIFY', 'reg32', j, w)]);
        expect(pipe.controlPlane.readRegister('reg12', i)).toBe(v);
        expect(pipe.controlPlane.readRegister('reg32', j)).toBe(w);
        for (let k = 0; k < 8; k++) if (k !== i) expect(pipe.controlPlane.readRegister('reg12', k)).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('registerEntry: only MODIFY, of a known register', () => {
    const cp = new Pipeline(cpProgram, env()).controlPlane;
    expectCpError(() => cp.write([reg('INSERT', 'reg12', 0, 1)]), 'INVALID_ARGUMENT', 'reg12', 'MODIFY');
    expectCpError(() => cp.write([reg('DELETE', 'reg12', 0, 1)]), 'INVALID_ARGUMENT', 'reg12');
    expectCpError(() => cp.write([reg('MODIFY', 'nope', 0, 1)]), 'NOT_FOUND', 'nope');
    expectCpError(() => cp.readRegister('nope', 0), 'NOT_FOUND', 'nope');
  });

  it('register index out of range is a ControlPlaneError INVALID_ARGUMENT (write and read)', () => {
    const cp = new Pipeline(cpProgram, env()).controlPlane;
    const e = expectCpError(() => cp.write([reg('MODIFY', 'reg12', 0, 1), reg('MODIFY', 'reg12', 8, 1)]), 'INVALID_ARGUMENT', 'update 1', 'reg12', '8');
    expect(e.updateIndex).toBe(1);
    expect(cp.readRegister('reg12', 0)).toBe(1); // the update before it stayed applied
    expectCpError(() => cp.readRegister('reg12', 8), 'INVALID_ARGUMENT', 'reg12', '8');
    expectCpError(() => cp.readRegister('reg12', -1), 'INVALID_ARGUMENT', 'reg12');
  });

  it('readCounter reads what the program counted, and checks bounds', () => {
    const pipe = new Pipeline(cpProgram, env());
    const f = makeFrame({ protocol: 1, src: 1, dst: 1 }, 20);
    pipe.process(f, 1, () => {});
    pipe.process(f.slice(), 5, () => {});
    pipe.process(f.slice(), 2, () => {});
    const cp = pipe.controlPlane;
    expect(cp.readCounter('ctr', 1)).toEqual({ packets: 2, bytes: 2 * f.length });
    expect(cp.readCounter('ctr', 2)).toEqual({ packets: 1, bytes: f.length });
    expect(cp.readCounter('ctr', 0)).toEqual({ packets: 0, bytes: 0 });
    expect(cp.readCounter('ctr', 3)).toEqual({ packets: 0, bytes: 0 });
    for (const i of [-1, 4, 100]) expectCpError(() => cp.readCounter('ctr', i), 'INVALID_ARGUMENT', 'ctr', String(i));
    expectCpError(() => cp.readCounter('nope', 0), 'NOT_FOUND', 'nope');
  });
});

describe('resource summary', () => {
  it('lists tables with sizes and entries, registers with bits, counters, meters and maxPasses', () => {
    const pipe = new Pipeline(cpProgram, env());
    pipe.controlPlane.write([
      routeUpdate('INSERT', 1, { name: 'allow', params: [1] }),
      routeUpdate('INSERT', 2, { name: 'allow', params: [1] }),
      { type: 'INSERT', entity: { kind: 'multicastGroupEntry', groupId: 3, replicas: [] } },
    ]);
    expect(pipe.resources()).toEqual({
      program: 'cp-test',
      parserStates: 1,
      tables: [
        { name: 'route', keys: ['hdr.common.dst:exact'], size: ROUTE_SIZE, entries: 2, selector: null },
        { name: 'acl', keys: ['hdr.common.protocol:ternary', 'hdr.common.dstPort:range'], size: 8, entries: 0, selector: null },
      ],
      registers: [
        { name: 'reg12', width: 12, size: 8, bits: 96 },
        { name: 'reg32', width: 32, size: 4, bits: 128 },
      ],
      registerBits: 96 + 128,
      counters: [{ name: 'ctr', size: 4 }],
      meters: [{ name: 'm', size: 2 }],
      multicastGroups: 1,
      maxPasses: 3,
    });
  });

  it('registerBits is the sum of width x size for any set of registers', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 8 }), fc.integer({ min: 1, max: 16 }), (regs, maxPasses) => {
        const program: ProgramFactory<Record<string, never>> = defineProgram({
          name: 'regs',
          description: '',
          metadata: () => ({}),
          build(p) {
            const common = declareCommonHeader(p);
            p.parser({ start: { extract: [common], next: 'accept' } });
            regs.forEach(([w, s], i) => p.register(`r${i}`, w, s));
            p.maxPasses = maxPasses;
            return { ingress() {} };
          },
        });
        const r = new Pipeline(program, env()).resources();
        expect(r.registerBits).toBe(regs.reduce((s, [w, n]) => s + w * n, 0));
        expect(r.registers.map((x) => x.bits)).toEqual(regs.map(([w, n]) => w * n));
        expect(r.maxPasses).toBe(maxPasses);
        expect(r.tables).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('the example programs: l3 (lpm) and ecmp (selector)', () => {
    const a = new Pipeline(l3, env());
    a.controlPlane.write([{ type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: 0x0a000000, prefixLen: 8 } }, action: { name: 'forward', params: { port: 2 } } } }]);
    expect(a.resources()).toMatchObject({
      program: 'l3',
      parserStates: 1,
      tables: [{ name: 'ipv4_lpm', keys: ['hdr.common.dst:lpm'], size: 16384, entries: 1, selector: null }],
      registerBits: 32 * 8, // the source guard: one 32-bit address per port (8)
      maxPasses: 4,
    });
    const b = new Pipeline(ecmp, env());
    expect(b.resources().tables).toEqual([{ name: 'ipv4_lpm', keys: ['hdr.common.dst:lpm'], size: 16384, entries: 0, selector: 'ecmp_selector' }]);
  });
});
