import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import { ControlPlaneError, type Update } from '../../src/pipeline/control-plane.js';
import { Pipeline, RECIRCULATION_PORT } from '../../src/pipeline/pipeline.js';
import { defineProgram, type PipelineEnv } from '../../src/pipeline/program.js';
import { readU16 } from '../../src/wire/bytes.js';
import { HEADER_BYTES, makeFrame, OFF_DSTPORT, OFF_PROTOCOL, OFF_SRCPORT, OFF_TYPE } from '../../src/wire/common-header.js';

const PORTS = 4;

/**
 * An environment like the switch target's: queueBytes is only defined for real ports (the
 * target indexes its port array), so the engine must never ask about any other port.
 */
function env(options: Record<string, unknown> = {}, portCount = PORTS): PipelineEnv & { queueCalls: number[] } {
  const queueCalls: number[] = [];
  return {
    switchName: 'sw0',
    seed: 11,
    rng: createRng(11),
    clock: new SimClock(),
    portCount,
    queueCalls,
    queueBytes(port: number): number {
      queueCalls.push(port);
      if (!Number.isInteger(port) || port < 0 || port >= portCount) throw new RangeError(`no port ${port}`);
      return port * 100 + 7;
    },
    options,
  };
}

interface Out {
  port: number;
  frame: Uint8Array;
}
function collector(): { out: Out[]; emit: (port: number, frame: Uint8Array) => void } {
  const out: Out[] = [];
  return { out, emit: (port, frame) => out.push({ port, frame }) };
}

// ---------------------------------------------------------------------------------------------
// 3. Controls and tables
// ---------------------------------------------------------------------------------------------

interface ClsMeta {
  cls: number;
}
interface ApplyLog {
  hit: boolean;
  actionRun: string;
  fwdApplied: boolean;
}

/**
 * ingress: classify (exact on protocol, direct counter) -> on a hit running set_class, apply fwd
 * (exact on meta.cls); on any other outcome the classify action alone decides the fate.
 */
function tableProgram(log: ApplyLog[]) {
  return defineProgram<ClsMeta>({
    name: 'tables-test',
    description: 'two tables, branching on hit and action_run',
    metadata: () => ({ cls: 0 }),
    resetMetadata: (m) => {
      m.cls = 0;
    },
    build(p) {
      const common = declareCommonHeader(p);
      p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
      const setClass = p.action('set_class', [{ name: 'cls', width: 8 }], (pkt, params) => {
        pkt.meta.cls = params[0]!;
      });
      const toCpu = p.action('to_cpu', [{ name: 'port', width: 4 }], (pkt, params) => pkt.sendToPort(params[0]!));
      const forward = p.action('forward', [{ name: 'port', width: 16 }], (pkt, params) => pkt.sendToPort(params[0]!));
      const classify = p.table({
        name: 'classify',
        keys: [{ name: 'hdr.common.protocol', match: 'exact', width: 8, read: (pkt) => pkt.buf[OFF_PROTOCOL]! }],
        actions: [setClass, toCpu],
        size: 256,
        directCounter: true,
      });
      const fwd = p.table({
        name: 'fwd',
        keys: [{ name: 'meta.cls', match: 'exact', width: 8, read: (pkt) => pkt.meta.cls }],
        actions: [forward],
        size: 16,
      });
      return {
        ingress(pkt) {
          const r = classify.apply(pkt);
          const entry: ApplyLog = { hit: r.hit, actionRun: r.actionRun, fwdApplied: false };
          if (r.hit && r.actionRun === 'set_class') {
            fwd.apply(pkt);
            entry.fwdApplied = true;
          }
          log.push(entry);
        },
      };
    },
  });
}

const classifyEntry = (type: Update['type'], protocol: number, action?: { name: string; params: number[] }): Update => ({
  type,
  entity: { kind: 'tableEntry', table: 'classify', match: { 'hdr.common.protocol': { kind: 'exact', value: protocol } }, action },
});
const fwdEntry = (cls: number, port: number): Update => ({
  type: 'INSERT',
  entity: { kind: 'tableEntry', table: 'fwd', match: { 'meta.cls': { kind: 'exact', value: cls } }, action: { name: 'forward', params: [port] } },
});
const frameOf = (protocol: number, payload = 4): Uint8Array => makeFrame({ protocol, src: 1, dst: 2 }, payload);

describe('tables through the engine', () => {
  it('apply() reports a miss and runs the default action (NoAction when none is declared): dropped', () => {
    const log: ApplyLog[] = [];
    const pipe = new Pipeline(tableProgram(log), env());
    const { out, emit } = collector();
    pipe.process(frameOf(6), 0, emit);
    expect(log).toEqual([{ hit: false, actionRun: 'NoAction', fwdApplied: false }]);
    expect(out).toEqual([]);
    expect(pipe.drops).toEqual({ parser: 0, table: 1, passes: 0, error: 0 });
    const t = pipe.tables.get('classify')!;
    expect([t.lookups, t.hits]).toEqual([1, 0]);
  });

  it('apply() reports hit and action_run, and controls branch on them', () => {
    const log: ApplyLog[] = [];
    const pipe = new Pipeline(tableProgram(log), env());
    pipe.controlPlane.write([
      classifyEntry('INSERT', 6, { name: 'set_class', params: [2] }),
      classifyEntry('INSERT', 1, { name: 'to_cpu', params: [3] }),
      classifyEntry('INSERT', 9, { name: 'set_class', params: [7] }), // no fwd entry for class 7
      fwdEntry(2, 1),
    ]);
    const { out, emit } = collector();
    for (const proto of [6, 1, 9, 17]) pipe.process(frameOf(proto), 0, emit);
    expect(log).toEqual([
      { hit: true, actionRun: 'set_class', fwdApplied: true },
      { hit: true, actionRun: 'to_cpu', fwdApplied: false },
      { hit: true, actionRun: 'set_class', fwdApplied: true },
      { hit: false, actionRun: 'NoAction', fwdApplied: false },
    ]);
    expect(out.map((o) => o.port)).toEqual([1, 3]);
    expect(pipe.drops.table).toBe(2);
    const fwd = pipe.tables.get('fwd')!;
    expect([fwd.lookups, fwd.hits]).toEqual([2, 1]);
  });

  it('the default action runs on every miss and can be changed through the control plane (isDefault)', () => {
    const log: ApplyLog[] = [];
    const pipe = new Pipeline(tableProgram(log), env());
    pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'classify', isDefault: true, action: { name: 'to_cpu', params: { port: 2 } } } }]);
    const { out, emit } = collector();
    pipe.process(frameOf(17), 0, emit);
    pipe.process(frameOf(200), 1, emit);
    expect(log.map((l) => [l.hit, l.actionRun])).toEqual([
      [false, 'to_cpu'],
      [false, 'to_cpu'],
    ]);
    expect(out.map((o) => o.port)).toEqual([2, 2]);
    // a default action naming a set_class with data: misses now go through fwd
    pipe.controlPlane.write([
      { type: 'MODIFY', entity: { kind: 'tableEntry', table: 'classify', isDefault: true, action: { name: 'set_class', params: [4] } } },
      fwdEntry(4, 0),
    ]);
    pipe.process(frameOf(17), 1, emit);
    expect(log[2]).toEqual({ hit: false, actionRun: 'set_class', fwdApplied: false });
    // the program only applies fwd on a hit, so the miss with set_class is dropped
    expect(out).toHaveLength(2);
    // only MODIFY is allowed for the default entry
    expect(() =>
      pipe.controlPlane.write([{ type: 'INSERT', entity: { kind: 'tableEntry', table: 'classify', isDefault: true, action: { name: 'to_cpu', params: [1] } } }]),
    ).toThrow(ControlPlaneError);
    // and its data is validated like an entry's
    expect(() =>
      pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: 'classify', isDefault: true, action: { name: 'to_cpu', params: [16] } } }]),
    ).toThrow(/port/);
  });

  it('direct counters count the hits of each entry (packets and bytes), never the misses', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { maxLength: 8 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 40 })), { maxLength: 60 }),
        (installed, traffic) => {
          const log: ApplyLog[] = [];
          const pipe = new Pipeline(tableProgram(log), env());
          pipe.controlPlane.write(installed.map((proto) => classifyEntry('INSERT', proto, { name: 'set_class', params: [proto % 3] })));
          pipe.controlPlane.write([fwdEntry(0, 0), fwdEntry(1, 1), fwdEntry(2, 2)]);
          const ref = new Map<number, { packets: number; bytes: number }>(installed.map((p) => [p, { packets: 0, bytes: 0 }]));
          const { out, emit } = collector();
          let misses = 0;
          for (const [proto, payload] of traffic) {
            const f = frameOf(proto, payload);
            pipe.process(f, 0, emit);
            const c = ref.get(proto);
            if (c) {
              c.packets++;
              c.bytes += f.length;
            } else misses++;
          }
          for (const [proto, want] of ref) {
            expect(pipe.controlPlane.readDirectCounter('classify', { 'hdr.common.protocol': { kind: 'exact', value: proto } })).toEqual(want);
          }
          expect(out).toHaveLength(traffic.length - misses);
          expect(pipe.drops.table).toBe(misses);
          const t = pipe.tables.get('classify')!;
          expect(t.hits).toBe(traffic.length - misses);
          expect(t.lookups).toBe(traffic.length);
          expect(log.filter((l) => l.hit)).toHaveLength(traffic.length - misses);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a deleted and re-inserted entry starts a fresh direct counter; reading an absent entry is NOT_FOUND', () => {
    const pipe = new Pipeline(tableProgram([]), env());
    pipe.controlPlane.write([classifyEntry('INSERT', 6, { name: 'to_cpu', params: [1] })]);
    pipe.process(frameOf(6, 10), 0, () => {});
    const key = { 'hdr.common.protocol': { kind: 'exact' as const, value: 6 } };
    expect(pipe.controlPlane.readDirectCounter('classify', key)).toEqual({ packets: 1, bytes: HEADER_BYTES + 10 });
    pipe.controlPlane.write([classifyEntry('DELETE', 6)]);
    expect(() => pipe.controlPlane.readDirectCounter('classify', key)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    pipe.controlPlane.write([classifyEntry('INSERT', 6, { name: 'to_cpu', params: [1] })]);
    expect(pipe.controlPlane.readDirectCounter('classify', key)).toEqual({ packets: 0, bytes: 0 });
    // a table without direct counters
    pipe.controlPlane.write([fwdEntry(1, 1)]);
    expect(() => pipe.controlPlane.readDirectCounter('fwd', { 'meta.cls': { kind: 'exact', value: 1 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('fwd') }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Packet fate
// ---------------------------------------------------------------------------------------------

/** What ingress does, chosen by the frame's `type` byte; arguments in srcPort and dstPort. */
const OP = {
  NOTHING: 0,
  PORT: 1, // sendToPort(srcPort)
  MCAST: 2, // multicast(srcPort)
  CLONE: 3, // clone session dstPort, sendToPort(srcPort)
  CLONE_DROP: 4, // clone session dstPort, drop
  RECIRC: 5, // sendToPort(srcPort); egress recirculates while pass < dstPort
  RESUBMIT: 6, // resubmit while pass < dstPort, then sendToPort(srcPort)
  THROW: 7, // apply a table whose action throws
  SEND_DROP: 8, // sendToPort then markToDrop
  DROP_SEND: 9, // markToDrop then sendToPort
  MCAST_DROP: 10, // multicast then markToDrop
  NEG_PORT: 11, // sendToPort(-2)
  EGRESS_DROP: 12, // sendToPort(srcPort); egress drops
  CLONE_RECIRC: 13, // pass 0: clone session dstPort + sendToPort(srcPort); the clone recirculates; later passes: port 3
  MCAST_RECIRC: 14, // pass 0: multicast(srcPort); instance 1 recirculates; later passes: port 3
} as const;

interface FateMeta {
  n: number;
  tag: number;
}
interface IngressSeen {
  ingressPort: number;
  pass: number;
}
interface EgressSeen {
  port: number;
  instance: number;
  isClone: boolean;
  pass: number;
  ingressPort: number;
  queue: number;
  n: number;
  tag: number;
}

const P_INSTANCE = HEADER_BYTES; // egress writes the instance here
const P_EGRESS_RUNS = HEADER_BYTES + 1; // egress increments this
const P_META_N = HEADER_BYTES + 2; // egress writes meta.n (after incrementing it) here
const P_META_TAG = HEADER_BYTES + 3; // egress writes meta.tag here

function fateProgram(ing: IngressSeen[], egr: EgressSeen[]) {
  return defineProgram<FateMeta>({
    name: 'fate-test',
    description: 'PSA packet fate',
    metadata: () => ({ n: 0, tag: 0 }),
    // In-place reset, as l3/ecmp do: the engine must not rely on a fresh object per pass.
    resetMetadata: (m) => {
      m.n = 0;
      m.tag = 0;
    },
    build(p, e) {
      if (typeof e.options.maxPasses === 'number') p.maxPasses = e.options.maxPasses;
      const common = declareCommonHeader(p);
      p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
      const boom = p.action('boom', [], () => {
        throw new Error('boom');
      });
      const boomTable = p.table({ name: 'boom_table', keys: [], actions: [boom], defaultAction: boom, size: 1 });
      return {
        ingress(pkt) {
          ing.push({ ingressPort: pkt.ingressPort, pass: pkt.pass });
          pkt.meta.tag = 0x50 + pkt.pass;
          const b = pkt.buf;
          const op = b[OFF_TYPE]!;
          const a = readU16(b, OFF_SRCPORT);
          const c = readU16(b, OFF_DSTPORT);
          switch (op) {
            case OP.PORT:
            case OP.RECIRC:
            case OP.EGRESS_DROP:
              pkt.sendToPort(a);
              break;
            case OP.MCAST:
              pkt.multicast(a);
              break;
            case OP.CLONE:
              pkt.cloneSession = c;
              pkt.sendToPort(a);
              break;
            case OP.CLONE_DROP:
              pkt.cloneSession = c;
              pkt.markToDrop();
              break;
            case OP.RESUBMIT:
              if (pkt.pass < c) pkt.resubmit = true;
              else pkt.sendToPort(a);
              break;
            case OP.THROW:
              boomTable.apply(pkt);
              break;
            case OP.SEND_DROP:
              pkt.sendToPort(a);
              pkt.markToDrop();
              break;
            case OP.DROP_SEND:
              pkt.markToDrop();
              pkt.sendToPort(a);
              break;
            case OP.MCAST_DROP:
              pkt.multicast(a);
              pkt.markToDrop();
              break;
            case OP.NEG_PORT:
              pkt.sendToPort(-2);
              break;
            case OP.CLONE_RECIRC:
              if (pkt.pass === 0) {
                pkt.cloneSession = c;
                pkt.sendToPort(a);
              } else pkt.sendToPort(3);
              break;
            case OP.MCAST_RECIRC:
              if (pkt.pass === 0) pkt.multicast(a);
              else pkt.sendToPort(3);
              break;
            default:
              break; // OP.NOTHING: no fate chosen
          }
        },
        egress(pkt) {
          pkt.meta.n++;
          egr.push({
            port: pkt.egressPort,
            instance: pkt.instance,
            isClone: pkt.isClone,
            pass: pkt.pass,
            ingressPort: pkt.ingressPort,
            queue: pkt.egressQueueBytes,
            n: pkt.meta.n,
            tag: pkt.meta.tag,
          });
          const b = pkt.buf;
          b[P_INSTANCE] = pkt.instance;
          b[P_EGRESS_RUNS]!++;
          b[P_META_N] = pkt.meta.n;
          b[P_META_TAG] = pkt.meta.tag;
          const op = b[OFF_TYPE]!;
          if (op === OP.RECIRC && pkt.pass < readU16(b, OFF_DSTPORT)) pkt.recirculate = true;
          if (op === OP.EGRESS_DROP) pkt.markToDrop();
          if (op === OP.CLONE_RECIRC && pkt.isClone && pkt.pass === 0) pkt.recirculate = true;
          if (op === OP.MCAST_RECIRC && pkt.pass === 0 && pkt.instance === 1) pkt.recirculate = true;
        },
      };
    },
  });
}

function fatePipe(options: Record<string, unknown> = {}) {
  const ing: IngressSeen[] = [];
  const egr: EgressSeen[] = [];
  const e = env(options);
  const pipe = new Pipeline(fateProgram(ing, egr), e);
  const { out, emit } = collector();
  const send = (op: number, a = 0, c = 0, inPort = 0): void => {
    const f = makeFrame({ protocol: 17, src: 1, dst: 2, type: op, srcPort: a, dstPort: c }, 8);
    expect(() => pipe.process(f, inPort, emit)).not.toThrow();
  };
  return { pipe, ing, egr, out, send, env: e };
}

const mcast = (groupId: number, replicas: Array<[number, number]>, type: Update['type'] = 'INSERT'): Update => ({
  type,
  entity: { kind: 'multicastGroupEntry', groupId, replicas: replicas.map(([port, instance]) => ({ port, instance })) },
});
const cloneSession = (sessionId: number, port: number): Update => ({ type: 'INSERT', entity: { kind: 'cloneSessionEntry', sessionId, port } });

describe('packet fate (PSA)', () => {
  it('a packet is dropped unless ingress sends it to a port or a group', () => {
    const t = fatePipe();
    t.send(OP.NOTHING);
    t.send(OP.SEND_DROP, 1);
    t.send(OP.MCAST_DROP, 5);
    expect(t.out).toEqual([]);
    expect(t.egr).toEqual([]); // dropped at the end of ingress, egress never ran
    expect(t.pipe.drops).toEqual({ parser: 0, table: 3, passes: 0, error: 0 });
    t.send(OP.DROP_SEND, 2); // send_to_port after drop un-drops, as in PSA
    t.send(OP.PORT, 3, 0, 1);
    expect(t.out.map((o) => o.port)).toEqual([2, 3]);
    expect(t.egr.map((e) => [e.port, e.instance, e.isClone, e.pass, e.ingressPort])).toEqual([
      [2, 0, false, 0, 0],
      [3, 0, false, 0, 1],
    ]);
    expect(t.pipe.drops.table).toBe(3);
  });

  it('egress sees the egress queue depth of its port', () => {
    const t = fatePipe();
    t.send(OP.PORT, 2);
    t.send(OP.PORT, 0);
    expect(t.egr.map((e) => e.queue)).toEqual([207, 7]);
  });

  it('a drop in egress is counted as a table drop', () => {
    const t = fatePipe();
    t.send(OP.EGRESS_DROP, 1);
    expect(t.egr).toHaveLength(1);
    expect(t.out).toEqual([]);
    expect(t.pipe.drops.table).toBe(1);
  });

  it('egress ports outside the switch are dropped (table), without asking the target about them', () => {
    const t = fatePipe();
    t.send(OP.PORT, PORTS);
    t.send(OP.PORT, 0xffff);
    t.send(OP.NEG_PORT);
    expect(t.out).toEqual([]);
    expect(t.pipe.drops).toEqual({ parser: 0, table: 3, passes: 0, error: 0 });
    // the target's queue depth is asked only for its own ports
    expect(t.env.queueCalls.every((p) => p >= 0 && p < PORTS)).toBe(true);
  });

  it('multicast makes one copy per replica, each seeing its instance in egress', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: PORTS - 1 }), fc.integer({ min: 0, max: 200 })), {
          minLength: 1,
          maxLength: 12,
          selector: ([p, i]) => `${p}/${i}`,
        }),
        fc.integer({ min: 1, max: 0xffff }),
        (replicas, group) => {
          const t = fatePipe();
          t.pipe.controlPlane.write([mcast(group, replicas)]);
          t.send(OP.MCAST, group, 0, 3);
          expect(t.out.map((o) => o.port)).toEqual(replicas.map(([p]) => p));
          expect(t.egr.map((e) => [e.port, e.instance, e.isClone, e.pass, e.ingressPort])).toEqual(replicas.map(([p, i]) => [p, i, false, 0, 3]));
          // each copy carries only its own egress's writes
          expect(t.out.map((o) => o.frame[P_INSTANCE])).toEqual(replicas.map(([, i]) => i));
          expect(t.out.every((o) => o.frame[P_EGRESS_RUNS] === 1)).toBe(true);
          // and is a buffer of its own
          expect(new Set(t.out.map((o) => o.frame.buffer)).size).toBe(replicas.length);
          expect(t.pipe.drops).toEqual({ parser: 0, table: 0, passes: 0, error: 0 });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('modifying one multicast copy after emission leaves the others alone', () => {
    const t = fatePipe();
    t.pipe.controlPlane.write([mcast(9, [[0, 1], [1, 2], [2, 3]])]);
    t.send(OP.MCAST, 9);
    const before = t.out.map((o) => o.frame.slice());
    t.out[0]!.frame.fill(0xaa);
    t.out[2]!.frame[HEADER_BYTES + 5] = 0x77;
    expect(t.out[1]!.frame).toEqual(before[1]);
    expect([...t.out[2]!.frame.subarray(0, HEADER_BYTES + 5)]).toEqual([...before[2]!.subarray(0, HEADER_BYTES + 5)]);
  });

  it('each multicast replica starts egress from the metadata ingress left (one replica\'s egress does not leak into the next)', () => {
    const t = fatePipe();
    t.pipe.controlPlane.write([mcast(9, [[0, 1], [1, 2], [2, 3]])]);
    t.send(OP.MCAST, 9);
    // egress increments meta.n: every replica should see 1, the value after its own increment
    expect(t.egr.map((e) => e.n)).toEqual([1, 1, 1]);
    expect(t.out.map((o) => o.frame[P_META_N])).toEqual([1, 1, 1]);
  });

  it('multicast to an unknown or empty group drops (table)', () => {
    const t = fatePipe();
    t.pipe.controlPlane.write([mcast(5, [])]);
    t.send(OP.MCAST, 5);
    t.send(OP.MCAST, 6);
    expect(t.out).toEqual([]);
    expect(t.egr).toEqual([]);
    expect(t.pipe.drops.table).toBe(2);
    // a group deleted after use drops too
    t.pipe.controlPlane.write([mcast(7, [[1, 1]]), mcast(7, [], 'DELETE')]);
    t.send(OP.MCAST, 7);
    expect(t.pipe.drops.table).toBe(3);
  });

  it('clone: an extra copy goes to the session port with isClone set, the original goes on; copies are independent', () => {
    const t = fatePipe();
    t.pipe.controlPlane.write([cloneSession(7, 2)]);
    t.send(OP.CLONE, 1, 7, 3);
    expect(t.out.map((o) => o.port).sort()).toEqual([1, 2]);
    const clone = t.out.find((o) => o.port === 2)!;
    const orig = t.out.find((o) => o.port === 1)!;
    expect(clone.frame.buffer).not.toBe(orig.frame.buffer);
    expect(t.egr.map((e) => [e.port, e.isClone, e.instance, e.ingressPort, e.pass]).sort()).toEqual([
      [1, false, 0, 3, 0],
      [2, true, 0, 3, 0],
    ]);
    // each saw exactly one egress run on its own bytes
    expect(clone.frame[P_EGRESS_RUNS]).toBe(1);
    expect(orig.frame[P_EGRESS_RUNS]).toBe(1);
    expect(t.pipe.drops).toEqual({ parser: 0, table: 0, passes: 0, error: 0 });
  });

  it('clone with an unknown session makes no copy; clone of a dropped packet still goes out', () => {
    const t = fatePipe();
    t.pipe.controlPlane.write([cloneSession(7, 2)]);
    t.send(OP.CLONE, 1, 8);
    expect(t.out.map((o) => o.port)).toEqual([1]);
    t.send(OP.CLONE_DROP, 0, 7);
    expect(t.out.map((o) => o.port)).toEqual([1, 2]);
    expect(t.egr[1]!.isClone).toBe(true);
    expect(t.pipe.drops.table).toBe(1);
  });

  it('a clone that recirculates does not disturb the original: its metadata and pass are as ingress left them', () => {
    const t = fatePipe();
    t.pipe.controlPlane.write([cloneSession(7, 2)]);
    t.send(OP.CLONE_RECIRC, 1, 7);
    // clone -> egress (recirculate) -> ingress pass 1 -> port 3; then the original -> port 1
    expect(t.out.map((o) => o.port)).toEqual([3, 1]);
    const origEgress = t.egr.find((e) => !e.isClone && e.port === 1)!;
    // tag 0x50 is what ingress wrote on pass 0 (pass 1 writes 0x51)
    expect({ pass: origEgress.pass, tag: origEgress.tag, ingressPort: origEgress.ingressPort }).toEqual({ pass: 0, tag: 0x50, ingressPort: 0 });
  });

  it('a multicast replica after one that recirculated still sees pass 0', () => {
    const t = fatePipe();
    t.pipe.controlPlane.write([mcast(4, [[0, 1], [1, 2]])]);
    t.send(OP.MCAST_RECIRC, 4);
    expect(t.out.map((o) => o.port)).toEqual([3, 1]);
    const second = t.egr.find((e) => e.instance === 2)!;
    expect({ pass: second.pass, tag: second.tag, ingressPort: second.ingressPort }).toEqual({ pass: 0, tag: 0x50, ingressPort: 0 });
  });

  it('recirculate re-enters ingress at RECIRCULATION_PORT with pass+1, carries egress\'s bytes, bounded by maxPasses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: PORTS - 1 }), (maxPasses, times, inPort) => {
        const t = fatePipe({ maxPasses });
        expect(t.pipe.maxPasses).toBe(maxPasses);
        t.send(OP.RECIRC, 2, times, inPort);
        const k = Math.min(times, maxPasses - 1);
        expect(t.ing).toEqual(Array.from({ length: k + 1 }, (_, i) => ({ ingressPort: i === 0 ? inPort : RECIRCULATION_PORT, pass: i })));
        expect(t.egr.map((e) => e.pass)).toEqual(Array.from({ length: k + 1 }, (_, i) => i));
        expect(t.pipe.passes).toBe(k + 1);
        if (times < maxPasses) {
          expect(t.out.map((o) => o.port)).toEqual([2]);
          expect(t.out[0]!.frame[P_EGRESS_RUNS]).toBe(times + 1);
          expect(t.pipe.drops.passes).toBe(0);
        } else {
          expect(t.out).toEqual([]);
          expect(t.pipe.drops.passes).toBe(1);
        }
        expect(t.pipe.drops.table + t.pipe.drops.error + t.pipe.drops.parser).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('resubmit re-enters ingress on the same port with pass+1, bounded by maxPasses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: PORTS - 1 }), (maxPasses, times, inPort) => {
        const t = fatePipe({ maxPasses });
        t.send(OP.RESUBMIT, 1, times, inPort);
        const k = Math.min(times, maxPasses - 1);
        expect(t.ing).toEqual(Array.from({ length: k + 1 }, (_, i) => ({ ingressPort: inPort, pass: i })));
        if (times < maxPasses) {
          expect(t.out.map((o) => o.port)).toEqual([1]);
          expect(t.egr).toEqual([expect.objectContaining({ pass: times, ingressPort: inPort })]);
          expect(t.pipe.drops.passes).toBe(0);
        } else {
          expect(t.out).toEqual([]);
          expect(t.egr).toEqual([]);
          expect(t.pipe.drops.passes).toBe(1);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('an action that throws drops the packet as error; process() does not throw and the next packet is fine', () => {
    const t = fatePipe();
    t.send(OP.THROW);
    expect(t.pipe.drops).toEqual({ parser: 0, table: 0, passes: 0, error: 1 });
    expect(t.pipe.lastError).toBeInstanceOf(Error);
    expect((t.pipe.lastError as Error).message).toBe('boom');
    t.send(OP.PORT, 1);
    expect(t.out.map((o) => o.port)).toEqual([1]);
    expect(t.pipe.drops.error).toBe(1);
  });

  it('parser rejections are counted as parser drops and never reach ingress', () => {
    const t = fatePipe();
    const f = makeFrame({ protocol: 1, src: 1, dst: 2, type: OP.PORT, srcPort: 1 }, 8);
    t.pipe.process(f.subarray(0, 10), 0, () => {});
    t.pipe.process(f.subarray(0, f.length - 1), 0, () => {});
    const g = f.slice();
    g[0] = 9;
    t.pipe.process(g, 0, () => {});
    expect(t.ing).toEqual([]);
    expect(t.pipe.drops).toEqual({ parser: 3, table: 0, passes: 0, error: 0 });
    expect(Object.fromEntries(t.pipe.parser.errors)).toEqual({ PacketTooShort: 1, truncated: 1, version: 1 });
  });
});
