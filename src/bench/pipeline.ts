import { SimClock } from '../net/sim-clock.js';
import { createRng } from '../net/rng.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { leafSpineTopology } from '../topology/leaf-spine.js';
import { installRoutes } from '../topology/routing-controller.js';
import { loadProgram, PROGRAM_NAMES } from '../run/registry.js';
import { makeFrame, OFF_TTL } from '../wire/common-header.js';
import { nodeByName } from '../topology/types.js';

export interface PipelineBenchResult {
  bench: 'pipeline';
  program: string;
  mpps: number;
  /** every trial's rate; mpps is their median */
  trialsMpps: number[];
  packets: number;
  tableEntries: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The engine alone on one core: a leaf of a 4x2 leaf-spine fabric (8 hosts per leaf) with the
 * routes the controller installs, fed a pool of frames with varied destinations and 5-tuples.
 * Frames are re-armed (TTL) and re-fed; emit does nothing, so only the pipeline is timed.
 */
export async function benchPipeline(o: { packets?: number; trials?: number; programs?: string[] } = {}): Promise<PipelineBenchResult[]> {
  const packets = o.packets ?? 2_000_000;
  const trials = o.trials ?? 5;
  const topo = leafSpineTopology(4, 2, 8);
  const out: PipelineBenchResult[] = [];
  for (const name of o.programs ?? PROGRAM_NAMES) {
    const program = await loadProgram(name);
    const clock = new SimClock();
    const rng = createRng(1);
    const pipes = new Map(
      topo.switches.map((s) => {
        const node = nodeByName(topo, s);
        const p = new Pipeline(program, {
          switchName: s, seed: 7, rng: rng.fork(s), clock, portCount: node.ports, queueBytes: () => 0, options: {},
        });
        return [s, { name: s, controlPlane: p.controlPlane, resources: () => p.resources(), pipeline: p }] as const;
      }),
    );
    installRoutes(topo, pipes);
    const pipe = pipes.get('leaf0')!.pipeline;
    const hosts = topo.hosts.map((h) => nodeByName(topo, h).address);
    const pool = Array.from({ length: 4096 }, (_, i) =>
      makeFrame({ protocol: 17, src: hosts[i % 8]!, dst: hosts[(i * 7 + 3) % hosts.length]!, srcPort: 1000 + (i % 97), dstPort: 2000 + (i % 13), seq: i }, 1052),
    );
    let emitted = 0;
    const emit = (): void => {
      emitted++;
    };
    const mask = pool.length - 1;
    const rates: number[] = [];
    for (let t = 0; t < trials + 1; t++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < packets; i++) {
        const f = pool[i & mask]!;
        f[OFF_TTL] = 64;
        pipe.process(f, i & 7, emit);
      }
      const sec = Number(process.hrtime.bigint() - start) / 1e9;
      if (t > 0) rates.push(packets / sec / 1e6); // the first trial warms the JIT
    }
    if (emitted === 0) throw new Error(`bench pipeline: ${name} forwarded nothing`);
    out.push({
      bench: 'pipeline',
      program: name,
      mpps: Math.round(median(rates) * 1000) / 1000,
      trialsMpps: rates.map((r) => Math.round(r * 1000) / 1000),
      packets,
      tableEntries: pipe.resources().tables.reduce((s, t) => s + t.entries, 0),
    });
  }
  return out;
}
