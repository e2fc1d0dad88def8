import type { Clock } from '../net/clock.js';
import type { Transport } from '../net/transport.js';
import { SimTransport } from '../net/sim-transport.js';
import { UdpTransport } from '../net/udp-transport.js';
import { SimClock } from '../net/sim-clock.js';
import { LinkPort, DEFAULT_LINK, queueConfigOf, type LinkConfig } from '../net/link-shaper.js';
import { QueuedPort } from '../net/queued-port.js';
import { tapped, type PortTap } from '../net/port-tap.js';
import { createRng, mixLabel, type Rng } from '../net/rng.js';
import type { DirectionStats, Port } from '../net/port.js';
import type { QueueConfig } from '../net/egress-queue.js';
import { Switch } from '../switch/switch.js';
import type { PortInfo, ProgramFactory } from '../pipeline/program.js';
import { portInfoOf } from '../topology/port-info.js';
import type { LinkSpec, Topology } from '../topology/types.js';
import { nodeByName } from '../topology/types.js';
import { installRoutes, SOURCE_GUARD_COUNTER } from '../topology/routing-controller.js';
import { AggregationManager, SML_DROP_REASONS, SML_STAT_NAMES, SML_STATS_COUNTER } from '../topology/aggregation-manager.js';
import { HostStack } from '../host/host-stack.js';
import { JobIds } from '../host/job-ids.js';
import { DetachedPort } from '../net/detached-port.js';
import type { ControlPlane, Update } from '../pipeline/control-plane.js';
import type { Programmable } from '../topology/routing-controller.js';
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
  /**
   * a tap on a node's port (capture, tracing), or undefined for none; it wraps the transport
   * port under the link emulation, so it sees frames as they arrive and as they are delivered
   */
  readonly tap?: (node: string, port: number) => PortTap | undefined;
}

/**
 * Where the two transport ports of each link come from. By default both ends are made by the
 * fabric's transport in this process; a fabric spread over processes is given one that binds
 * this process's ends where the peers expect them (src/cluster/placed-links.ts).
 */
export interface LinkProvider {
  /** both ends of link `index` (topology order), named `node:port`; an end not here may be a DetachedPort */
  link(spec: LinkSpec, index: number, names: readonly [string, string]): Promise<[Port, Port]>;
  /** closes what the provider made (the fabric's transport closes its own ports) */
  close?(): Promise<void>;
}

/**
 * Which part of a fabric lives in this process. Every process knows the whole topology (names,
 * addresses, link settings); only local nodes get sockets, a switch or a host stack. The others'
 * ports are DetachedPorts and their hosts stand-ins, so counters of theirs read zero here.
 */
export interface FabricPlacement {
  readonly local: ReadonlySet<string>;
  /** the sockets of this process's link ends */
  readonly links: LinkProvider;
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

/** Both ends of every link from the fabric's own transport, in this process. */
export function transportLinks(transport: Transport): LinkProvider {
  return { link: (_spec, _index, [a, b]) => transport.link(a, b) };
}

/** Link settings that shape nothing (the kernel does it): the port only counts. */
const UNSHAPED: LinkConfig = { ...DEFAULT_LINK, rateGbps: 0, delayUs: 0, jitterUs: 0, lossRate: 0, reorderRate: 0, duplicateRate: 0, ecnThresholdBytes: 0 };

/** One direction of a link as its report row sees it: the sender's queue and the wire. */
export interface LinkDirection {
  /** the wire from this end */
  readonly wire: LinkPort;
  /** counters of the direction (queue and wire), settled to now */
  readonly stats: DirectionStats;
  /** cuts the direction: what is queued or on the wire is lost, and whatever is sent later dropped */
  close(): void;
}

export interface FabricLink {
  readonly spec: LinkSpec;
  readonly config: LinkConfig;
  /** egress of spec.a toward spec.b */
  readonly ab: LinkDirection;
  /** egress of spec.b toward spec.a */
  readonly ba: LinkDirection;
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
  private linkProvider: LinkProvider | null = null;
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
      await f.linkProvider?.close?.();
      await transport.close();
      throw e;
    }
    return f;
  }

  private async wire(): Promise<void> {
    const topo = this.spec.topology;
    const clock = this.transport.clock;
    const placement = this.spec.placement;
    const provider: LinkProvider = placement?.links ?? transportLinks(this.transport);
    this.linkProvider = provider;
    const ports = new Map<string, LinkPort[]>();
    const queues = new Map<string, QueueConfig[]>();
    for (const n of topo.nodes) {
      ports.set(n.name, new Array<LinkPort>(n.ports));
      queues.set(n.name, new Array<QueueConfig>(n.ports));
    }
    const linkRng = this.rng.fork('links');
    const wired: Array<{ spec: LinkSpec; config: LinkConfig; ab: LinkPort; ba: LinkPort; down: boolean }> = [];
    for (const [index, l] of topo.links.entries()) {
      const config = linkConfigFor(this.spec.links, l.a, l.b);
      if (config.lossRate > 0) this.lossy = true;
      const [pa, pb] = await provider.link(l, index, [`${l.a}:${l.aPort}`, `${l.b}:${l.bPort}`]);
      const shaping =
        placement?.shaping !== 'kernel'
          ? config
          : placement.impairmentsInSoftware
            ? { ...UNSHAPED, delayUs: config.delayUs, jitterUs: config.jitterUs, lossRate: config.lossRate, reorderRate: config.reorderRate, duplicateRate: config.duplicateRate }
            : UNSHAPED;
      const tap = this.spec.tap;
      const ab = new LinkPort(tapped(pa, tap?.(l.a, l.aPort), clock), clock, shaping, linkRng.fork(`${l.a}->${l.b}`));
      const ba = new LinkPort(tapped(pb, tap?.(l.b, l.bPort), clock), clock, shaping, linkRng.fork(`${l.b}->${l.a}`));
      const down = linkIsDown(this.spec.links, l.a, l.b);
      if (down) {
        // A closed port drops (and counts) whatever is sent to it; routing never sends any.
        ab.close();
        ba.close();
      }
      ports.get(l.a)![l.aPort] = ab;
      ports.get(l.b)![l.bPort] = ba;
      // the egress queue at each end, in front of its wire (a switch's traffic manager or a host's NIC keeps it)
      queues.get(l.a)![l.aPort] = queueConfigOf(shaping);
      queues.get(l.b)![l.bPort] = queueConfigOf(shaping);
      wired.push({ spec: l, config, ab, ba, down });
    }
    // What a target knows of its ports: which face hosts (edge ports) and their line rates.
    const rates = new Map<string, number[]>();
    for (const { spec: l, config } of wired) {
      for (const [me, port] of [[l.a, l.aPort], [l.b, l.bPort]] as const) {
        if (!rates.has(me)) rates.set(me, []);
        rates.get(me)![port] = config.rateGbps;
      }
    }
    const portInfo = (name: string): PortInfo[] => portInfoOf(topo, name, (port) => rates.get(name)?.[port] ?? 0);
    for (const name of topo.switches) {
      if (!this.isLocal(name) && !placement?.shadowSwitches) continue;
      this.switches.set(
        name,
        new Switch({
          name,
          program: this.spec.program,
          ports: ports.get(name)!,
          queues: queues.get(name)!,
          clock,
          rng: this.rng.fork(`switch:${name}`),
          // distinct per switch, so hash-based choices at two tiers do not polarize
          seed: mixLabel(this.spec.seed, name),
          // per switch: its loopback, which in-network services (aggregation) answer on
          options: { ...this.spec.switchOptions, address: nodeByName(topo, name).address },
          portInfo: portInfo(name),
        }),
      );
    }
    const nics = new Map<string, QueuedPort>();
    for (const name of topo.hosts) {
      const node = nodeByName(topo, name);
      let port: Port;
      if (this.isLocal(name)) {
        // the host's NIC: an egress queue in front of its link's wire
        const nic = QueuedPort.over(ports.get(name)![0]!, queues.get(name)![0]!, clock);
        nics.set(name, nic);
        port = nic;
      } else {
        // A host of another process: its name and address, and a port that refuses to send.
        port = new DetachedPort(`${name}:0`);
      }
      this.hosts.set(name, new HostStack(name, node.address, port, clock, this.rng.fork(`host:${name}`)));
    }
    // Each direction's counters are kept by its sender: a switch's traffic manager, a host's
    // NIC; an end no one sends from here (another process's) reads the wire's own.
    const sender = (node: string, port: number, wire: LinkPort): LinkDirection => {
      const q = this.switches.get(node)?.trafficManager.queuedPort(port) ?? (port === 0 ? nics.get(node) : undefined);
      const end = q ?? wire;
      return { wire, get stats() { return end.stats; }, close: () => end.close() };
    };
    for (const w of wired) {
      this.links.push({ spec: w.spec, config: w.config, ab: sender(w.spec.a, w.spec.aPort, w.ab), ba: sender(w.spec.b, w.spec.bPort, w.ba), down: w.down });
    }
    this.routed = withoutLinks(topo, new Set(this.links.filter((l) => l.down).map((l) => l.spec)));
    installRoutes(this.routed, this.switches, placement ? (n) => this.switches.has(n) : undefined);
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
    await this.linkProvider?.close?.();
    await this.transport.close();
    this.spec.placement?.onClose?.();
  }
}
