import { createRng } from '../net/rng.js';
import { RealClock } from '../net/real-clock.js';
import { UdpEndpoint } from '../net/udp-transport.js';
import { Switch } from '../switch/switch.js';
import { leafSpineTopology } from '../topology/leaf-spine.js';
import { nodeByName } from '../topology/types.js';
import { Delivery } from './deliver.js';
import { FrameSource, FRAME_CLASSES, type FrameClass } from './frames.js';
import { OutcomeProbe, OutcomeTally } from './outcomes.js';
import type { ProgramFuzzResult } from './in-process.js';
import { buildWorld, inProcessSwitch } from './world.js';

/** A fuzzing run through one switch target on real UDP sockets. */
export interface UdpFuzzResult extends ProgramFuzzResult {
  readonly target: string;
  readonly transport: 'udp';
  /** datagrams the fuzzer sent; frames = those the switch received, the rest the kernel dropped */
  readonly sent: number;
  readonly lostInKernel: number;
  /** copies that came back out of the switch's sockets to the fuzzer's */
  readonly returned: number;
  /** receive-handler exceptions and send errors on the switch's sockets (must be zero) */
  readonly socketErrors: number;
}

/** Frames in flight at most: the sockets' buffers hold them, so the kernel drops none. */
const WINDOW = 64;
/** No progress for this long: what is missing was dropped by the kernel. */
const STALL_MS = 500;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The same frames as the in-process run, sent as datagrams to a switch target (src/switch)
 * whose every port is its own UDP socket on loopback, with a peer socket per port on the
 * fuzzer's side; the rest of the fabric (the other switches, which the control plane needs)
 * is in-process and takes no traffic. The target is the switch that aggregates (spine0 for
 * switchml and sharp's root) or, for forwarding programs, a spine as well: every frame goes
 * to it, on the port toward its source when it has one. Outcomes are read from the target's
 * own counters, frame by frame; the real clock moves time, so counts of time-driven programs
 * (flowlet, conga) can vary between runs, the others' do not when the kernel drops nothing.
 */
export async function fuzzProgramOverUdp(program: string, frames: number, seed: number, host = '127.0.0.1'): Promise<UdpFuzzResult> {
  const target = 'spine0';
  const topo = leafSpineTopology(2, 2, 4);
  const portCount = nodeByName(topo, target).ports;
  const mine: UdpEndpoint[] = [];
  const peers: UdpEndpoint[] = [];
  try {
    for (let i = 0; i < portCount; i++) {
      mine.push(await UdpEndpoint.bind(`${target}:${i}`, host));
      peers.push(await UdpEndpoint.bind(`fuzz:${i}`, host));
    }
    for (let i = 0; i < portCount; i++) {
      await mine[i]!.connect(peers[i]!.address.host, peers[i]!.address.port);
      await peers[i]!.connect(mine[i]!.address.host, mine[i]!.address.port);
    }
    let returned = 0;
    for (const p of peers) p.onReceive(() => returned++);
    let sw: Switch | null = null;
    const { world, switches } = await buildWorld({
      program,
      seed,
      clock: new RealClock(),
      makeSwitch: (name, prog, env): Switch => {
        if (name !== target) return inProcessSwitch(name, prog, env);
        sw = new Switch({ name, program: prog, ports: mine, clock: env.clock, rng: env.rng, seed: env.seed, options: env.options, ...(env.ports ? { portInfo: env.ports } : {}) });
        return sw;
      },
    });
    const targetSwitch = sw as Switch | null;
    if (!targetSwitch) throw new Error(`fuzz: no switch ${target} in the fuzzing fabric`);
    const tally = new OutcomeTally();
    const probe = new OutcomeProbe(targetSwitch, tally);
    // Every frame the target's sockets deliver goes through the probe, which reads its outcome
    // (the ports call the switch's receive by name, so this instance's own receive is theirs).
    const receive = targetSwitch.receive.bind(targetSwitch);
    targetSwitch.receive = (port, frame) => probe.observe(frame, port, () => receive(port, frame));

    const rng = createRng(seed).fork(`fuzz:${program}`);
    const source = new FrameSource(world, rng.fork('frames'));
    const delivery = new Delivery(world.topology, rng.fork('delivery'));
    const index = world.topology.switches.indexOf(target);
    const byClass = Object.fromEntries(FRAME_CLASSES.map((c) => [c, 0])) as Record<FrameClass, number>;
    const start = process.hrtime.bigint();
    let sent = 0;
    const settle = async (limit: number): Promise<void> => {
      let seen = tally.frames;
      let since = Date.now();
      while (sent - tally.frames > limit) {
        await tick();
        if (tally.frames !== seen) {
          seen = tally.frames;
          since = Date.now();
        } else if (Date.now() - since > STALL_MS) return;
      }
    };
    for (let i = 0; i < frames; i++) {
      const f = source.next();
      byClass[f.class]++;
      peers[delivery.portAt(f.frame, index, f.exact)]!.send(f.frame);
      sent++;
      if (sent - tally.frames >= WINDOW) await settle(WINDOW / 2);
    }
    await settle(0);
    // and the copies on their way back
    for (let last = returned, since = Date.now(); returned < tally.copies && Date.now() - since < STALL_MS; ) {
      await tick();
      if (returned !== last) [last, since] = [returned, Date.now()];
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const socketErrors = mine.reduce((s, e) => s + e.handlerErrors + e.sendErrors + e.socketErrors, 0);
    return {
      program,
      target,
      transport: 'udp',
      frames: tally.frames,
      sent,
      lostInKernel: sent - tally.frames,
      byClass,
      copies: tally.copies,
      returned,
      outcomes: tally.sorted(),
      exceptions: tally.exceptions,
      samples: tally.samples,
      socketErrors,
      seconds,
    };
  } finally {
    for (const e of [...mine, ...peers]) e.close();
  }
}
