import type { Fabric } from '../src/run/fabric.js';
import { SHARP_REG_DONE, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ } from '../src/topology/aggregation-manager.js';

/**
 * Who to blame when an aggregation round does not complete. A worker that runs out of
 * retransmissions only knows that its result did not come; the switch it sends to knows whose
 * contributions the round holds (the copy's bitmap), so the error names the members still
 * missing, and says whether the switch itself answers (when this worker last got a result from
 * it). In a tree, a round complete at a switch whose total has not come down is followed up to
 * the parent, and so on. A stalled or cut-off member is named, not the aggregator or the
 * worker that noticed.
 */
export interface BlameInput {
  readonly fabric: Fabric;
  /** the switch the worker sends its updates to */
  readonly switchName: string;
  /** per switch of the job: its slot base, its members in bit order, its parent (trees) */
  readonly level: (name: string) => JobSwitch | undefined;
  readonly slot: number;
  /** the slot copy (the round's parity) */
  readonly ver: number;
  /** the round's sequence number (the packet the worker retransmitted) */
  readonly packet: number;
  /** the worker that gave up */
  readonly host: string;
  /** when the worker last got a result from the switch in this call (ns), or -1 */
  readonly lastResultNs: number;
  readonly nowNs: number;
}

export interface JobSwitch {
  readonly slotBase: number;
  /** workers, or child switches in a tree, in bitmap order */
  readonly members: readonly string[];
  readonly parent: string | null;
}

/** The clause after the failure: what the switches' slot copies hold, and whether the switch answers. */
export function blameClause(o: BlameInput): string {
  const sw = o.switchName;
  const answers =
    o.lastResultNs >= 0
      ? `${sw} itself answers (its last result reached ${o.host} ${((o.nowNs - o.lastResultNs) / 1e3).toFixed(1)} µs earlier)`
      : `${sw} sent ${o.host} no result in this call`;
  return `${roundAt(o, sw, o.host)}; ${answers}`;
}

/** What the round looks like on `sw`, and above it while it is complete there but not done. */
function roundAt(o: BlameInput, sw: string, below: string, depth = 0): string {
  const level = o.level(sw);
  const slot = level === undefined ? null : readCopy(o.fabric, sw, 2 * (level.slotBase + o.slot) + o.ver);
  if (level === undefined || slot === null) return `${sw}'s slot state is not readable from this process`;
  const has = (i: number): boolean => ((slot.bitmap >>> i) & 1) === 1;
  const contributed = level.members.filter((_, i) => has(i));
  const missing = level.members.filter((_, i) => !has(i));
  if (slot.seq !== o.packet) {
    return `${sw} holds no part of packet ${o.packet} (its copy is at packet ${slot.seq}): missing contributions from ${list(level.members)}`;
  }
  if (slot.count !== 0 || contributed.length === 0) {
    return `the round on ${sw} waits for ${list(missing)} (contributions arrived from ${list(contributed)})`;
  }
  if (level.parent !== null && slot.done === 0 && depth < 8) {
    return `the round completed on ${sw} (every contribution arrived) but its total never came down from ${level.parent}: ${roundAt(o, level.parent, sw, depth + 1)}`;
  }
  return `the round completed on ${sw} (every contribution arrived); its result did not reach ${below}`;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'no one' : names.join(', ');
}

/** The copy's registers, read from the switch when it runs in this process (not a shadow copy). */
function readCopy(fabric: Fabric, sw: string, copy: number): { bitmap: number; count: number; seq: number; done: number } | null {
  const s = fabric.switches.get(sw);
  if (!s || !fabric.isLocal(sw)) return null;
  const cp = s.controlPlane;
  try {
    // a flat job's copy has no done flag: complete means the result was sent
    const done = s.pipeline.registers.has(SHARP_REG_DONE) ? cp.readRegister(SHARP_REG_DONE, copy) : 1;
    return { bitmap: cp.readRegister(SML_REG_BITMAP, copy), count: cp.readRegister(SML_REG_COUNT, copy), seq: cp.readRegister(SML_REG_SEQ, copy), done };
  } catch {
    return null;
  }
}
