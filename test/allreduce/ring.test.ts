/**
 * Host-only ring all-reduce (hosts/allreduce/ring-allreduce.ts) end to end through the runner, in virtual
 * time and over real UDP on loopback, plus the reliable stream underneath it on its own.
 */
import { LOCAL_CLUSTER } from '../../src/run/cluster.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { runScenario, programFor, selectHosts } from '../../src/run/runner.js';
import { Fabric } from '../../src/run/fabric.js';
import { SimDriver } from '../../src/run/driver.js';
import { loadProgram, loadWorkload } from '../../src/run/registry.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import { SimClock } from '../../src/net/sim-clock.js';
import type { AllreduceResult, Report, RunResult } from '../../src/report/types.js';
import type { WorkloadContext } from '../../src/run/workload.js';
import { ACK_FRAME_BYTES, ELEMENTS_PER_FRAME, createRing, dataFrameBytes, ringGeometry } from '../../hosts/allreduce/ring-allreduce.js';
import { ACCEPT_NEW, ReliableReceiver, ReliableSender, deadBoundNs, reliabilityPolicy } from '../../hosts/transport/reliable-stream.js';
import { absSum, float32SumBound, makeTensor, referenceSum, verify, type Tensor } from '../../hosts/allreduce/tensor.js';
import { PROTO_RING } from '../../src/wire/protocols.js';
import { createRng } from '../../src/net/rng.js';

interface RingCase {
  mode?: 'sim' | 'udp';
  seed?: number;
  topology: Record<string, unknown>;
  links?: Record<string, unknown>;
  bytes: number;
  dtype?: 'float32' | 'int32';
  iterations?: number;
  workers?: number | string[] | 'all';
}

function ringScenario(c: RingCase): Scenario {
  return validateScenario(
    {
      name: 'ring',
      mode: c.mode ?? 'sim',
      seed: c.seed ?? 1,
      topology: c.topology,
      ...(c.links ? { links: c.links } : {}),
      switches: { loadBalancing: 'ecmp' },
      workloads: [
        { kind: 'allreduce', algorithms: ['ring'], bytes: c.bytes, dtype: c.dtype ?? 'float32', iterations: c.iterations ?? 1, workers: c.workers ?? 'all' },
      ],
    },
    '<ring test>',
  );
}

/** the single all-reduce run of a report, with its error if it failed */
function ringRun(r: Report): AllreduceResult & { error?: string } {
  expect(r.runs).toHaveLength(1);
  return r.runs[0] as AllreduceResult & { error?: string };
}

function expectCorrect(run: AllreduceResult & { error?: string }, what: string): void {
  expect(run.error, `${what}: error`).toBeUndefined();
  expect(run.correct, `${what}: ${JSON.stringify(run)}`).toBe(true);
  expect(run.algorithm).toBe('ring');
  expect(run.wrongElements).toBe(0);
}

/** What runScenario does for the first workload, handing over its context and sim clock. */
async function withSimFabric<T>(s: Scenario, fn: (ctx: WorkloadContext, clock: SimClock) => Promise<T>): Promise<T> {
  const topology = buildTopology(s.topology);
  const fabric = await Fabric.build({ topology, mode: 'sim', seed: s.seed, links: s.links, program: await loadProgram(programFor(s)), switchOptions: s.switches });
  const clock = fabric.clock as SimClock;
  const w = s.workloads[0]!;
  try {
    return await fn(
      {
        mode: 'sim',
        clock,
        rng: fabric.rng.fork('workload:0'),
        cluster: LOCAL_CLUSTER,
        tierBytes: async () => fabric.tierBytes(),
        linkReports: async () => fabric.linkReports(),
        topology,
        driver: new SimDriver(clock),
        fabric,
        hosts: selectHosts(topology, fabric.hosts, (w as { workers?: unknown }).workers),
        progress: () => {},
      },
      clock,
    );
  } finally {
    await fabric.close();
  }
}

/** The runner's way through the first workload, keeping the virtual time it ended at. */
async function runSimWithClock(s: Scenario): Promise<{ runs: RunResult[]; nowNs: number }> {
  return withSimFabric(s, async (ctx, clock) => {
    const w = s.workloads[0]!;
    const mod = await loadWorkload(w.kind);
    const runs = await mod.run(ctx, w).catch((e: Error) => [{ workload: w.kind, correct: false, error: e.message }] as RunResult[]);
    return { runs, nowNs: clock.now() };
  });
}

/** Bytes of DATA frames worker r sends per iteration (ACKs come on top). */
function dataBytesOf(workers: number, length: number, r: number): number {
  const g = ringGeometry(workers, length);
  let b = 0;
  for (let k = 0; k < 2 * (workers - 1); k++) {
    const s = (((r - k) % workers) + workers) % workers;
    const len = g.segStart[s + 1]! - g.segStart[s]!;
    b += g.segChunks[s]! * dataFrameBytes(0) + 4 * len;
  }
  return b;
}

describe('ring geometry', () => {
  it('segments tile the tensor, chunks tile segments, lengths below N and non-multiples of 256 included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 0, max: 5000 }), (n, length) => {
        const g = ringGeometry(n, length);
        expect(g.segStart[0]).toBe(0);
        expect(g.segStart[n]).toBe(length);
        let frames = 0;
        for (let s = 0; s < n; s++) {
          const len = g.segStart[s + 1]! - g.segStart[s]!;
          expect(len).toBeGreaterThanOrEqual(Math.floor(length / n));
          expect(len).toBeLessThanOrEqual(Math.ceil(length / n));
          expect(g.segChunks[s]).toBe(Math.ceil(len / ELEMENTS_PER_FRAME));
          frames += g.segChunks[s]!;
        }
        // every segment but two travels twice per worker's stream; in total 2(N-1) hops each
        const total = g.framesIn.reduce((a, b) => a + b, 0);
        expect(total).toBe(2 * (n - 1) * frames);
      }),
      { numRuns: 200 },
    );
  });

  it('frames are SwitchML-sized: 1024 bytes of payload, 48 bytes of headers', () => {
    expect(dataFrameBytes(ELEMENTS_PER_FRAME)).toBe(48 + 1024);
    expect(ACK_FRAME_BYTES).toBe(48);
  });
});

describe('reliable stream', () => {
  /**
   * A sender and a receiver over a SimClock channel that loses, duplicates and delays frames
   * by random amounts (so reorders them), in both directions.
   */
  it('delivers every frame exactly once over a lossy, reordering, duplicating channel', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1500 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer(),
        (frames, lossPct, dupPct, jitterUs, seed) => {
          const clock = new SimClock();
          const rng = createRng(seed);
          const p = reliabilityPolicy(clock);
          const channel = (deliver: () => void): void => {
            if (rng.next() < lossPct / 100) return;
            const copies = rng.next() < dupPct / 100 ? 2 : 1;
            for (let c = 0; c < copies; c++) clock.setTimer(1000 + rng.next() * jitterUs * 1000, deliver);
          };
          const delivered = new Uint32Array(frames);
          let dead = false;
          const receiver: ReliableReceiver = new ReliableReceiver(p, clock, (d, fn) => clock.setTimer(d, fn), {
            ack: (sel, cum, ts) => channel(() => sender.onAck(sel, cum, ts)),
          });
          const sender: ReliableSender = new ReliableSender(p, clock, (d, fn) => clock.setTimer(d, fn), {
            transmit: (seq, a) => {
              const ts = clock.now();
              channel(() => {
                if (receiver.accept(seq, ts) === ACCEPT_NEW) delivered[a]!++;
              });
            },
            dead: () => {
              dead = true;
            },
          });
          receiver.reset(frames);
          sender.reset();
          for (let i = 0; i < frames; i++) sender.enqueue(i, 0);
          clock.runUntil(() => receiver.cumulative === frames || dead, 3600e9);
          expect(dead).toBe(false);
          expect(receiver.cumulative).toBe(frames);
          expect(delivered.every((d) => d === 1)).toBe(true);
          if (lossPct === 0 && dupPct === 0 && jitterUs === 0) expect(sender.retransmissions).toBe(0);
          sender.stop();
          receiver.stop();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('declares a silent peer dead after maxTransmissions, within the capped back-off sum', () => {
    const clock = new SimClock();
    const p = reliabilityPolicy(clock);
    let deadAt = -1;
    let transmissions = 0;
    let reported = 0;
    const sender = new ReliableSender(p, clock, (d, fn) => clock.setTimer(d, fn), {
      transmit: () => {
        transmissions++;
      },
      dead: (_seq, _a, _b, n) => {
        deadAt = clock.now();
        reported = n;
      },
    });
    sender.reset();
    sender.enqueue(0, 0);
    sender.enqueue(1, 0);
    expect(clock.runUntil(() => deadAt >= 0)).toBe('done');
    expect(reported).toBe(p.maxTransmissions);
    expect(deadAt).toBeLessThanOrEqual(deadBoundNs(p) + 1);
    expect(deadAt).toBeGreaterThan(p.maxRtoNs);
    // both frames went out maxTransmissions times at most, and the sender left no timer behind
    expect(transmissions).toBeLessThanOrEqual(2 * p.maxTransmissions);
    expect(clock.pending).toBe(0);
  });
});

describe('ring all-reduce in virtual time', () => {
  it('property: terminates with the right result over any workers, topology, length, dtype and impairment', async () => {
    const topoArb = fc.oneof(
      fc.integer({ min: 2, max: 16 }).map((n) => ({ workers: n, topology: { kind: 'star', hosts: n } })),
      fc
        .record({ workers: fc.integer({ min: 2, max: 16 }), hostsPerLeaf: fc.integer({ min: 1, max: 4 }), spines: fc.integer({ min: 1, max: 2 }) })
        .map(({ workers, hostsPerLeaf, spines }) => ({
          workers,
          topology: { kind: 'leaf-spine', leaves: Math.ceil(workers / hostsPerLeaf), spines, hostsPerLeaf },
        })),
    );
    // lengths below N, around frame boundaries, and a few thousand elements
    const lengthArb = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 200, max: 1100 }), fc.integer({ min: 1, max: 40_000 }));
    await fc.assert(
      fc.asyncProperty(
        topoArb,
        lengthArb,
        fc.constantFrom('float32' as const, 'int32' as const),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom(0, 0, 2),
        fc.constantFrom(0, 0, 10),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        async (t, length, dtype, lossPct, reorderPct, dupPct, delayUs, rateGbps, seed) => {
          const s = ringScenario({
            seed,
            topology: t.topology,
            links: { lossRate: lossPct / 100, reorderRate: reorderPct / 100, duplicateRate: dupPct / 100, delayUs, rateGbps },
            bytes: 4 * length,
            dtype,
            iterations: 2,
            workers: t.workers,
          });
          const run = ringRun(await runScenario(s));
          expectCorrect(run, JSON.stringify({ t, length, dtype, lossPct, reorderPct, dupPct, delayUs, rateGbps, seed }));
          expect(run.workers).toBe(t.workers);
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it('lossless: no retransmissions, and each worker sends exactly its DATA bytes plus its ACKs', async () => {
    for (const [workers, length, dtype] of [[2, 1, 'int32'], [5, 3, 'float32'], [8, 1000, 'float32'], [3, 70_001, 'int32']] as const) {
      const s = ringScenario({ topology: { kind: 'star', hosts: workers }, bytes: 4 * length, dtype, iterations: 2 });
      const run = ringRun(await runScenario(s));
      expectCorrect(run, `${workers} workers, ${length} elements`);
      expect(run.retransmissions).toBe(0);
      expect(run.errorBound).toBeGreaterThanOrEqual(0);
      let data = 0;
      let frames = 0;
      for (let r = 0; r < workers; r++) {
        data += dataBytesOf(workers, length, r);
        frames += ringGeometry(workers, length).framesIn[r]!;
      }
      // bytesSentPerWorker is the mean over workers and iterations; ACKs are at most one per frame
      expect(run.bytesSentPerWorker).toBeGreaterThan(data / workers);
      expect(run.bytesSentPerWorker).toBeLessThanOrEqual(Math.ceil((data + frames * ACK_FRAME_BYTES) / workers));
    }
  });

  it('retransmits under loss (and still gets it right)', async () => {
    const s = ringScenario({ topology: { kind: 'star', hosts: 4 }, links: { lossRate: 0.05 }, bytes: 4 * 20_000, iterations: 2 });
    const run = ringRun(await runScenario(s));
    expectCorrect(run, 'loss 0.05');
    expect(run.retransmissions).toBeGreaterThan(0);
  });

  it('every worker ends with the same bits (float32: one summation order), int32 wraps exactly; no timer left behind', async () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const workers = 6;
      const length = 3001;
      const s = ringScenario({ topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 3 }, bytes: 4 * length, dtype, links: { lossRate: 0.1, reorderRate: 0.05 } });
      await withSimFabric(s, async (ctx, clock) => {
        const algo = await createRing({ ctx, workers: ctx.hosts, dtype, length, aggregation: { slots: 512, elementsPerPacket: 256 }, jobId: 7 });
        const inputs = ctx.hosts.map((_, r) => makeTensor(dtype, length, 5, r, workers));
        if (dtype === 'int32') {
          // sums that overflow: the ring wraps like int32 hardware
          (inputs[0] as Int32Array).fill(2 ** 31 - 1);
          (inputs[1] as Int32Array).fill(2 ** 31 - 1);
        }
        const ref = referenceSum(inputs);
        for (let it = 0; it < 2; it++) {
          const outputs: Tensor[] = inputs.map((t) => (dtype === 'int32' ? new Int32Array(t.length) : new Float32Array(t.length)));
          const stats = await ctx.driver.wait(algo.run({ iteration: it, dtype, inputs, outputs }));
          expect(stats.bytesSent).toHaveLength(workers);
          expect(stats.errorBound).toBeNull();
          const bits = outputs.map((o) => Buffer.from(o.buffer).toString('base64'));
          expect(new Set(bits).size).toBe(1);
          const bound = dtype === 'int32' ? null : float32SumBound(absSum(inputs), workers);
          expect(verify(outputs[0]!, ref, bound)).toMatchObject({ correct: true, wrongElements: 0 });
          if (dtype === 'int32') expect(outputs[0]![0]).toBe(((2 ** 31 - 1) * 2 + inputs.slice(2).reduce((a, t) => a + t[0]!, 0)) | 0);
          // once a call has settled, draining the event queue runs only frames still in
          // flight (unshaped links deliver them now): no retransmission or ACK timer remains
          const t = clock.now();
          clock.runUntil(() => false);
          expect(clock.pending).toBe(0);
          expect(clock.now() - t).toBeLessThan(50_000);
        }
        algo.teardown();
        // and the host's PROTO_RING binding is released
        expect(() => ctx.hosts[0]!.bind(PROTO_RING, () => {})).not.toThrow();
      });
    }
  });

  it('is deterministic: same scenario and seed twice give byte-identical reports', async () => {
    const s = ringScenario({
      seed: 99,
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 3 },
      links: { lossRate: 0.1, reorderRate: 0.05, duplicateRate: 0.05, delayUs: 1, jitterUs: 2 },
      bytes: 4 * 5_000,
      iterations: 2,
    });
    const a = JSON.stringify(await runScenario(s));
    const b = JSON.stringify(await runScenario(s));
    expect(b).toBe(a);
    expect(ringRun(JSON.parse(a) as Report).retransmissions).toBeGreaterThan(0);
  });

  it('a dead peer is an error naming it, within bounded virtual time', async () => {
    const s = ringScenario({
      topology: { kind: 'star', hosts: 5 },
      links: { overrides: [{ between: ['h2', 's0'], lossRate: 1 }] },
      bytes: 4 * 3_000,
      iterations: 2,
    });
    const { runs, nowNs } = await runSimWithClock(s);
    expect(runs).toHaveLength(1);
    const run = runs[0] as { correct: boolean; error?: string };
    expect(run.correct).toBe(false);
    expect(run.error).toMatch(/\bh2\b.*unresponsive|unresponsive.*\bh2\b/);
    expect(run.error).toMatch(/peer h2 unresponsive/);
    // 30 transmissions with back-off capped at 50 ms: well under 2 s of virtual time
    const p = reliabilityPolicy(new SimClock());
    expect(deadBoundNs(p)).toBeLessThan(2e9);
    expect(nowNs).toBeLessThanOrEqual(deadBoundNs(p) + 1);
    // and through the runner it is a failed run, not a crash
    const viaRunner = ringRun(await runScenario(s));
    expect(viaRunner.correct).toBe(false);
    expect(viaRunner.error).toMatch(/peer h2 unresponsive/);
    // two workers: silence both ways cannot tell which end is cut off, so both are named
    const two = ringRun(await runScenario(ringScenario({ topology: { kind: 'star', hosts: 2 }, links: { overrides: [{ between: ['h1', 's0'], lossRate: 1 }] }, bytes: 4096 })));
    expect(two.correct).toBe(false);
    expect(two.error).toMatch(/\bh1\b.*unresponsive|unresponsive.*\bh1\b/);
  });

  it('two ring jobs sharing hosts run concurrently (one PROTO_RING binding per host)', async () => {
    const s = validateScenario({
      name: 'ring-concurrent',
      mode: 'sim',
      topology: { kind: 'star', hosts: 5 },
      links: { lossRate: 0.02, rateGbps: 10 },
      switches: { loadBalancing: 'ecmp' },
      workloads: [
        { kind: 'allreduce', group: 'g', algorithms: ['ring'], bytes: 4 * 4000, workers: 'all', iterations: 2 },
        { kind: 'allreduce', group: 'g', algorithms: ['ring'], bytes: 4 * 3333, dtype: 'int32', workers: ['h3', 'h1', 'h4'], iterations: 2 },
      ],
    });
    const r = await runScenario(s);
    expect(r.runs).toHaveLength(2);
    for (const run of r.runs) expectCorrect(run as AllreduceResult, 'concurrent');
  });

  it('time on 10 Gbit/s links is within 10% of 2(N-1)/N · S / B (8 workers × 4 MiB); unshaped is ~instant', async () => {
    const workers = 8;
    const bytes = 4 * 2 ** 20;
    const theory = ((2 * (workers - 1)) / workers) * ((bytes * 8) / 10e9);
    const shaped = ringRun(await runScenario(ringScenario({ topology: { kind: 'star', hosts: workers }, links: { rateGbps: 10 }, bytes })));
    expectCorrect(shaped, 'shaped');
    expect(shaped.retransmissions).toBe(0);
    expect(shaped.timeSec).toBeGreaterThanOrEqual(theory);
    expect(shaped.timeSec).toBeLessThanOrEqual(1.1 * theory);
    const unshaped = ringRun(await runScenario(ringScenario({ topology: { kind: 'star', hosts: workers }, bytes })));
    expectCorrect(unshaped, 'unshaped');
    expect(unshaped.timeSec).toBeLessThan(0.01 * theory);
  }, 60_000);
});

describe('ring all-reduce over real UDP on loopback', () => {
  it('lossless, star and leaf-spine, float32 and int32', async () => {
    for (const c of [
      { topology: { kind: 'star', hosts: 4 }, bytes: 4 * 10_000, dtype: 'float32' as const },
      { topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 3 }, bytes: 4 * 2_999, dtype: 'int32' as const },
      { topology: { kind: 'star', hosts: 5 }, bytes: 12, dtype: 'float32' as const },
    ]) {
      const run = ringRun(await runScenario(ringScenario({ mode: 'udp', ...c, iterations: 2 })));
      expectCorrect(run, `udp ${JSON.stringify(c)}`);
      expect(run.timeSec).toBeGreaterThan(0);
    }
  }, 60_000);

  it('with loss 0.05 on every link', async () => {
    const run = ringRun(await runScenario(ringScenario({ mode: 'udp', topology: { kind: 'star', hosts: 4 }, links: { lossRate: 0.05 }, bytes: 4 * 8_000, dtype: 'int32', iterations: 2 })));
    expectCorrect(run, 'udp loss');
    expect(run.retransmissions).toBeGreaterThan(0);
  }, 60_000);
});
