import type { Fabric } from '../src/run/fabric.js';
import { SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ } from '../src/topology/aggregation-manager.js';

/**
 * Who to blame when an aggregation round does not complete. A worker that runs out of
 * retransmissions only knows that its result did not come; the switch it sends to knows whose
 * contributions the round holds (the copy's bitmap), so the error names the members still
 * missing, and says whether the switch itself answers (when this worker last got a result from
 * it). A stalled or cut-off member is named, not the aggregator or the worker that noticed.
 */
export interface BlameInput {
  readonly fabric: Fabric;
  /** the switch the worker sends its updates to */
  readonly switchName: string;
  /** its children in bit order (workers, or child switches in a tree) */
  readonly members: readonly string[];
  /** the slot copy: 2 · (the switch's slot base + slot) + ver */
  readonly copy: number;
  /** the round's sequence number (the packet the worker retransmitted) */
  readonly packet: number;
  /** the worker that gave up */
  readonly host: string;
  /** when the worker last got a result from the switch in this call (ns), or -1 */
  readonly lastResultNs: number;
  readonly nowNs: number;
}

/** The clause after the failure: what the switch's slot holds, and whether the switch answers. */
export function blameClause(o: BlameInput): string {
  const sw = o.switchName;
  const answers =
    o.lastResultNs >= 0
      ? `${sw} itself answers (its last result reached ${o.host} ${((o.nowNs - o.lastResultNs) / 1e3).toFixed(1)} µs earlier)`
      : `${sw} sent ${o.host} no result in this call`;
  const slot = readCopy(o.fabric, sw, o.copy);
  if (slot === null) return `${answers}; ${sw}'s slot state is not readable from this process`;
  const has = (i: number): boolean => ((slot.bitmap >>> i) & 1) === 1;
  const contributed = o.members.filter((_, i) => has(i));
  const missing = o.members.filter((_, i) => !has(i));
  if (slot.seq !== o.packet) {
    return `${sw} never got packet ${o.packet} from anyone (its copy holds packet ${slot.seq}): missing contributions from ${list(o.members)}; ${answers}`;
  }
  if (slot.count === 0 && contributed.length > 0) {
    return `the round completed on ${sw} (every contribution arrived); its result did not reach ${o.host}; ${answers}`;
  }
  return `the round on ${sw} waits for ${list(missing)} (contributions arrived from ${contributed.length > 0 ? list(contributed) : 'no one'}); ${answers}`;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'no one' : names.join(', ');
}

/** The copy's registers, read from the switch when it runs in this process (not a shadow copy). */
function readCopy(fabric: Fabric, sw: string, copy: number): { bitmap: number; count: number; seq: number } | null {
  const s = fabric.switches.get(sw);
  if (!s || !fabric.isLocal(sw)) return null;
  const cp = s.controlPlane;
  try {
    return { bitmap: cp.readRegister(SML_REG_BITMAP, copy), count: cp.readRegister(SML_REG_COUNT, copy), seq: cp.readRegister(SML_REG_SEQ, copy) };
  } catch {
    return null;
  }
}
