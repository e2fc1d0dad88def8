import { performance } from 'node:perf_hooks';
import { UdpLoadGen } from '../net/udp-loadgen.js';
import { UdpEndpoint } from '../net/udp-transport.js';
import { RealClock } from '../net/real-clock.js';
import { createRng } from '../net/rng.js';
import { Switch } from '../switch/switch.js';
import { loadProgram } from '../run/registry.js';
import { makeFrame } from '../wire/common-header.js';
import { PROTO_BENCH } from '../wire/protocols.js';
import type { Port } from '../net/port.js';

export interface ForwardingBenchResult {
  bench: 'forwarding';
  frameBytes: number;
  relayKpps: number;
  switchKpps: number;
  ratio: number;
  /** share of wall time the main thread was busy while relaying / switching (event-loop utilisation) */
  relayBusy: number;
  switchBusy: number;
  trials: { relayKpps: number[]; switchKpps: number[] };
  secondsPerTrial: number;
}

const SRC = 0x0a000001;
const DST = 0x0a000002;
const FRAME_BYTES = 1088;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Device {
  ingress: UdpEndpoint;
  egress: UdpEndpoint;
  close(): void;
}

/** Two endpoints: one facing the generator, one facing the sink. */
async function endpoints(gen: UdpLoadGen): Promise<[UdpEndpoint, UdpEndpoint]> {
  const ingress = await UdpEndpoint.bind('dut-in');
  const egress = await UdpEndpoint.bind('dut-out');
  await ingress.connect(gen.genAddress.host, gen.genAddress.port);
  await egress.connect(gen.sinkAddress.host, gen.sinkAddress.port);
  return [ingress, egress];
}

/** The baseline: every datagram in goes straight out, through the same Port code. */
async function relay(gen: UdpLoadGen): Promise<Device> {
  const [ingress, egress] = await endpoints(gen);
  ingress.onReceive((f) => egress.send(f));
  return { ingress, egress, close: () => (ingress.close(), egress.close()) };
}

/** A switch target running pipelines/l3 with one route to the sink. */
async function l3Switch(gen: UdpLoadGen): Promise<Device> {
  const [ingress, egress] = await endpoints(gen);
  const ports: Port[] = [ingress, egress];
  const sw = new Switch({ name: 's0', program: await loadProgram('l3'), ports, clock: new RealClock(), rng: createRng(1), seed: 1 });
  sw.controlPlane.write([
    { type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: DST, prefixLen: 32 } }, action: { name: 'forward', params: { port: 1 } } } },
  ]);
  return { ingress, egress, close: () => (ingress.close(), egress.close()) };
}

async function measure(gen: UdpLoadGen, make: (g: UdpLoadGen) => Promise<Device>, seconds: number): Promise<{ kpps: number; busy: number; close: () => void }> {
  const dev = await make(gen);
  gen.connect(dev.ingress.address);
  await new Promise((r) => setTimeout(r, 300)); // warm up the JIT and the socket buffers
  const elu0 = performance.eventLoopUtilization();
  const c = await gen.count(seconds * 1000);
  const elu = performance.eventLoopUtilization(elu0);
  return { kpps: c.counted / seconds / 1000, busy: elu.utilization, close: () => dev.close() };
}

/**
 * Relay and switch alternate over the same generator, trials interleaved so that machine
 * noise hits both alike; the ratio is of the medians measured in this one run.
 */
export async function benchForwarding(o: { seconds?: number; trials?: number } = {}): Promise<ForwardingBenchResult> {
  const seconds = o.seconds ?? 2;
  const trials = o.trials ?? 3;
  const frame = makeFrame({ protocol: PROTO_BENCH, src: SRC, dst: DST, srcPort: 1, dstPort: 2 }, FRAME_BYTES - 36);
  const relayKpps: number[] = [];
  const switchKpps: number[] = [];
  const relayBusy: number[] = [];
  const switchBusy: number[] = [];
  for (let t = 0; t < trials; t++) {
    for (const which of ['relay', 'switch'] as const) {
      // A fresh generator per trial: no frames of the previous device left in flight.
      const gen = await UdpLoadGen.start(frame);
      let close = (): void => {};
      try {
        const r = await measure(gen, which === 'relay' ? relay : l3Switch, seconds);
        close = r.close;
        (which === 'relay' ? relayKpps : switchKpps).push(r.kpps);
        (which === 'relay' ? relayBusy : switchBusy).push(r.busy);
      } finally {
        // Generator first: the device stays up until nothing is sent to it any more.
        await gen.stop();
        close();
      }
    }
  }
  const relayMed = median(relayKpps);
  const switchMed = median(switchKpps);
  const r1 = (v: number): number => Math.round(v * 10) / 10;
  return {
    bench: 'forwarding',
    frameBytes: frame.length,
    relayKpps: r1(relayMed),
    switchKpps: r1(switchMed),
    ratio: Math.round((switchMed / relayMed) * 1000) / 1000,
    relayBusy: Math.round(median(relayBusy) * 1000) / 1000,
    switchBusy: Math.round(median(switchBusy) * 1000) / 1000,
    trials: { relayKpps: relayKpps.map(r1), switchKpps: switchKpps.map(r1) },
    secondsPerTrial: seconds,
  };
}
