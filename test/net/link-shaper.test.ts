/**
 * ShapedPort behaviour that only virtual time can pin exactly: rates, delays, ECN, the
 * fast path, determinism. (Behaviour common to both transports is in the conformance suite.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock, Timer } from '../../src/net/clock.js';
import { NS_PER_US } from '../../src/net/clock.js';
import {
  DEFAULT_LINK,
  type LinkConfig,
  linkConfig,
  REORDER_HOLD_MIN_NS,
} from '../../src/net/link-shaper.js';
import { ShapedPort } from '../../src/net/queued-port.js';
import type { FrameHandler, Port } from '../../src/net/port.js';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { SimTransport } from '../../src/net/sim-transport.js';
import { inversions } from './transport-conformance.js';
import { ECN_CE, ECN_ECT0, frameSeq, HEADER_BYTES, makeFrame, OFF_ECN } from '../../src/wire/common-header.js';

interface Arrival {
  seq: number;
  at: number;
  ecn: number;
}

/** A sim link a→b with a's egress shaped; records arrivals at b with their virtual time. */
function setup(cfg: Partial<LinkConfig>, seed = 1, clock: Clock | null = null) {
  const t = new SimTransport();
  const [a, b] = t.linkSync('a', 'b');
  const sp = new ShapedPort(a, clock ?? t.clock, cfg, createRng(seed).fork('link:a'));
  const arrivals: Arrival[] = [];
  b.onReceive((f) => arrivals.push({ seq: frameSeq(f), at: t.clock.now(), ecn: f[OFF_ECN]! }));
  return { t, clock: t.clock, sp, a, b, arrivals };
}

function frame(seq: number, totalBytes: number, ecn = 0): Uint8Array {
  return makeFrame({ protocol: 17, src: 1, dst: 2, seq, ecn }, totalBytes - HEADER_BYTES);
}

/** A port that records sends synchronously, to see exactly what ShapedPort hands down. */
class CapturePort implements Port {
  readonly sent: Uint8Array[] = [];
  closed = false;
  constructor(readonly name = 'cap') {}
  send(f: Uint8Array): void {
    this.sent.push(f);
  }
  onReceive(_h: FrameHandler): void {}
  queuedBytes(): number {
    return 0;
  }
  close(): void {
    this.closed = true;
  }
}

describe('ShapedPort on virtual time', () => {
  it('serializes at the configured rate: 1000 x 1088 B at 10 Gbit/s + 5 us', () => {
    const { clock, sp, arrivals } = setup({ rateGbps: 10, delayUs: 5, queueBytes: 2 * 1024 * 1024 });
    for (let i = 0; i < 1000; i++) sp.send(frame(i, 1088));
    expect(sp.queuedBytes()).toBe(1000 * 1088);
    expect(sp.stats.maxQueueBytes).toBe(1000 * 1088);
    clock.runAll();
    expect(arrivals.length).toBe(1000);
    const expected = 1000 * 870.4 + 5000;
    const last = arrivals[999]!.at;
    expect(Math.abs(last - expected) / expected).toBeLessThan(0.01);
    // And each frame individually: back to back, one serialization time apart.
    for (let i = 0; i < 1000; i++) expect(arrivals[i]!.at).toBeCloseTo((i + 1) * 870.4 + 5000, 3);
    expect(sp.stats.packets).toBe(1000);
    expect(sp.stats.bytes).toBe(1000 * 1088);
  });

  it('queuedBytes drains as serialization proceeds (what a pipeline reads as queue depth)', () => {
    const { clock, sp } = setup({ rateGbps: 10, queueBytes: 2 * 1024 * 1024 });
    for (let i = 0; i < 100; i++) sp.send(frame(i, 1088));
    expect(sp.queuedBytes()).toBe(100 * 1088);
    clock.runFor(870.4 * 40 + 1);
    expect(sp.queuedBytes()).toBe(60 * 1088);
    expect(sp.stats.packets).toBe(40);
    clock.runFor(870.4 * 60);
    expect(sp.queuedBytes()).toBe(0);
    expect(sp.stats.packets).toBe(100);
  });

  it('an idle link does not bank credit: a frame sent later starts serializing then', () => {
    const { clock, sp, arrivals } = setup({ rateGbps: 1 });
    sp.send(frame(0, 1000)); // 8000 ns
    clock.runFor(100_000);
    sp.send(frame(1, 1000));
    clock.runAll();
    expect(arrivals.map((x) => x.at)).toEqual([8000, 108_000]);
  });

  it('delay only: every frame arrives exactly delayUs later, in order', () => {
    const { clock, sp, arrivals } = setup({ delayUs: 40 });
    const sentAt: number[] = [];
    for (let i = 0; i < 50; i++) {
      sentAt.push(clock.now());
      sp.send(frame(i, 100));
      clock.runFor(3_000);
    }
    clock.runAll();
    expect(arrivals.map((x) => x.seq)).toEqual([...Array(50).keys()]);
    arrivals.forEach((x, i) => expect(x.at - sentAt[i]!).toBe(40 * NS_PER_US));
    expect(sp.queuedBytes()).toBe(0);
  });

  it('jitter stays within [delay, delay + jitter] for spaced frames and never reorders a burst', () => {
    const { clock, sp, arrivals } = setup({ delayUs: 50, jitterUs: 20 }, 3);
    const sentAt: number[] = [];
    for (let i = 0; i < 200; i++) {
      sentAt.push(clock.now());
      sp.send(frame(i, 100));
      clock.runFor(100 * NS_PER_US);
    }
    clock.runAll();
    const lat = arrivals.map((x, i) => x.at - sentAt[i]!);
    for (const l of lat) {
      expect(l).toBeGreaterThanOrEqual(50 * NS_PER_US);
      expect(l).toBeLessThanOrEqual(70 * NS_PER_US);
    }
    // The jitter is really there (not all the same), spread over most of the range.
    expect(Math.max(...lat) - Math.min(...lat)).toBeGreaterThan(15 * NS_PER_US);

    arrivals.length = 0;
    const t0 = clock.now();
    for (let i = 0; i < 200; i++) sp.send(frame(i, 100));
    clock.runAll();
    expect(arrivals.map((x) => x.seq)).toEqual([...Array(200).keys()]);
    for (let i = 1; i < 200; i++) expect(arrivals[i]!.at).toBeGreaterThanOrEqual(arrivals[i - 1]!.at);
    for (const x of arrivals) expect(x.at - t0).toBeLessThanOrEqual(70 * NS_PER_US);
  });

  it('marks ECT frames CE when enqueued above the ECN threshold', () => {
    const { clock, sp, arrivals } = setup({ rateGbps: 1, ecnThresholdBytes: 5000 });
    // All sent at t=0, so frame i sees i*1000 queued bytes: i >= 6 is above 5000.
    const codes = [ECN_ECT0, 1, 0, ECN_CE];
    for (let i = 0; i < 20; i++) sp.send(frame(i, 1000, codes[i % 4]));
    clock.runAll();
    for (const x of arrivals) {
      const orig = codes[x.seq % 4]!;
      const above = x.seq * 1000 > 5000;
      if (orig === 1 || orig === 2) expect(x.ecn).toBe(above ? ECN_CE : orig);
      else expect(x.ecn).toBe(orig); // not-ECT is never marked; CE stays CE
    }
    const marked = arrivals.filter((x) => x.seq * 1000 > 5000 && (x.seq % 4 === 0 || x.seq % 4 === 1)).length;
    expect(marked).toBeGreaterThan(0);
    expect(sp.stats.ecnMarked).toBe(marked);
  });

  it('does not mark when ECN is off (threshold 0), however deep the queue', () => {
    const { clock, sp, arrivals } = setup({ rateGbps: 1 });
    for (let i = 0; i < 50; i++) sp.send(frame(i, 1000, ECN_ECT0));
    clock.runAll();
    expect(arrivals.every((x) => x.ecn === ECN_ECT0)).toBe(true);
    expect(sp.stats.ecnMarked).toBe(0);
  });

  it('fast path: default config hands frames straight down, counted, with no timer', () => {
    const clock = new SimClock();
    const cap = new CapturePort();
    const sp = new ShapedPort(cap, clock, DEFAULT_LINK, createRng(1));
    const f = frame(0, 500);
    sp.send(f);
    expect(cap.sent[0]).toBe(f); // same object: no copy
    expect(clock.pending).toBe(0);
    expect(sp.stats).toMatchObject({ packets: 1, bytes: 500, drops: 0, maxQueueBytes: 0 });
    expect(sp.forwarded).toBe(1);
    expect(sp.queuedBytes()).toBe(0);
  });

  it('rate 0 with only loss: no timers, frames go down synchronously', () => {
    const clock = new SimClock();
    const cap = new CapturePort();
    const sp = new ShapedPort(cap, clock, { lossRate: 0.5 }, createRng(1));
    for (let i = 0; i < 100; i++) sp.send(frame(i, 100));
    expect(clock.pending).toBe(0);
    expect(cap.sent.length + sp.stats.lost).toBe(100);
  });

  it('duplicates are copies, not the same buffer', () => {
    const clock = new SimClock();
    const cap = new CapturePort();
    const sp = new ShapedPort(cap, clock, { duplicateRate: 1 }, createRng(1));
    const f = frame(7, 100);
    sp.send(f);
    clock.runAll();
    expect(cap.sent.length).toBe(2);
    expect(cap.sent[0]).toBe(f);
    expect(cap.sent[1]).not.toBe(f);
    expect(Buffer.from(cap.sent[1]!).equals(Buffer.from(f))).toBe(true);
  });

  it('a frame held for reordering is passed by the next frame, or goes out alone after the hold', () => {
    const { clock, sp, arrivals } = setup({ reorderRate: 1 });
    sp.send(frame(0, 100)); // held
    sp.send(frame(1, 100)); // cannot be held too (one at a time): passes 0, releasing it
    clock.runAll();
    expect(arrivals.map((x) => x.seq)).toEqual([1, 0]);
    expect(sp.stats.reordered).toBe(1);

    arrivals.length = 0;
    const t0 = clock.now();
    sp.send(frame(2, 100)); // held, and nothing follows
    expect(sp.inFlight()).toBe(1);
    clock.runAll();
    expect(arrivals.map((x) => x.seq)).toEqual([2]);
    expect(arrivals[0]!.at - t0).toBe(REORDER_HOLD_MIN_NS);
    expect(sp.stats.reordered).toBe(1);
  });

  it('tail drop is exact: a frame that would exceed queueBytes is dropped, one that fits is kept', () => {
    const { clock, sp, arrivals } = setup({ rateGbps: 1, queueBytes: 3000 });
    sp.send(frame(0, 1000));
    sp.send(frame(1, 1000));
    sp.send(frame(2, 1001)); // 3001 > 3000: dropped
    sp.send(frame(3, 1000)); // 3000 fits exactly
    sp.send(frame(4, 64)); // full
    clock.runAll();
    expect(arrivals.map((x) => x.seq)).toEqual([0, 1, 3]);
    expect(sp.stats.drops).toBe(2);
    expect(sp.stats.maxQueueBytes).toBe(3000);
  });

  it('stays accurate when every wake-up is late: due frames go out in batches', () => {
    // A clock whose timers all fire 3 us late, like a loaded event loop.
    const sim = new SimClock();
    const late: Clock = {
      kind: 'sim',
      now: () => sim.now(),
      setTimer: (d: number, fn: () => void): Timer => sim.setTimer(d + 3000, fn),
    };
    const t = new SimTransport(sim);
    const [a, b] = t.linkSync('a', 'b');
    const sp = new ShapedPort(a, late, { rateGbps: 10, queueBytes: 2e6 }, createRng(1));
    let n = 0;
    let last = 0;
    b.onReceive(() => {
      n++;
      last = sim.now();
    });
    for (let i = 0; i < 1000; i++) sp.send(frame(i, 1088));
    const wakes0 = sim.eventsRun;
    sim.runAll();
    expect(n).toBe(1000);
    // One frame per wake-up would take 1000 * (870.4 + 3000) ns; batching keeps the rate.
    expect(last).toBeLessThan(1000 * 870.4 + 3000 + 870.4 * 4 + 1);
    expect(sim.eventsRun - wakes0 - 1000).toBeLessThan(1000); // fewer wake-ups than frames
  });

  it('close discards in-flight frames, cancels its timers and closes the inner port', () => {
    const clock = new SimClock();
    const cap = new CapturePort();
    const sp = new ShapedPort(cap, clock, { delayUs: 10, reorderRate: 0.5 }, createRng(2));
    for (let i = 0; i < 10; i++) sp.send(frame(i, 100));
    expect(sp.inFlight()).toBeGreaterThan(0);
    sp.close();
    expect(cap.closed).toBe(true);
    expect(sp.inFlight()).toBe(0);
    expect(clock.pending).toBe(0);
    clock.runAll();
    expect(cap.sent.length).toBe(0);
    sp.send(frame(99, 100));
    expect(sp.stats.drops).toBe(1);
  });

  it('rejects nonsense config with the field named', () => {
    expect(() => linkConfig({ lossRate: 1.5 })).toThrow(/lossRate/);
    expect(() => linkConfig({ rateGbps: -1 })).toThrow(/rateGbps/);
    expect(() => linkConfig({ delayUs: NaN })).toThrow(/delayUs/);
    expect(() => linkConfig({ jitterUs: Infinity })).toThrow(/jitterUs/);
    expect(linkConfig({ queueBytes: Infinity }).queueBytes).toBe(Infinity);
    expect(linkConfig()).toEqual(DEFAULT_LINK);
  });

  it('is deterministic: same seed, same arrival trace; another seed, another trace', () => {
    const cfg: Partial<LinkConfig> = {
      rateGbps: 25,
      delayUs: 2,
      jitterUs: 3,
      lossRate: 0.05,
      reorderRate: 0.05,
      duplicateRate: 0.05,
      queueBytes: 64 * 1024,
      ecnThresholdBytes: 16 * 1024,
    };
    const run = (seed: number): string => {
      const { clock, sp, arrivals } = setup(cfg, seed);
      const traffic = createRng(99); // same offered load in every run
      for (let burst = 0; burst < 50; burst++) {
        const k = 1 + traffic.int(40);
        for (let i = 0; i < k; i++) sp.send(frame(burst * 100 + i, 64 + traffic.int(1400), ECN_ECT0));
        clock.runFor(traffic.int(20_000));
      }
      clock.runAll();
      return JSON.stringify({ arrivals, stats: sp.stats });
    };
    const a = run(42);
    expect(run(42)).toBe(a);
    expect(run(43)).not.toBe(a);
  });

  it('property: every frame is accounted for, the queue bound holds, order holds without reordering', () => {
    const cfgArb = fc.record({
      rateGbps: fc.constantFrom(0, 0.1, 1, 10, 100),
      delayUs: fc.constantFrom(0, 1, 10),
      jitterUs: fc.constantFrom(0, 5),
      lossRate: fc.constantFrom(0, 0.1, 0.5),
      reorderRate: fc.constantFrom(0, 0.1, 0.5),
      duplicateRate: fc.constantFrom(0, 0.1),
      queueBytes: fc.constantFrom(1500, 10_000, 1_048_576),
      ecnThresholdBytes: fc.constantFrom(0, 3000),
    });
    const stepArb = fc.record({ size: fc.integer({ min: HEADER_BYTES, max: 1500 }), gapNs: fc.constantFrom(0, 0, 100, 5000) });
    fc.assert(
      fc.property(cfgArb, fc.array(stepArb, { maxLength: 150 }), fc.nat(), (cfg, steps, seed) => {
        const { clock, sp, arrivals } = setup(cfg, seed);
        steps.forEach((s, i) => {
          sp.send(frame(i, s.size, ECN_ECT0));
          expect(sp.queuedBytes()).toBeLessThanOrEqual(cfg.queueBytes);
          if (s.gapNs > 0) clock.runFor(s.gapNs);
        });
        clock.runAll();
        // A lost frame still occupies the queue until serialized, but schedules no event:
        // let virtual time pass its departure before settling the books.
        clock.runFor(1e9);
        const st = sp.stats;
        expect(sp.inFlight()).toBe(0);
        expect(sp.queuedBytes()).toBe(0);
        expect(st.packets + st.drops).toBe(steps.length);
        expect(arrivals.length).toBe(st.packets - st.lost + st.duplicated);
        expect(sp.forwarded).toBe(arrivals.length);
        expect(st.maxQueueBytes).toBeLessThanOrEqual(cfg.queueBytes);
        if (cfg.rateGbps === 0) expect(st.drops).toBe(0);
        const seqs = arrivals.map((x) => x.seq);
        const inv = inversions(seqs);
        expect(inv).toBe(st.reordered);
        if (cfg.reorderRate === 0) expect(inv).toBe(0);
        if (cfg.ecnThresholdBytes === 0) expect(st.ecnMarked).toBe(0);
        // Marking happens on enqueue, before the wire may lose the frame.
        const ceFirstCopies = arrivals.filter((x) => x.ecn === ECN_CE).length - countDupMarked(arrivals);
        if (cfg.lossRate === 0) expect(ceFirstCopies).toBe(st.ecnMarked);
        else expect(ceFirstCopies).toBeLessThanOrEqual(st.ecnMarked);
      }),
      { numRuns: 300 },
    );
  });
});

/** CE-marked arrivals that are duplicate copies (a marked frame's copy is marked too). */
function countDupMarked(arrivals: Arrival[]): number {
  const seen = new Set<number>();
  let n = 0;
  for (const x of arrivals) {
    if (seen.has(x.seq) && x.ecn === ECN_CE) n++;
    seen.add(x.seq);
  }
  return n;
}
