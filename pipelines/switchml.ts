import { defineProgram } from '../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../src/pipeline/common-header.js';
import type { Packet } from '../src/pipeline/packet.js';
import { readI32, readU16, readU32, writeI32, writeU32 } from '../src/wire/bytes.js';
import { OFF_DST, OFF_DSTPORT, OFF_PAYLOADLEN, OFF_PROTOCOL, OFF_SRC, OFF_TTL } from '../src/wire/common-header.js';
import { PROTO_SWITCHML } from '../src/wire/protocols.js';
import {
  SML_FLAG_OVERFLOW, SML_HEADER_BYTES, SML_OFF_COUNT, SML_OFF_DATA, SML_OFF_EXPONENT, SML_OFF_FLAGS, SML_OFF_KIND,
  SML_OFF_PACKET, SML_OFF_SLOT, SML_OFF_VER, SML_RESULT, SML_UPDATE, switchmlHeaderLayout,
} from '../src/wire/switchml.js';
import { declareForwarding } from './lib/forwarding.js';
import {
  SML_DEFAULT_ELEMENTS, SML_DEFAULT_SLOTS, SML_MAX_WORKERS, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_EXPONENT,
  SML_REG_OVERFLOW, SML_REG_SEQ, SML_REG_VALUES, SML_RESULT_DST_TABLE, SML_STAT_AGGREGATED, SML_STAT_BAD_SLOT,
  SML_STAT_COMPLETED, SML_STAT_DUPLICATE, SML_STAT_MALFORMED, SML_STAT_NAMES, SML_STAT_RESENT, SML_STAT_STALE,
  SML_STAT_UNKNOWN_WORKER, SML_STATS_COUNTER, SML_WORKERS_TABLE, SML_WORKERS_KEY_SRC, SML_WORKERS_KEY_JOB, SML_SET_WORKER,
  SML_RESULT_DST_KEY, SML_SET_RESULT_DST,
} from '../src/topology/aggregation-manager.js';

/**
 * SwitchML-style in-network aggregation (Sapio et al., NSDI'21) on the engine's registers,
 * plus ECMP forwarding of everything else: this switch aggregates AND forwards.
 *
 * Control-plane surface (what src/topology/aggregation-manager.ts writes):
 *   table  switchml_workers     exact (hdr.common.src, hdr.common.dstPort = job id)
 *                               -> set_worker(workerBit, numWorkers, mcastGroup, slotBase, slotCount)
 *   table  switchml_result_dst  egress, exact (std.instance) -> set_result_dst(dst)
 *   multicast groups            one per job, one replica per worker
 *   registers                   switchml_{values,bitmap,count,exponent,overflow,seq}, per slot
 *                               copy c = 2·slot + ver (values: c·elementsPerPacket + i)
 *   counter switchml_stats      indexed by SML_STAT_*
 * The names live in src/topology/aggregation-manager.ts, the controller that writes them.
 *
 * Options (env.options): `address` (this switch's loopback; UPDATEs to it are aggregated,
 * without it the program only forwards) and `aggregation: { slots, elementsPerPacket }`.
 *
 * The algorithm is SwitchML's (two shadow copies per slot, a worker bitmap per copy, a
 * contribution counter mod n, overwrite on the first contribution instead of a clear pass,
 * result multicast on completion, unicast re-send of a completed result to a retransmitting
 * worker). One addition: each copy remembers the `packet` sequence number of its round
 * (switchml_seq). SwitchML's argument that a worker's bit cleared in copy v means "this worker
 * moved on" assumes no packet is delayed past its sender's next round on the slot; link
 * emulation that duplicates and holds frames back breaks that (a held duplicate of round r
 * arriving after the same worker's round r+1 would be added into copy v as fresh data, and
 * then block round r+2 forever). The client numbers packets monotonically over the whole job,
 * so a contribution is accepted only for the round in progress (same seq) or to start a new
 * round on an idle copy (a newer seq); anything older is dropped as stale. In every other case
 * the decisions are exactly SwitchML's.
 */

interface Meta {
  known: boolean;
  workerBit: number;
  numWorkers: number;
  mcastGroup: number;
  slotBase: number;
  slotCount: number;
}

const FRESH_TTL = 64;

function aggregationOptions(o: Readonly<Record<string, unknown>>): { slots: number; elementsPerPacket: number } {
  const a = (o.aggregation ?? {}) as { slots?: unknown; elementsPerPacket?: unknown };
  const slots = a.slots ?? SML_DEFAULT_SLOTS;
  const epp = a.elementsPerPacket ?? SML_DEFAULT_ELEMENTS;
  if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 1) throw new Error(`switchml: aggregation.slots must be a positive integer, got ${String(slots)}`);
  if (typeof epp !== 'number' || !Number.isInteger(epp) || epp < 1 || epp > 0xffff) throw new Error(`switchml: aggregation.elementsPerPacket must be an integer in 1..65535, got ${String(epp)}`);
  return { slots, elementsPerPacket: epp };
}

export default defineProgram<Meta>({
  name: 'switchml',
  description: 'SwitchML in-network aggregation (shadow-copy slots, bitmaps, multicast results) + ECMP forwarding',
  metadata: () => ({ known: false, workerBit: 0, numWorkers: 0, mcastGroup: 0, slotBase: 0, slotCount: 0 }),
  resetMetadata: (m) => {
    m.known = false;
  },
  // multicast replicas each get a copy; egress reads none of it, so a shallow copy is plenty
  copyMetadata: (m) => ({ ...m }),
  build(p, env) {
    const { slots, elementsPerPacket: epp } = aggregationOptions(env.options);
    const addr = env.options.address;
    const myAddress = typeof addr === 'number' ? addr >>> 0 : -1;

    const common = declareCommonHeader(p);
    const sml = p.header('switchml', switchmlHeaderLayout);
    p.parser({
      start: {
        extract: [common],
        verify: verifyCommonHeader,
        select: { key: (pkt) => pkt.buf[OFF_PROTOCOL]!, cases: [{ value: PROTO_SWITCHML, next: 'switchml' }], default: 'accept' },
      },
      switchml: {
        extract: [sml],
        // the values must fill the payload exactly: elementCount is what the switch reads
        verify: (pkt) => (readU16(pkt.buf, OFF_PAYLOADLEN) === SML_HEADER_BYTES + 4 * readU16(pkt.buf, SML_OFF_COUNT) ? null : 'SwitchmlLength'),
        next: 'accept',
      },
    });
    const routes = declareForwarding(p, 'ecmp');

    const copies = slots * 2;
    const values = p.register(SML_REG_VALUES, 32, copies * epp, true);
    const bitmap = p.register(SML_REG_BITMAP, 32, copies);
    const count = p.register(SML_REG_COUNT, 8, copies);
    const exponent = p.register(SML_REG_EXPONENT, 8, copies, true);
    const overflow = p.register(SML_REG_OVERFLOW, 1, copies);
    const seq = p.register(SML_REG_SEQ, 32, copies);
    const stats = p.counter(SML_STATS_COUNTER, SML_STAT_NAMES.length, 'packets');

    const setWorker = p.action(
      SML_SET_WORKER,
      [
        { name: 'workerBit', width: 8 },
        { name: 'numWorkers', width: 8 },
        { name: 'mcastGroup', width: 16 },
        { name: 'slotBase', width: 32 },
        { name: 'slotCount', width: 32 },
      ],
      (pkt, a) => {
        const m = pkt.meta;
        m.known = true;
        m.workerBit = a[0]!;
        m.numWorkers = a[1]!;
        m.mcastGroup = a[2]!;
        m.slotBase = a[3]!;
        m.slotCount = a[4]!;
      },
    );
    const workers = p.table({
      name: SML_WORKERS_TABLE,
      keys: [
        { name: SML_WORKERS_KEY_SRC, match: 'exact', width: 32, read: (pkt) => readU32(pkt.buf, OFF_SRC) },
        { name: SML_WORKERS_KEY_JOB, match: 'exact', width: 16, read: (pkt) => readU16(pkt.buf, OFF_DSTPORT) },
      ],
      actions: [setWorker],
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

    const drop = (pkt: Packet<Meta>, reason: number): void => {
      stats.count(reason, pkt.buf.length);
      pkt.markToDrop();
    };

    /** Copies copy c's aggregate into the frame and turns it into a RESULT. */
    const writeResult = (b: Uint8Array, c: number, n: number): void => {
      const base = c * epp;
      for (let i = 0, o = SML_OFF_DATA; i < n; i++, o += 4) writeI32(b, o, values.read(base + i));
      b[SML_OFF_KIND] = SML_RESULT;
      b[SML_OFF_FLAGS] = overflow.read(c) ? SML_FLAG_OVERFLOW : 0;
      b[SML_OFF_EXPONENT] = exponent.read(c) & 0xff;
      b[OFF_TTL] = FRESH_TTL;
    };

    const aggregate = (pkt: Packet<Meta>): void => {
      workers.apply(pkt);
      const m = pkt.meta;
      const b = pkt.buf;
      if (!m.known) return drop(pkt, SML_STAT_UNKNOWN_WORKER);
      const s = readU16(b, SML_OFF_SLOT);
      const slot = m.slotBase + s;
      if (s >= m.slotCount || slot >= slots) return drop(pkt, SML_STAT_BAD_SLOT);
      const ver = b[SML_OFF_VER]!;
      const n = readU16(b, SML_OFF_COUNT);
      const workersN = m.numWorkers;
      if (ver > 1 || n > epp || m.workerBit >= SML_MAX_WORKERS || workersN < 1 || workersN > SML_MAX_WORKERS) return drop(pkt, SML_STAT_MALFORMED);

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
          // the copy holds this round's complete result
          if ((bm & bit) === 0) return drop(pkt, SML_STAT_STALE);
          // a retransmission: the worker lost its result; answer it alone
          stats.count(SML_STAT_RESENT, b.length);
          writeResult(b, c, n);
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

      // A new contribution: set the worker's bit here, clear it in the other copy.
      bitmap.write(c, bm | bit);
      const o = c ^ 1;
      bitmap.write(o, bitmap.read(o) & ~bit);
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
      stats.count(SML_STAT_AGGREGATED, b.length);
      if (!complete) {
        // consumed: the contribution lives in the registers now
        pkt.consume();
        return;
      }
      stats.count(SML_STAT_COMPLETED, b.length);
      writeResult(b, c, n);
      pkt.multicast(m.mcastGroup);
    };

    return {
      ingress(pkt) {
        const b = pkt.buf;
        if (pkt.valid(sml) && b[SML_OFF_KIND] === SML_UPDATE && readU32(b, OFF_DST) === myAddress) {
          aggregate(pkt);
          return;
        }
        routes.apply(pkt);
      },
      egress(pkt) {
        // Multicast result copies carry their replica's instance: address each to its worker.
        if (pkt.instance !== 0) resultDst.apply(pkt);
      },
    };
  },
});
