import type { ProgramBuilder } from '../../../src/pipeline/program.js';
import type { Packet } from '../../../src/pipeline/packet.js';
import type { GroupView } from '../../../src/pipeline/table.js';
import type { Register } from '../../../src/pipeline/externs/register.js';
import { commonHeaderOf } from '../../../src/pipeline/common-header.js';
import { FiveTuple, indexOfPort } from './scheme.js';

/** The flowlet gap of LetFlow and CONGA (`flowletGapUs`). */
export const DEFAULT_FLOWLET_GAP_US = 100;

export function flowletGapNs(o: Readonly<Record<string, unknown>>): number {
  const v = o.flowletGapUs ?? DEFAULT_FLOWLET_GAP_US;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`flowletGapUs must be a number > 0, got ${String(v)}`);
  return v * 1000;
}

/** entries of a flowlet table (a power of two; the index is the low bits of the 5-tuple crc) */
export const FLOWLET_ENTRIES = 1 << 16;

/**
 * A flowlet table in two registers: the time (ns, mod 2^32, as a 32-bit hardware timestamp) of
 * the last packet that hit each entry, and the port its flowlet is pinned to (+1; 0 = empty).
 * An entry changes port only when a packet finds it idle for more than the gap, so no flow
 * sharing the entry can move inside a shorter gap of its own.
 */
export class FlowletTable {
  readonly last: Register;
  readonly port: Register;
  /** the entry of the packet last looked up */
  index = 0;
  /** the port that entry was pinned to before (-1 none) */
  previousPort = -1;
  private readonly tuple: FiveTuple;

  constructor(p: ProgramBuilder<any>, prefix: string, readonly gapNs: number) {
    this.last = p.register(`${prefix}_last`, 32, FLOWLET_ENTRIES);
    this.port = p.register(`${prefix}_port`, 16, FLOWLET_ENTRIES);
    this.tuple = new FiveTuple(commonHeaderOf(p), p.hash('crc32', 0x51f));
  }

  /** The member the packet's flowlet is on, or -1 when the packet starts a new flowlet. */
  current<M>(pkt: Packet<M>, g: GroupView<M>): number {
    const i = this.tuple.hash(pkt) & (FLOWLET_ENTRIES - 1);
    this.index = i;
    const now = this.last.wrap(pkt.timestampNs);
    const last = this.last.read(i);
    this.last.write(i, now);
    const stored = this.port.read(i);
    this.previousPort = stored - 1;
    if (stored === 0) return -1;
    if (((now - last) >>> 0) > this.gapNs) return -1;
    // An entry shared with a flow of another route may hold a port outside this group.
    return indexOfPort(g, stored - 1);
  }

  pin(port: number): void {
    this.port.write(this.index, port + 1);
  }
}
