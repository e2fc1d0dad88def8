import type { Rng } from '../net/rng.js';
import { readU32 } from '../wire/bytes.js';
import { OFF_DST, OFF_SRC } from '../wire/common-header.js';
import { nodeByName, portsOf, type Topology } from '../topology/types.js';
import { distancesFrom } from '../topology/shortest-paths.js';

/**
 * Where a fuzzed frame enters the fabric: mostly where a real one would (the switch it is
 * addressed to, on its first port toward the source host, the port the aggregation manager
 * knows a worker by), so that aggregation rounds complete and source checks see the right
 * port; otherwise any switch, any port.
 */
export class Delivery {
  private readonly switchByAddress = new Map<number, number>();
  /** per switch index: a node's address → the switch's first port on a shortest path toward it */
  private readonly towards: Array<Map<number, number>>;
  readonly ports: readonly number[];

  constructor(
    private readonly topo: Topology,
    private readonly rng: Rng,
  ) {
    topo.switches.forEach((s, i) => this.switchByAddress.set(nodeByName(topo, s).address, i));
    this.towards = topo.switches.map(() => new Map<number, number>());
    // sources: hosts (workers) and switches (a tree child's partials)
    for (const h of [...topo.hosts, ...topo.switches]) {
      const dist = distancesFrom(topo, h);
      topo.switches.forEach((s, i) => {
        const here = dist.get(s)!;
        const p = here > 0 ? portsOf(topo, s).find((pp) => dist.get(pp.peer) === here - 1) : undefined;
        if (p) this.towards[i]!.set(nodeByName(topo, h).address, p.port);
      });
    }
    this.ports = topo.switches.map((s) => nodeByName(topo, s).ports);
  }

  /** [switch index, ingress port] for `frame`; `exact`: always where its sender's would arrive. */
  place(frame: Uint8Array, exact = false): [number, number] {
    const rng = this.rng;
    const dst = frame.length >= OFF_DST + 4 ? readU32(frame, OFF_DST) : -1;
    const own = this.switchByAddress.get(dst);
    const sw = own !== undefined && (exact || rng.int(5) !== 0) ? own : rng.int(this.topo.switches.length);
    return [sw, this.portAt(frame, sw, exact)];
  }

  /** The port of switch `sw` that `frame` enters by: mostly the one toward its source. */
  portAt(frame: Uint8Array, sw: number, exact = false): number {
    const src = frame.length >= OFF_SRC + 4 ? readU32(frame, OFF_SRC) : -1;
    const facing = this.towards[sw]!.get(src);
    return facing !== undefined && (exact || this.rng.int(5) !== 0) ? facing : this.rng.int(this.ports[sw]!);
  }
}
