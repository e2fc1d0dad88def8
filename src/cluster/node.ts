import { writeFileSync, rmSync } from 'node:fs';
import { loadScenario } from '../scenario/load.js';
import { buildTopology } from '../topology/from-spec.js';
import { findNode } from '../topology/types.js';
import { buildScenarioFabric, runWorkloads } from '../run/runner.js';
import { linkConfigFor, linkIsDown, type Fabric } from '../run/fabric.js';
import { RealDriver, type Driver } from '../run/driver.js';
import { connectControl, type ControlAddress, type ControlChannel } from './control-channel.js';
import { Collectives } from './collectives.js';
import { localLinkSides } from './fabric-counters.js';
import { endpointAddress, linksOf, type Addressing } from './link-addresses.js';
import { placedLinks } from './placed-links.js';
import { AddressMapError, loadAddressMap } from './address-map.js';
import { KERNEL_WITHOUT_NETEM, needsShaping, qdiscDrops, shapeInterface, waitForAddresses } from './kernel-shaping.js';
import type { CoordinatorMessage } from './messages.js';
import { readSlotCopy, SlotReader } from './slot-read.js';
import { muteAggregationForTest } from './test-mute.js';

export interface NodeOptions {
  readonly scenarioFile: string;
  readonly node: string;
  readonly control: ControlAddress;
  /** a plan, or an address map file (read once the topology is known) */
  readonly addressing: Addressing | { kind: 'map-file'; file: string };
  readonly shaping: 'software' | 'kernel';
  /** written once the node's ports are bound and the coordinator knows it (a healthcheck) */
  readonly readyFile?: string;
  /** how long to wait for the coordinator and for link addresses to appear */
  readonly connectTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** A node that cannot go on: the reason, already told to the coordinator if it was reachable. */
export class NodeError extends Error {
  /** a bad command line (exit 2), not a failure on the way */
  usage = false;
}

function usageError(message: string): NodeError {
  const e = new NodeError(message);
  e.usage = true;
  return e;
}

/**
 * One switch or host of a scenario in this process (`ina node`): binds its link ends at the
 * addresses every node computes alike, then does what the coordinator asks. A switch applies
 * control-plane writes and reports counters; a host runs its copy of every workload (see
 * Cluster). Exits when the coordinator says so, and also when the coordinator goes away, so a
 * killed run leaves no node behind.
 */
export async function runNode(o: NodeOptions): Promise<void> {
  const log = o.log ?? ((l: string) => process.stderr.write(`[${o.node}] ${l}\n`));
  const scenario = loadScenario(o.scenarioFile);
  const topology = buildTopology(scenario.topology);
  const me = findNode(topology, o.node);
  if (!me) throw usageError(`no node "${o.node}" in scenario ${scenario.name} (nodes: ${topology.nodes.map((n) => n.name).join(', ')})`);
  let addressing: Addressing;
  try {
    addressing = o.addressing.kind === 'map-file' ? loadAddressMap(o.addressing.file, topology) : o.addressing;
  } catch (e) {
    if (e instanceof AddressMapError) throw usageError(e.message);
    throw e;
  }
  if (o.shaping === 'kernel' && addressing.kind === 'loopback') throw usageError('kernel shaping needs links addressing (one interface per link)');

  /** this node's part of fabric `variant` (0: the scenario's; others: one per compared scheme) */
  const buildFor = async (scheme: string, variant: number): Promise<{ fabric: Fabric; driver: Driver }> => {
    const readSlot = (sw: string, copy: number) => slotReader!.read(variant, sw, copy);
    const links = placedLinks(topology, new Set([o.node]), addressing, variant);
    const built = await buildScenarioFabric(scenario, 'udp', seed, topology, scheme, { local: new Set([o.node]), links, shaping: o.shaping, impairmentsInSoftware, variant, readSlot });
    muteAggregationForTest(built.fabric, o.node, process.env);
    return built;
  };
  let slotReader: SlotReader | null = null;
  let impairmentsInSoftware = false;
  /** link index + side -> the interface whose qdiscs shape it (kernel shaping) */
  const kernelDevs = new Map<string, string>();
  let seed = 0;
  const channel = await connectControl(o.control, o.connectTimeoutMs ?? 60_000);
  slotReader = new SlotReader((m) => channel.send(m));
  let fabric: Fabric | null = null;
  let stopping = false;
  const ended = new Promise<void>((resolve, reject) => {
    channel.onClose((reason) => {
      if (stopping) resolve();
      else reject(new NodeError(`the coordinator went away (${reason})`));
    });
  });
  ended.catch(() => {});
  const fatal = (message: string): never => {
    channel.send({ t: 'fatal', message });
    throw new NodeError(message);
  };

  const inbox: CoordinatorMessage[] = [];
  let wake: (() => void) | null = null;
  channel.onMessage((m) => {
    inbox.push(m as CoordinatorMessage);
    wake?.();
  });
  const next = async (): Promise<CoordinatorMessage> => {
    while (inbox.length === 0) await Promise.race([new Promise<void>((r) => (wake = r)), ended]);
    return inbox.shift()!;
  };

  channel.send({ t: 'hello', node: o.node, pid: process.pid });
  const config = await next();
  // turned away (a name already taken, a node of another scenario): the coordinator says why
  if (config.t === 'shutdown') throw usageError(`the coordinator turned this node away: ${config.reason ?? 'no reason given'}`);
  if (config.t !== 'config') fatal(`expected the coordinator's config, got ${config.t}`);
  seed = (config as { seed: number }).seed;

  try {
    const mine = linksOf(topology, o.node);
    // Link addresses may appear after the process starts (containerlab's exec, a DHCP lease):
    // wait for this node's own, except loopback and wildcard ones, which are always there.
    const own = mine.map((l) => endpointAddress(addressing, l.index, l.side).host).filter((h) => !/^(127\.|0\.0\.0\.0$|::1?$|localhost$)/.test(h));
    if (own.length > 0) await waitForAddresses(own, o.connectTimeoutMs ?? 60_000);
    if (o.shaping === 'kernel') {
      for (const l of mine) {
        const link = topology.links[l.index]!;
        const cfg = linkConfigFor(scenario.links, link.a, link.b);
        if (linkIsDown(scenario.links, link.a, link.b) || !needsShaping(cfg)) continue;
        const shaped = shapeInterface(endpointAddress(addressing, l.index, l.side).host, cfg);
        kernelDevs.set(`${l.index}${l.side}`, shaped.dev);
        if (!shaped.netem) impairmentsInSoftware = true;
      }
    }
    ({ fabric } = await buildFor(scenario.switches.loadBalancing, 0));
  } catch (e) {
    fatal((e as Error).message);
  }
  const f = fabric!;
  const fabrics = new Map<number, Fabric>([[0, f]]);
  const buildVariant = async (scheme: string, variant: number): Promise<{ fabric: Fabric; driver: Driver }> => {
    const v = await buildFor(scheme, variant);
    fabrics.set(variant, v.fabric);
    return v;
  };
  const collectives = new Collectives({ isLeader: false, local: new Set(me.role === 'host' ? [o.node] : []), post: (m) => channel.send(m) });
  const shaping = o.shaping === 'software' ? 'software' : impairmentsInSoftware ? KERNEL_WITHOUT_NETEM : 'kernel';
  channel.send({ t: 'ready', node: o.node, shaping });
  if (o.readyFile) writeFileSync(o.readyFile, `${process.pid}\n`);
  log(`ready (${me.role}, ${linksOf(topology, o.node).length} links, shaping: ${shaping})`);

  let workloads: Promise<void> | null = null;
  try {
    for (;;) {
      const m = await next();
      switch (m.t) {
        case 'start':
          if (me.role === 'host' && workloads === null) workloads = runHostCopy(scenario, f, buildVariant, collectives, () => channel.send({ t: 'finished' }), fatal);
          else channel.send({ t: 'finished' });
          break;
        case 'gathered':
          collectives.settle(m.key, { value: m.values });
          break;
        case 'led':
          collectives.settle(m.key, m.error ? { error: m.error } : { value: m.value });
          break;
        case 'aborted':
          collectives.abortScope(m.scope, m.message);
          break;
        case 'variant':
          try {
            await buildVariant(m.scheme, m.variant);
            channel.send({ t: 'applied', id: m.id });
          } catch (e) {
            channel.send({ t: 'applied', id: m.id, error: (e as Error).message });
          }
          break;
        case 'variant-close': {
          const v = fabrics.get(m.variant);
          fabrics.delete(m.variant);
          await v?.close();
          break;
        }
        case 'write': {
          const sw = fabrics.get(m.fabric)?.switches.get(m.switch);
          try {
            if (!sw) throw new Error(`${o.node} does not run switch ${m.switch} in fabric ${m.fabric}`);
            sw.controlPlane.write(m.updates);
            channel.send({ t: 'applied', id: m.id });
          } catch (e) {
            channel.send({ t: 'applied', id: m.id, error: (e as Error).message });
          }
          break;
        }
        case 'read-slot': {
          const sw = fabrics.get(m.fabric)?.switches.get(m.switch);
          try {
            if (!sw) throw new Error(`${o.node} does not run switch ${m.switch} in fabric ${m.fabric}`);
            channel.send({ t: 'slot', id: m.id, state: readSlotCopy(sw, m.copy) });
          } catch (e) {
            channel.send({ t: 'slot', id: m.id, error: `${m.switch}'s slot copy ${m.copy}: ${(e as Error).message}` });
          }
          break;
        }
        case 'slot-state':
          slotReader!.settle(m);
          break;
        case 'read-counters': {
          const x = fabrics.get(m.fabric);
          const sides = x ? localLinkSides(x) : [];
          // the kernel's drops are per interface, whichever fabric's frames they were: they go
          // with the scenario's fabric
          if (m.fabric === 0) {
            for (const s of sides) {
              const dev = kernelDevs.get(`${s.index}${s.side}`);
              if (!dev) continue;
              const d = qdiscDrops(dev);
              s.stats.drops += d.queue;
              s.stats.lost += d.wire;
            }
          }
          channel.send({ t: 'counters', id: m.id, links: sides, switches: x ? x.switchReports() : [] });
          break;
        }
        case 'shutdown':
          stopping = true;
          collectives.abortAll('the run is over');
          slotReader!.close('the run is over');
          channel.close();
          return;
        default:
          break;
      }
    }
  } finally {
    stopping = true;
    for (const x of fabrics.values()) await x.close();
    if (o.readyFile) rmSync(o.readyFile, { force: true });
  }
}

/** A host's copy of the scenario's workloads (their results are the leader's to report). */
async function runHostCopy(
  scenario: ReturnType<typeof loadScenario>,
  fabric: Fabric,
  buildVariant: (scheme: string, variant: number) => Promise<{ fabric: Fabric; driver: Driver }>,
  collectives: Collectives,
  finished: () => void,
  fatal: (m: string) => never,
): Promise<void> {
  try {
    const driver: Driver = new RealDriver(fabric.clock);
    await runWorkloads(scenario, {
      mode: 'udp',
      topology: fabric.topology,
      fabric,
      driver,
      buildVariant,
      cluster: (scope) => collectives.scope(scope),
      // Only the leader's counters are reported: a host's copy reads its own ports (the right
      // shape, other nodes' sides zero) instead of asking every node.
      tierBytes: async (f) => f.tierBytes(),
      linkReports: async (f) => f.linkReports(),
    });
    finished();
  } catch (e) {
    try {
      fatal(`workloads: ${(e as Error).message}`);
    } catch {
      /* told the coordinator; it stops the run */
    }
  }
}
