import type { Server } from 'node:net';
import type { Scenario } from '../scenario/schema.js';
import type { Report } from '../report/types.js';
import type { Update } from '../pipeline/control-plane.js';
import { buildTopology } from '../topology/from-spec.js';
import { buildScenarioFabric, makeReport, runWorkloads } from '../run/runner.js';
import { RealDriver } from '../run/driver.js';
import { listenControl, type ControlAddress, type ControlChannel } from './control-channel.js';
import { Collectives } from './collectives.js';
import { COORDINATOR, Hub } from './hub.js';
import type { NodeLauncher } from './launchers.js';
import { defaultStartConcurrency, startBounded } from './bounded-start.js';
import type { LinkSideCounters, NodeMessage } from './messages.js';
import { mergeLinkSides, orderSwitchReports } from './fabric-counters.js';
import { SlotReadRelay } from './slot-read.js';
import { tierBytesOf, type Fabric } from '../run/fabric.js';
import type { LinkReport, SwitchReport } from '../report/types.js';
import { placedLinks } from './placed-links.js';

export interface UpOptions {
  readonly scenario: Scenario;
  readonly seed?: number;
  readonly launcher: NodeLauncher;
  /** where nodes reach this coordinator */
  readonly listen: ControlAddress;
  /** every node must have said it is ready within this long (of its start, when we start it) */
  readonly readyTimeoutMs?: number;
  /** nodes being started at once, each until it reports ready (default: two per core) */
  readonly startConcurrency?: number;
  /** a workload step some copies never reach fails after this long */
  readonly stepTimeoutMs?: number;
  /** a node must answer a counter read or a control-plane write within this long */
  readonly replyTimeoutMs?: number;
  readonly onProgress?: (label: string, fraction: number) => void;
  readonly log?: (line: string) => void;
  /**
   * the report, before the nodes are told to stop: whoever writes it out does so while every
   * node is still up (Docker Compose's --exit-code-from stops the coordinator when a node exits)
   */
  readonly onReport?: (report: Report & { deployment: Deployment }) => void;
}

/** The run cannot go on: a node died, never came up, or stopped answering. */
export class NodeFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeFailure';
  }
}

/** What a multi-process run adds to the report: how its nodes were deployed. */
export interface Deployment {
  readonly kind: NodeLauncher['kind'];
  readonly nodes: number;
  /** software, kernel, or what the nodes reported when they differed */
  readonly shaping: string;
}

/**
 * The coordinator of a multi-process run (`ina up`): starts the nodes through a launcher,
 * waits until each reports ready over its control channel, runs the scenario's workloads (its
 * own copy leads: it holds the controllers and makes the report; each host node runs the
 * agents of its host), reads every node's counters and merges all into the report `ina run`
 * makes. Any node that dies or goes silent ends the run with its name and reason, within a
 * bounded time, and the launcher's stop() leaves no process or namespace behind.
 */
export async function runUp(o: UpOptions): Promise<Report & { deployment: Deployment }> {
  const log = o.log ?? (() => {});
  const scenario = o.scenario;
  const seed = o.seed ?? scenario.seed;
  const topology = buildTopology(scenario.topology);
  const nodes = topology.nodes.map((n) => n.name);
  const replyTimeoutMs = o.replyTimeoutMs ?? 30_000;

  const channels = new Map<string, ControlChannel>();
  const ready = new Set<string>();
  const shapings = new Set<string>();
  const finished = new Set<string>();
  let stopping = false;
  let failWith!: (e: NodeFailure) => void;
  const failed = new Promise<never>((_, reject) => (failWith = reject));
  failed.catch(() => {});
  let failure: NodeFailure | null = null;
  const fail = (message: string): void => {
    if (stopping || failure) return;
    failure = new NodeFailure(message);
    log(`failure: ${message}`);
    failWith(failure);
    // waits for ready/finished nodes end now, with this failure, not at their timeouts
    notify();
  };
  // (declared before fail(), which wakes them)
  const changed: Array<() => void> = [];
  const notify = (): void => {
    for (const f of changed.splice(0)) f();
  };
  /** resolves when `cond` holds; rejects on failure or after `ms` with `what` */
  const until = (cond: () => boolean, ms: number, what: () => string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new NodeFailure(what())), ms);
      const check = (): void => {
        if (failure) {
          clearTimeout(timer);
          reject(failure);
        } else if (cond()) {
          clearTimeout(timer);
          resolve();
        } else changed.push(check);
      };
      check();
    });

  // Replies to counter reads and control-plane writes, by request id.
  let nextId = 1;
  const replies = new Map<number, { resolve(m: NodeMessage): void; reject(e: Error): void }>();
  const request = (node: string, make: (id: number) => Parameters<ControlChannel['send']>[0]): Promise<NodeMessage> => {
    const id = nextId++;
    return new Promise<NodeMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        replies.delete(id);
        reject(new NodeFailure(`node ${node} did not answer within ${replyTimeoutMs / 1000} s`));
      }, replyTimeoutMs);
      replies.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const ch = channels.get(node);
      if (!ch) reject(new NodeFailure(`node ${node} is not connected`));
      else ch.send(make(id));
    });
  };

  let hub: Hub | null = null;
  /**
   * Control-plane writes sent to nodes and not yet acknowledged. A flush waits for every one
   * outstanding when it is called, whoever made it (concurrent workloads share the switches).
   */
  const pendingWrites = new Set<Promise<NodeMessage>>();
  const flushControl = async (): Promise<void> => {
    for (const m of await Promise.all([...pendingWrites])) {
      if (m.t === 'applied' && m.error) throw new Error(`control-plane write on a node failed: ${m.error}`);
    }
  };
  const sendWrite = (sw: string, variant: number, updates: readonly Update[]): void => {
    const p = request(sw, (id) => ({ t: 'write', id, fabric: variant, switch: sw, updates: [...updates] }));
    pendingWrites.add(p);
    const done = (): void => void pendingWrites.delete(p);
    p.then(done, done);
  };
  const collectives = new Collectives({
    isLeader: true,
    local: new Set(),
    post: (m) => hub?.receive(COORDINATOR, m),
    beforePublish: flushControl,
  });

  // A worker's node reading its aggregation switch's slot (the blame of a round that did not complete).
  const slotReads = new SlotReadRelay((node, m) => {
    const ch = channels.get(node);
    if (!ch || ch.isClosed) return false;
    ch.send(m);
    return true;
  });

  const onMessage = (node: string, m: NodeMessage): void => {
    switch (m.t) {
      case 'ready':
        ready.add(node);
        shapings.add(m.shaping);
        notify();
        return;
      case 'finished':
        finished.add(node);
        notify();
        return;
      case 'fatal':
        fail(`node ${node}: ${m.message}`);
        return;
      case 'slot-query':
        slotReads.query(node, m);
        return;
      case 'slot':
        slotReads.answer(node, m);
        return;
      case 'counters':
      case 'applied':
        replies.get(m.id)?.resolve(m);
        replies.delete(m.id);
        return;
      default:
        hub?.receive(node, m);
    }
  };

  const server: Server = await listenControl(o.listen, (ch) => {
    let name: string | null = null;
    ch.onMessage((raw) => {
      const m = raw as NodeMessage;
      if (name === null) {
        if (m.t !== 'hello') return ch.close();
        if (!nodes.includes(m.node) || channels.has(m.node)) {
          ch.send({ t: 'shutdown', reason: channels.has(m.node) ? `node ${m.node} is already connected` : `no node ${m.node} in scenario ${scenario.name}` });
          ch.close();
          return;
        }
        name = m.node;
        channels.set(name, ch);
        ch.send({ t: 'config', seed });
        return;
      }
      onMessage(name, m);
    });
    ch.onClose((reason) => {
      // A node that died closes its channel a moment before the launcher hears of its exit;
      // give the exit (with its signal and last log lines) the chance to be the reason given.
      const who = name;
      if (who !== null && !stopping) setTimeout(() => fail(`node ${who}: control connection lost (${reason})`), 500).unref();
    });
  });

  let fabric: Fabric | null = null;
  try {
    await Promise.race([o.launcher.prepare(), failed]);
    const readyMs = o.readyTimeoutMs ?? 60_000;
    const startNode = o.launcher.startNode;
    if (startNode) {
      const exited = (node: string, how: string): void => fail(`node ${node} ${how}`);
      await startBounded(nodes, o.startConcurrency ?? defaultStartConcurrency(), (node) => {
        startNode(node, o.listen, exited);
        return until(() => ready.has(node), readyMs, () => `node ${node} did not report ready within ${readyMs / 1000} s of its start`);
      });
    }
    await until(() => ready.size === nodes.length, readyMs, () => `nodes ${nodes.filter((n) => !ready.has(n)).join(', ')} did not report ready within ${readyMs / 1000} s`);
    log(`${nodes.length} nodes ready`);

    /**
     * The coordinator's copy of fabric `variant`: every switch a shadow whose control-plane writes
     * go on to the node that runs it (in that node's fabric of the same variant).
     */
    const shadow = (scheme: string, variant: number, onClose?: () => void): ReturnType<typeof buildScenarioFabric> =>
      buildScenarioFabric(scenario, 'udp', seed, topology, scheme, {
        local: new Set(),
        links: placedLinks(topology, new Set(), o.launcher.addressing, variant),
        shaping: o.launcher.shaping,
        shadowSwitches: true,
        variant,
        onClose,
        controlMirror: (sw: string, updates: readonly Update[]) => {
          sendWrite(sw, variant, updates);
        },
      });
    ({ fabric } = await shadow(scenario.switches.loadBalancing, 0));
    /** A scheme's fabric for a workload comparing schemes: the switch nodes build theirs first. */
    const buildVariant = async (scheme: string, variant: number): ReturnType<typeof buildScenarioFabric> => {
      const acks = await Promise.race([Promise.all(topology.switches.map((sw) => request(sw, (id) => ({ t: 'variant', id, variant, scheme })))), failed]);
      const bad = acks.find((a) => a.t === 'applied' && a.error);
      if (bad && bad.t === 'applied') throw new Error(`building the ${scheme} fabric on the switch nodes failed: ${bad.error}`);
      return shadow(scheme, variant, () => {
        for (const sw of topology.switches) channels.get(sw)?.send({ t: 'variant-close', variant });
      });
    };
    hub = new Hub({
      participants: [COORDINATOR, ...topology.hosts],
      send: (n, m) => channels.get(n)?.send(m),
      local: collectives,
      stepTimeoutMs: o.stepTimeoutMs ?? 300_000,
    });
    const readCounters = async (variant = 0): Promise<{ links: LinkReport[]; switches: SwitchReport[] }> => {
      const answers = await Promise.race([Promise.all(nodes.map((n) => request(n, (id) => ({ t: 'read-counters', id, fabric: variant })))), failed]);
      const sides: LinkSideCounters[] = [];
      const switches: SwitchReport[] = [];
      for (const a of answers) {
        if (a.t !== 'counters') continue;
        sides.push(...a.links);
        switches.push(...a.switches);
      }
      return { links: mergeLinkSides(topology, sides), switches: orderSwitchReports(topology, switches) };
    };

    for (const ch of channels.values()) ch.send({ t: 'start' });
    const f = fabric;
    const runs = await Promise.race([
      runWorkloads(scenario, {
        mode: 'udp',
        topology,
        fabric: f,
        driver: new RealDriver(f.clock),
        buildVariant,
        cluster: (scope) => collectives.scope(scope),
        tierBytes: async (x) => tierBytesOf(topology, (await readCounters(x.spec.placement?.variant)).links),
        linkReports: async (x) => (await readCounters(x.spec.placement?.variant)).links,
        onProgress: o.onProgress,
      }),
      failed,
    ]);
    // a workload that failed meanwhile (its copies told the others) is said too: it is often why
    const failedRun = runs.map((r) => (r as { error?: unknown }).error).find((e) => typeof e === 'string');
    await until(() => finished.size === nodes.length, replyTimeoutMs, () =>
      `nodes ${nodes.filter((n) => !finished.has(n)).join(', ')} did not finish their workloads` + (failedRun ? ` (after a workload failed: ${failedRun})` : ''),
    );
    const counters = await readCounters();
    const report = {
      ...makeReport(scenario, 'udp', seed, topology, runs, counters.links, counters.switches),
      // how the links were shaped, as the nodes did it (a kernel without netem does less)
      deployment: { kind: o.launcher.kind, nodes: nodes.length, shaping: [...shapings].sort().join('; ') },
    };
    o.onReport?.(report);
    return report;
  } finally {
    stopping = true;
    collectives.abortAll('the run is over');
    slotReads.close('the run is over');
    hub?.close();
    for (const ch of channels.values()) {
      ch.send({ t: 'shutdown' });
      ch.close();
    }
    await o.launcher.stop();
    await new Promise<void>((r) => server.close(() => r()));
    await fabric?.close();
    for (const r of replies.values()) r.reject(new NodeFailure('the run is over'));
  }
}
