import type { Clock } from '../net/clock.js';
import type { Transport } from '../net/transport.js';
import { SimTransport } from '../net/sim-transport.js';
import { UdpTransport } from '../net/udp-transport.js';
import { SimClock } from '../net/sim-clock.js';
import { ShapedPort, DEFAULT_LINK, type LinkConfig } from '../net/link-shaper.js';
import { createRng, mixLabel, type Rng } from '../net/rng.js';
import type { DirectionStats, Port } from '../net/port.js';
import { Switch } from '../switch/switch.js';
import type { ProgramFactory } from '../pipeline/program.js';
import type { LinkSpec, Topology } from '../topology/types.js';
import { nodeByName } from '../topology/types.js';
import { installRoutes, SOURCE_GUARD_COUNTER } from '../topology/routing-controller.js';
import { AggregationManager, SML_DROP_REASONS, SML_STAT_NAMES, SML_STATS_COUNTER } from '../topology/aggregation-manager.js';
import { HostStack } from '../host/host-stack.js';
import { JobIds } from '../host/job-ids.js';
import { DetachedPort } from '../net/detached-port.js';
import type { ControlPlane, Update } from '../pipeline/control-plane.js';
import type { Programmable } from '../topology/routing-controller.js';
import { endpointAddress, type Addressing } from '../cluster/link-addresses.js';
import type { SlotCopyState } from '../cluster/messages.js';
import type { AggregationDrops, LinkReport, SwitchReport } from '../report/types.js';

export interface LinkOverride extends Partial<LinkConfig> {
  between: readonly [string, string] | readonly string[];
  /** the link is cut: wired but carrying nothing, and absent for the routing controller */
  down?: boolean;
}

export interface FabricSpec {
  readonly topology: Topology;
  readonly mode: 'sim' | 'udp';
  readonly seed: number;
  readonly links: Partial<LinkConfig> & { overrides?: readonly LinkOverride[] };
  /** the program every switch runs */
  readonly program: ProgramFactory;
  /** the scenario's `switches` section, handed to programs */
  readonly switchOptions?: Readonly<Record<string, unknown>>;
  /** udp only: the address sockets bind to */
  readonly host?: string;
  /** udp only: this process holds only some nodes of a multi-process run (`ina node`, `ina up`) */
  readonly placement?: FabricPlacement;
}

/**
 * Which part of a fabric lives in this process. Every process knows the whole topology (names,
 * addresses, link settings); only local nodes get sockets, a switch or a host stack. The others'
 * ports are DetachedPorts and their hosts stand-ins, so counters of theirs read zero here.
 */
export interface FabricPlacement {
  readonly local: ReadonlySet<string>;
  readonly addressing: Addressing;
  /** kernel: tc shapes the links outside the process, so the ports here only count */
  readonly shaping: 'software' | 'kernel';
  /**
   * with kernel shaping on a kernel without netem: the kernel does only the rate, the ports
   * here do delay, jitter, loss, reordering and duplication
   */
  readonly impairmentsInSoftware?: boolean;
  /**
   * every switch is built, its ports detached: the copies through which a coordinator's
   * controllers compute and validate control-plane writes before sending them to the nodes
   */
  readonly shadowSwitches?: boolean;
  /**
   * with shadowSwitches: every control-plane write a controller of this fabric makes (after it
   * succeeded on the shadow copy), to be sent on to the node that runs the switch
   */
  readonly controlMirror?: (switchName: string, updates: readonly Update[]) => void;
  /** which of the run's fabrics this is (see variantNumbers in runner.ts); 0, the scenario's, by default */
  readonly variant?: number;
  /**
   * reads an aggregation slot copy of a switch in another process (a worker node asks its
   * coordinator; see src/cluster/slot-read.ts); rejects with why it cannot
   */
  readonly readSlot?: (switchName: string, copy: number) => Promise<SlotCopyState>;
  /** called once the fabric is closed (a coordinator tells the nodes to close theirs) */
  readonly onClose?: () => void;
}

/** Link settings that shape nothing (the kernel does it): the port only counts. */
const UNSHAPED: LinkConfig = { ...DEFAULT_LINK, rateGbps: 0, delayUs: 0, jitterUs: 0, lossRate: 0, reorderRate: 0, duplicateRate: 0, ecnThresholdBytes: 0 };

export interface FabricLink {
  readonly spec: LinkSpec;
  readonly config: LinkConfig;
  /** egress of spec.a toward spec.b */
  readonly ab: ShapedPort;
  /** egress of spec.b toward spec.a */
  readonly ba: ShapedPort;
  /** cut by a `down: true` override: its ports drop everything and no route uses it */
  readonly down: boolean;
}


/**
 * The switches as a controller sees them, each write applied to the local copy first (which
 * validates it and keeps the copy's state what the controller expects) and then handed on.
 */
function mirrored(switches: ReadonlyMap<string, Switch>, forward: (name: string, updates: readonly Update[]) => void): Map<string, Programmable> {
  const out = new Map<string, Programmable>();
  for (const [name, sw] of switches) {
    const cp = sw.controlPlane;
    const view = Object.create(cp) as ControlPlane<unknown>;
    view.write = (updates: readonly Update[]): void => {
      try {
        cp.write(updates);
      } catch (e) {
        // the updates before the failing one stay applied, here and so on the node
        const applied = (e as { updateIndex?: number }).updateIndex ?? 0;
        if (applied > 0) forward(name, updates.slice(0, applied));
        throw e;
      }
      forward(name, updates);
    };
    out.set(name, { name, controlPlane: view, resources: () => sw.resources() });
  }
  return out;
}

/** The aggregation stage's drop counters by reason, from its switchml_stats cells. */
function aggregationDropsOf(cell: (index: number) => number): AggregationDrops {
  const out = {} as Record<(typeof SML_DROP_REASONS)[number], number>;
  for (const r of SML_DROP_REASONS) out[r] = cell(SML_STAT_NAMES.indexOf(r));
  return out;
}

/** A link's report row from its two directions' counters (ab: egress of a toward b). */
export function linkReportOf(l: Pick<LinkSpec, 'a' | 'b'>, ab: DirectionStats, ba: DirectionStats): LinkReport {
  return {
    a: l.a,
    b: l.b,
    bytes: { ab: ab.bytes, ba: ba.bytes },
    packets: { ab: ab.packets, ba: ba.packets },
    drops: { ab: ab.drops, ba: ba.drops },
    lost: { ab: ab.lost, ba: ba.lost },
    ecnMarked: { ab: ab.ecnMarked, ba: ba.ecnMarked },
    maxQueueBytes: { ab: ab.maxQueueBytes, ba: ba.maxQueueBytes },
  };
}

/** Bytes per tier, both directions summed, from link reports in topology link order. */
export function tierBytesOf(topology: Topology, links: readonly LinkReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of topology.tierKeys) out[k] = 0;
  topology.links.forEach((l, i) => {
    const r = links[i]!;
    out[l.tier] = (out[l.tier] ?? 0) + r.bytes.ab + r.bytes.ba;
  });
  return out;
}

export function linkConfigFor(spec: FabricSpec['links'], a: string, b: string): LinkConfig {
  const { overrides, ...defaults } = spec;
  let cfg: LinkConfig = { ...DEFAULT_LINK, ...defaults };
  for (const o of overrides ?? []) {
    const [x, y] = o.between;
    if ((x === a && y === b) || (x === b && y === a)) {
      const { between: _between, down: _down, ...rest } = o;
      cfg = { ...cfg, ...rest };
    }
  }
  return cfg;
}

/** Whether overrides cut the link between a and b (the last override that says wins). */
export function linkIsDown(spec: FabricSpec['links'], a: string, b: string): boolean {
  let down = false;
  for (const o of spec.overrides ?? []) {
    const [x, y] = o.between;
    if (((x === a && y === b) || (x === b && y === a)) && o.down !== undefined) down = o.down;
  }
  return down;
}

/** The topology without its cut links: what the routing controller computes paths on. */
export function withoutLinks(topo: Topology, cut: ReadonlySet<LinkSpec>): Topology {
  return cut.size === 0 ? topo : { ...topo, links: topo.links.filter((l) => !cut.has(l)) };
}

/**
 * A running fabric: every link a transport link wrapped in link emulation on both egress
 * sides, every switch a target running the program with routes installed by the controller,
 * every host a network stack. The same build serves sim and udp modes.
 */
export class Fabric {
  readonly switches = new Map<string, Switch>();
  readonly hosts = new Map<string, HostStack>();
  /** the ids of the jobs workloads run on this fabric (allocated by the leader's copy) */
  readonly jobIds = new JobIds();
  readonly links: FabricLink[] = [];
  readonly rng: Rng;
  /** true when some link loses frames (workloads decide what "correct" means with loss) */
  lossy = false;
  private aggregationManager: AggregationManager | null = null;
  /** the topology routes were computed on (cut links left out) */
  private routed: Topology | null = null;

  private constructor(
    readonly spec: FabricSpec,
    readonly transport: Transport,
  ) {
    this.rng = createRng(spec.seed);
  }

  get topology(): Topology {
    return this.spec.topology;
  }

  get clock(): Clock {
    return this.transport.clock;
  }

  /** The controller of in-network aggregation jobs on this fabric, created on first use. */
  get aggregation(): AggregationManager {
    const mirror = this.spec.placement?.controlMirror;
    return (this.aggregationManager ??= new AggregationManager(this.spec.topology, mirror ? mirrored(this.switches, mirror) : this.switches, this.routed ?? this.spec.topology));
  }

  static async build(spec: FabricSpec): Promise<Fabric> {
    if (spec.placement && spec.mode !== 'udp') throw new Error('a fabric spread over processes runs over udp only');
    const transport: Transport = spec.mode === 'sim' ? new SimTransport(new SimClock()) : new UdpTransport(spec.host ?? '127.0.0.1');
    const f = new Fabric(spec, transport);
    try {
      await f.wire();
    } catch (e) {
      await transport.close();
      throw e;
    }
    return f;
  }

  private async wire(): Promise<void> {
    const topo = this.spec.topology;
    const clock = this.transport.clock;
    const ports = new Map<string, Port[]>();
    for (const n of topo.nodes) ports.set(n.name, new Array<Port>(n.ports));
    const linkRng = this.rng.fork('links');
    for (const [index, l] of topo.links.entries()) {
      const config = linkConfigFor(this.spec.links, l.a, l.b);
      if (config.lossRate > 0) this.lossy = true;
      const [pa, pb] = await this.linkPorts(l, index);
      const p = this.spec.placement;
      const shaping =
        p?.shaping !== 'kernel'
          ? config
          : p.impairmentsInSoftware
            ? { ...UNSHAPED, delayUs: config.delayUs, jitterUs: config.jitterUs, lossRate: config.lossRate, reorderRate: config.reorderRate, duplicateRate: config.duplicateRate }
            : UNSHAPED;
      const ab = new ShapedPort(pa, clock, shaping, linkRng.fork(`${l.a}->${l.b}`));
      const ba = new ShapedPort(pb, clock, shaping, linkRng.fork(`${l.b}->${l.a}`));
      const down = linkIsDown(this.spec.links, l.a, l.b);
      if (down) {
        // A closed port drops (and counts) whatever is sent to it; routing never sends any.
        ab.close();
        ba.close();
      }
      ports.get(l.a)![l.aPort] = ab;
      ports.get(l.b)![l.bPort] = ba;
      this.links.push({ spec: l, config, ab, ba, down });
    }
    // What a target knows of its ports: which face hosts (edge ports) and their line rates.
    const portInfo = (name: string): { portIsHost: boolean[]; portRateGbps: number[] } => {
      const node = nodeByName(topo, name);
      const portIsHost = new Array<boolean>(node.ports).fill(false);
      const portRateGbps = new Array<number>(node.ports).fill(0);
      for (const { spec: l, config } of this.links) {
        for (const [me, port, peer] of [[l.a, l.aPort, l.b], [l.b, l.bPort, l.a]] as const) {
          if (me !== name) continue;
          portIsHost[port] = nodeByName(topo, peer).role === 'host';
          portRateGbps[port] = config.rateGbps;
        }
      }
      return { portIsHost, portRateGbps };
    };
    const placement = this.spec.placement;
    for (const name of topo.switches) {
      if (!this.isLocal(name) && !placement?.shadowSwitches) continue;
      const swPorts = ports.get(name)!;
      this.switches.set(
        name,
        new Switch({
          name,
          program: this.spec.program,
          ports: swPorts,
          clock,
          rng: this.rng.fork(`switch:${name}`),
          // distinct per switch, so hash-based choices at two tiers do not polarize
          seed: mixLabel(this.spec.seed, name),
          // per switch: its loopback, which in-network services (aggregation) answer on
          options: { ...this.spec.switchOptions, address: nodeByName(topo, name).address, ...portInfo(name) },
          queueDrops: (port) => (swPorts[port] as ShapedPort).stats.drops,
        }),
      );
    }
    for (const name of topo.hosts) {
      const node = nodeByName(topo, name);
      // A host of another process: its name and address, and a port that refuses to send.
      const port = this.isLocal(name) ? ports.get(name)![0]! : new DetachedPort(`${name}:0`);
      this.hosts.set(name, new HostStack(name, node.address, port, clock, this.rng.fork(`host:${name}`)));
    }
    this.routed = withoutLinks(topo, new Set(this.links.filter((l) => l.down).map((l) => l.spec)));
    installRoutes(this.routed, this.switches, placement ? (n) => this.switches.has(n) : undefined);
  }

  /** Both ends of a link: a transport link in one process, or this process's ends of it. */
  private async linkPorts(l: LinkSpec, index: number): Promise<[Port, Port]> {
    const a = `${l.a}:${l.aPort}`;
    const b = `${l.b}:${l.bPort}`;
    const placement = this.spec.placement;
    if (!placement) return this.transport.link(a, b);
    const udp = this.transport as UdpTransport;
    const side = async (name: string, node: string, me: 'a' | 'b'): Promise<Port> => {
      if (!placement.local.has(node)) return new DetachedPort(name);
      const other = me === 'a' ? 'b' : 'a';
      const v = placement.variant ?? 0;
      const links = this.spec.topology.links.length;
      return udp.placed(name, endpointAddress(placement.addressing, index, me, v, links), endpointAddress(placement.addressing, index, other, v, links));
    };
    return [await side(a, l.a, 'a'), await side(b, l.b, 'b')];
  }

  /** Whether this process holds the node's ports (always, unless the fabric is spread out). */
  isLocal(node: string): boolean {
    return !this.spec.placement || this.spec.placement.local.has(node);
  }

  linkReports(): LinkReport[] {
    return this.links.map(({ spec, ab, ba }) => linkReportOf(spec, ab.stats, ba.stats));
  }

  switchReports(): SwitchReport[] {
    return [...this.switches.values()].map((s) => {
      const counters = s.pipeline.counters;
      const guard = counters.get(SOURCE_GUARD_COUNTER);
      const stats = counters.get(SML_STATS_COUNTER);
      return {
        name: s.name,
        program: s.pipeline.program.name,
        packetsIn: s.packetsIn,
        packetsOut: s.packetsOut,
        // spoofed: the edge's source guard (already among `table`, the program's drops)
        drops: { ...s.drops(), spoofed: guard ? guard.read(0).packets : 0 },
        consumed: s.consumed(),
        parserErrors: s.parserErrors(),
        // aggregating programs: why contributions were refused (also among drops.table)
        ...(stats ? { aggregation: aggregationDropsOf((i) => stats.read(i).packets) } : {}),
      };
    });
  }

  /** Bytes carried per tier so far, both directions summed (the report's tierBytes). */
  tierBytes(): Record<string, number> {
    return tierBytesOf(this.topology, this.linkReports());
  }

  async close(): Promise<void> {
    await this.transport.close();
    this.spec.placement?.onClose?.();
  }
}
