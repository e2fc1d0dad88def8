import type { ProgramBuilder, PipelineEnv } from '../../src/pipeline/program.js';
import type { ParserState } from '../../src/pipeline/parser.js';
import type { HeaderRef } from '../../src/pipeline/header.js';
import type { Packet } from '../../src/pipeline/packet.js';
import type { Table } from '../../src/pipeline/table.js';
import { readI32, readU16, readU32, writeI32, writeU32 } from '../../src/wire/bytes.js';
import { OFF_DST, OFF_DSTPORT, OFF_PAYLOADLEN, OFF_SRC, OFF_TTL } from '../../src/wire/common-header.js';
import {
  SML_FLAG_OVERFLOW, SML_FLAG_RETRANSMIT, SML_HEADER_BYTES, SML_OFF_COUNT, SML_OFF_DATA, SML_OFF_EXPONENT, SML_OFF_FLAGS,
  SML_OFF_KIND, SML_OFF_PACKET, SML_OFF_SLOT, SML_OFF_VER, SML_RESULT, SML_UPDATE,
} from '../../src/wire/switchml.js';
import {
  SHARP_REG_DONE, SHARP_SET_CHILD, SHARP_SET_PARENT, SHARP_STAT_NAMES, SHARP_STAT_PARTIAL_RESENT, SHARP_STAT_PARTIAL_UP,
  SHARP_STAT_RESULT_DOWN, SML_DEFAULT_ELEMENTS, SML_DEFAULT_SLOTS, SML_MAX_WORKERS, SML_REG_BITMAP, SML_REG_COUNT,
  SML_REG_EXPONENT, SML_REG_OVERFLOW, SML_REG_SEQ, SML_REG_VALUES, SML_RESULT_DST_KEY, SML_RESULT_DST_TABLE, SML_SET_RESULT_DST,
  SML_SET_WORKER, SML_ANY_PORT, SML_STAT_AGGREGATED, SML_STAT_BAD_SLOT, SML_STAT_COMPLETED, SML_STAT_DUPLICATE, SML_STAT_MALFORMED,
  SML_STAT_NAMES, SML_STAT_RESENT, SML_STAT_SPOOFED, SML_STAT_STALE, SML_STAT_UNKNOWN_WORKER, SML_STATS_COUNTER, SML_WORKERS_KEY_JOB,
  SML_WORKERS_KEY_SRC, SML_WORKERS_TABLE,
} from '../../src/wire/names/aggregation.js';

/**
 * The in-network aggregation stage shared by pipelines/switchml.ts (flat: one switch
 * aggregates all workers) and pipelines/sharp.ts (trees: every switch of a job's tree
 * aggregates its children and passes one partial up). The algorithm and the registers are
 * SwitchML's, described in pipelines/switchml.ts; the tree additions in pipelines/sharp.ts.
 *
 * What a frame's source is to this switch comes from the workers table, keyed (src, job); every
 * entry also names the port the member's frames arrive on (its path to this switch), and a
 * frame with a member's address on any other port is no contribution (dropped as spoofed):
 *   set_worker       a flat SwitchML worker: aggregate; on completion multicast the result
 *   set_tree_child   a child in a tree (a worker, or a child switch's partial): aggregate; on
 *                    completion send ONE partial to `parent` (or, at the root, multicast)
 *   set_tree_parent  this switch's parent in a tree: its RESULTs are stored and multicast down
 */

export const ROLE_NONE = 0;
export const ROLE_WORKER = 1;
export const ROLE_CHILD = 2;
export const ROLE_PARENT = 3;

export interface AggregationMeta {
  /** what the frame's source is to this switch for its job (ROLE_*), from the workers table */
  role: number;
  workerBit: number;
  numWorkers: number;
  mcastGroup: number;
  slotBase: number;
  slotCount: number;
  /** tree: the parent's address (0 at the root) */
  parent: number;
  /** the port the member's frames must arrive on (SML_ANY_PORT: any) */
  port: number;
}

export const aggregationMetadata = (): AggregationMeta => ({ role: ROLE_NONE, workerBit: 0, numWorkers: 0, mcastGroup: 0, slotBase: 0, slotCount: 0, parent: 0, port: 0 });
export const resetAggregationMetadata = (m: AggregationMeta): void => {
  m.role = ROLE_NONE;
};
// multicast replicas each get a copy; egress reads none of it, so a shallow copy is plenty
export const copyAggregationMetadata = (m: AggregationMeta): AggregationMeta => ({ ...m });

const FRESH_TTL = 64;

export function aggregationOptions(o: Readonly<Record<string, unknown>>, program: string): { slots: number; elementsPerPacket: number } {
  const a = (o.aggregation ?? {}) as { slots?: unknown; elementsPerPacket?: unknown };
  const slots = a.slots ?? SML_DEFAULT_SLOTS;
  const epp = a.elementsPerPacket ?? SML_DEFAULT_ELEMENTS;
  if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 1) throw new Error(`${program}: aggregation.slots must be a positive integer, got ${String(slots)}`);
  if (typeof epp !== 'number' || !Number.isInteger(epp) || epp < 1 || epp > 0xffff) throw new Error(`${program}: aggregation.elementsPerPacket must be an integer in 1..65535, got ${String(epp)}`);
  return { slots, elementsPerPacket: epp };
}

/** The parser state after the common header: the aggregation header, whose values must fill the payload exactly. */
export function aggregationParserState<M>(sml: HeaderRef): ParserState<M> {
  return {
    extract: [sml],
    // the values must fill the payload exactly: elementCount is what the switch reads
    verify: (pkt) => (readU16(pkt.buf, OFF_PAYLOADLEN) === SML_HEADER_BYTES + 4 * readU16(pkt.buf, SML_OFF_COUNT) ? null : 'SwitchmlLength'),
    next: 'accept',
  };
}

export interface AggregationStage<M> {
  /** handles an aggregation frame addressed to this switch; false when the frame is not one (forward it) */
  ingress(pkt: Packet<M>): boolean;
  egress(pkt: Packet<M>): void;
}

/**
 * Declares the aggregation registers, tables and counter on `p` and returns the stage.
 * `tree` adds the tree actions and the per-copy done flag (pipelines/sharp.ts).
 */
export function declareAggregation<M extends AggregationMeta>(
  p: ProgramBuilder<M>,
  env: PipelineEnv,
  sml: HeaderRef,
  routes: Table<M>,
  o: { tree: boolean; program: string },
): AggregationStage<M> {
  const { slots, elementsPerPacket: epp } = aggregationOptions(env.options, o.program);
  const addr = env.options.address;
  const myAddress = typeof addr === 'number' ? addr >>> 0 : -1;

  const copies = slots * 2;
  const values = p.register(SML_REG_VALUES, 32, copies * epp, true);
  const bitmap = p.register(SML_REG_BITMAP, 32, copies);
  const count = p.register(SML_REG_COUNT, 8, copies);
  const exponent = p.register(SML_REG_EXPONENT, 8, copies, true);
  const overflow = p.register(SML_REG_OVERFLOW, 1, copies);
  const seq = p.register(SML_REG_SEQ, 32, copies);
  const done = o.tree ? p.register(SHARP_REG_DONE, 1, copies) : null;
  const stats = p.counter(SML_STATS_COUNTER, (o.tree ? SHARP_STAT_NAMES : SML_STAT_NAMES).length, 'packets');

  const slotParams = [
    { name: 'mcastGroup', width: 16 },
    { name: 'slotBase', width: 32 },
    { name: 'slotCount', width: 32 },
    { name: 'ingressPort', width: 16 },
  ] as const;
  // A tree child is a worker of this switch's job that also names its parent: the same six
  // parameters first, in the same order.
  const setMember = (m: AggregationMeta, role: number, a: readonly number[]): void => {
    m.role = role;
    m.workerBit = a[0]!;
    m.numWorkers = a[1]!;
    m.mcastGroup = a[2]!;
    m.slotBase = a[3]!;
    m.slotCount = a[4]!;
    m.port = a[5]!;
  };
  const setWorker = p.action(SML_SET_WORKER, [{ name: 'workerBit', width: 8 }, { name: 'numWorkers', width: 8 }, ...slotParams], (pkt, a) =>
    setMember(pkt.meta, ROLE_WORKER, a),
  );
  const setChild = p.action(
    SHARP_SET_CHILD,
    [{ name: 'childBit', width: 8 }, { name: 'numChildren', width: 8 }, ...slotParams, { name: 'parent', width: 32 }],
    (pkt, a) => {
      setMember(pkt.meta, ROLE_CHILD, a);
      pkt.meta.parent = a[6]!;
    },
  );
  const setParent = p.action(SHARP_SET_PARENT, [...slotParams], (pkt, a) => {
    const m = pkt.meta;
    m.role = ROLE_PARENT;
    m.mcastGroup = a[0]!;
    m.slotBase = a[1]!;
    m.slotCount = a[2]!;
    m.port = a[3]!;
  });
  const workers = p.table({
    name: SML_WORKERS_TABLE,
    keys: [
      { name: SML_WORKERS_KEY_SRC, match: 'exact', width: 32, read: (pkt) => readU32(pkt.buf, OFF_SRC) },
      { name: SML_WORKERS_KEY_JOB, match: 'exact', width: 16, read: (pkt) => readU16(pkt.buf, OFF_DSTPORT) },
    ],
    actions: o.tree ? [setWorker, setChild, setParent] : [setWorker],
    size: 4096,
  });

  const setResultDst = p.action(SML_SET_RESULT_DST, [{ name: 'dst', width: 32 }], (pkt, a) => {
    writeU32(pkt.buf, OFF_DST, a[0]!);
    writeU32(pkt.buf, OFF_SRC, myAddress);
  });
  const dropCopy = p.action('drop', [], (pkt) => pkt.markToDrop());
  const resultDst = p.table({
    name: SML_RESULT_DST_TABLE,
    keys: [{ name: SML_RESULT_DST_KEY, match: 'exact', width: 16, read: (pkt) => pkt.instance }],
    actions: [setResultDst, dropCopy],
    defaultAction: dropCopy,
    size: 65536,
  });

  const drop = (pkt: Packet<M>, reason: number): void => {
    stats.count(reason, pkt.buf.length);
    pkt.markToDrop();
  };

  /** Copies copy c's aggregate into the frame, with its flags and exponent. */
  const writeAggregate = (b: Uint8Array, c: number, n: number, kind: number, flags: number): void => {
    const base = c * epp;
    for (let i = 0, o = SML_OFF_DATA; i < n; i++, o += 4) writeI32(b, o, values.read(base + i));
    b[SML_OFF_KIND] = kind;
    b[SML_OFF_FLAGS] = flags | (overflow.read(c) ? SML_FLAG_OVERFLOW : 0);
    b[SML_OFF_EXPONENT] = exponent.read(c) & 0xff;
    b[OFF_TTL] = FRESH_TTL;
  };

  /** Turns the frame into this switch's partial for copy c and routes it to the parent. */
  const sendUp = (pkt: Packet<M>, c: number, n: number, flags: number): void => {
    const b = pkt.buf;
    writeAggregate(b, c, n, SML_UPDATE, flags);
    writeU32(b, OFF_SRC, myAddress);
    writeU32(b, OFF_DST, pkt.meta.parent);
    routes.apply(pkt);
  };

  const aggregate = (pkt: Packet<M>): void => {
    workers.apply(pkt);
    const m = pkt.meta;
    const b = pkt.buf;
    const role = m.role;
    if (role !== ROLE_WORKER && role !== ROLE_CHILD) return drop(pkt, SML_STAT_UNKNOWN_WORKER);
    if (m.port !== SML_ANY_PORT && pkt.ingressPort !== m.port) return drop(pkt, SML_STAT_SPOOFED);
    const s = readU16(b, SML_OFF_SLOT);
    const slot = m.slotBase + s;
    if (s >= m.slotCount || slot >= slots) return drop(pkt, SML_STAT_BAD_SLOT);
    const ver = b[SML_OFF_VER]!;
    const n = readU16(b, SML_OFF_COUNT);
    const workersN = m.numWorkers;
    if (ver > 1 || n > epp || m.workerBit >= SML_MAX_WORKERS || workersN < 1 || workersN > SML_MAX_WORKERS) return drop(pkt, SML_STAT_MALFORMED);
    // a tree node below the root passes a partial up instead of answering
    const below = role === ROLE_CHILD && m.parent !== 0;

    const c = 2 * slot + ver;
    const bit = (1 << m.workerBit) >>> 0;
    const t = readU32(b, SML_OFF_PACKET);
    const cnt = count.read(c);
    const bm = bitmap.read(c);
    // serial-number difference: > 0 when this packet belongs to a later round than the copy's
    const d = (t - seq.read(c)) | 0;
    let first: boolean;
    if (cnt === 0) {
      if (d === 0) {
        // the copy holds this round's complete aggregate
        if ((bm & bit) === 0) return drop(pkt, SML_STAT_STALE);
        if (below && done!.read(c) === 0) {
          // Complete here but the total has not come down: our partial, or the parent's
          // result, was lost above. Send the partial up again; the parent adds it, or (if it
          // is complete there) answers with the result.
          stats.count(SHARP_STAT_PARTIAL_RESENT, b.length);
          sendUp(pkt, c, n, SML_FLAG_RETRANSMIT);
          return;
        }
        // a retransmission: the sender lost its result; answer it alone
        stats.count(SML_STAT_RESENT, b.length);
        writeAggregate(b, c, n, SML_RESULT, 0);
        writeU32(b, OFF_DST, readU32(b, OFF_SRC));
        writeU32(b, OFF_SRC, myAddress);
        routes.apply(pkt);
        return;
      }
      if (d < 0) return drop(pkt, SML_STAT_STALE);
      first = true;
    } else {
      if (d !== 0) return drop(pkt, SML_STAT_STALE);
      // a duplicate never counts twice
      if ((bm & bit) !== 0) return drop(pkt, SML_STAT_DUPLICATE);
      first = false;
    }

    // A new contribution: set the sender's bit here, clear it in the other copy.
    bitmap.write(c, bm | bit);
    const oc = c ^ 1;
    bitmap.write(oc, bitmap.read(oc) & ~bit);
    const now = (cnt + 1) % workersN;
    count.write(c, now);
    const complete = now === 0;
    const base = c * epp;
    const e = (b[SML_OFF_EXPONENT]! << 24) >> 24;
    if (first) {
      // No clear pass: the first contribution of a round overwrites the copy.
      seq.write(c, t);
      exponent.write(c, e);
      overflow.write(c, 0);
      if (role === ROLE_CHILD) done!.write(c, 0);
      for (let i = 0, off = SML_OFF_DATA; i < n; i++, off += 4) values.write(base + i, readI32(b, off));
    } else {
      exponent.max(c, e);
      let wrapped = 0;
      for (let i = 0, off = SML_OFF_DATA; i < n; i++, off += 4) {
        const x = values.read(base + i);
        const y = readI32(b, off);
        const sum = (x + y) | 0;
        // signed overflow: both operands' signs differ from the sum's
        wrapped |= (x ^ sum) & (y ^ sum);
        values.write(base + i, sum);
      }
      if (wrapped < 0) overflow.write(c, 1);
    }
    // a child switch's partial carries whether its subtree's sum wrapped
    if (role === ROLE_CHILD && (b[SML_OFF_FLAGS]! & SML_FLAG_OVERFLOW) !== 0) overflow.write(c, 1);
    stats.count(SML_STAT_AGGREGATED, b.length);
    if (!complete) {
      // consumed: the contribution lives in the registers now
      pkt.consume();
      return;
    }
    stats.count(SML_STAT_COMPLETED, b.length);
    if (below) {
      // one partial per slot round goes up; the copy waits for the total (done = 0)
      stats.count(SHARP_STAT_PARTIAL_UP, b.length);
      sendUp(pkt, c, n, 0);
      return;
    }
    // the root holds the total now (a flat job's copy never uses the flag)
    if (role === ROLE_CHILD) done!.write(c, 1);
    writeAggregate(b, c, n, SML_RESULT, 0);
    pkt.multicast(m.mcastGroup);
  };

  /** A RESULT from this switch's parent: keep the total (for later retransmissions), multicast it down. */
  const fromParent = (pkt: Packet<M>): void => {
    workers.apply(pkt);
    const m = pkt.meta;
    const b = pkt.buf;
    if (m.role !== ROLE_PARENT) return drop(pkt, SML_STAT_UNKNOWN_WORKER);
    if (m.port !== SML_ANY_PORT && pkt.ingressPort !== m.port) return drop(pkt, SML_STAT_SPOOFED);
    const s = readU16(b, SML_OFF_SLOT);
    const slot = m.slotBase + s;
    if (s >= m.slotCount || slot >= slots) return drop(pkt, SML_STAT_BAD_SLOT);
    const ver = b[SML_OFF_VER]!;
    const n = readU16(b, SML_OFF_COUNT);
    if (ver > 1 || n > epp) return drop(pkt, SML_STAT_MALFORMED);
    const c = 2 * slot + ver;
    // only for the round this copy completed and sent up
    if (count.read(c) !== 0 || bitmap.read(c) === 0 || seq.read(c) !== readU32(b, SML_OFF_PACKET)) return drop(pkt, SML_STAT_STALE);
    if (done!.read(c) !== 0) return drop(pkt, SML_STAT_DUPLICATE);
    const base = c * epp;
    for (let i = 0, off = SML_OFF_DATA; i < n; i++, off += 4) values.write(base + i, readI32(b, off));
    exponent.write(c, (b[SML_OFF_EXPONENT]! << 24) >> 24);
    overflow.write(c, (b[SML_OFF_FLAGS]! & SML_FLAG_OVERFLOW) !== 0 ? 1 : 0);
    done!.write(c, 1);
    stats.count(SHARP_STAT_RESULT_DOWN, b.length);
    b[SML_OFF_FLAGS] = b[SML_OFF_FLAGS]! & SML_FLAG_OVERFLOW;
    b[OFF_TTL] = FRESH_TTL;
    pkt.multicast(m.mcastGroup);
  };

  return {
    ingress(pkt) {
      const b = pkt.buf;
      if (!pkt.valid(sml) || readU32(b, OFF_DST) !== myAddress) return false;
      const kind = b[SML_OFF_KIND];
      if (kind === SML_UPDATE) aggregate(pkt);
      else if (kind === SML_RESULT && done !== null) fromParent(pkt);
      else return false;
      return true;
    },
    egress(pkt) {
      // Multicast result copies carry their replica's instance: address each to its child.
      if (pkt.instance !== 0) resultDst.apply(pkt);
    },
  };
}
