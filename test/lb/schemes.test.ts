/**
 * Each scheme's per-packet choice against a reference written from the scheme's definition,
 * drawing from the same seeded random stream the switch's program draws from.
 */
import { describe, expect, it } from 'vitest';
import flowlet from '../../pipelines/flowlet.js';
import drill from '../../pipelines/drill.js';
import conga from '../../pipelines/conga.js';
import ecmp from '../../pipelines/ecmp.js';
import { RandomExtern } from '../../src/pipeline/externs/random.js';
import { createRng } from '../../src/net/rng.js';
import { readU16 } from '../../src/wire/bytes.js';
import { OFF_CONGESTION, OFF_FEEDBACK, OFF_FLAGS, OFF_PATHTAG, makeFrame } from '../../src/wire/common-header.js';
import { FLAG_CONGA, encodeFeedback, feedbackMetric, feedbackTag, feedbackValid } from '../../src/wire/conga.js';
import { CONGA_AGE_NS, CONGA_T_DRE_NS, CONGA_TAU_NS, LB_STAT_MOVES, LB_STAT_NEW_FLOWLETS, LB_STATS_COUNTER } from '../../pipelines/lib/load-balancing.js';
import type { Update } from '../../src/pipeline/control-plane.js';
import { addr, flowFrame, rig } from './helpers.js';

const GROUP = [4, 5, 6, 7];

describe('flowlet (LetFlow)', () => {
  it('matches a reference flowlet table: a new flowlet after a gap > flowletGapUs, on a random member', () => {
    const gapUs = 10;
    const r = rig(flowlet, { groupPorts: GROUP, options: { flowletGapUs: gapUs } });
    const random = new RandomExtern(createRng(r.seed).fork('flowlet'));
    const test = createRng(99);
    const ref = new Map<number, { t: number; port: number }>();
    let t = 0;
    let newFlowlets = 0;
    for (let i = 0; i < 2000; i++) {
      const flow = test.int(6);
      // gaps straddle the threshold, in whole ns
      t += Math.floor(test.next() * (gapUs * 1000) * 0.6);
      r.clock.t = t;
      const out = r.send(flowFrame(flow % 4, 0, 40000 + flow), flow % 4);
      const e = ref.get(flow);
      let port: number;
      if (e === undefined || t - e.t > gapUs * 1000) {
        port = GROUP[random.read(0, GROUP.length - 1)]!;
        newFlowlets++;
      } else port = e.port;
      ref.set(flow, { t, port });
      expect(out, `packet ${i} of flow ${flow} at ${t} ns`).toBe(port);
    }
    expect(r.pipe.counters.get(LB_STATS_COUNTER)!.read(LB_STAT_NEW_FLOWLETS).packets).toBe(newFlowlets);
    expect(newFlowlets).toBeGreaterThan(100);
    expect(r.pipe.counters.get(LB_STATS_COUNTER)!.read(LB_STAT_MOVES).packets).toBeGreaterThan(0);
  });

  it('a gap of exactly flowletGapUs keeps the flowlet; one ns more may move it', () => {
    const r = rig(flowlet, { groupPorts: GROUP, options: { flowletGapUs: 5 } });
    const first = r.send(flowFrame(0, 0, 1234), 0);
    r.clock.t = 5000;
    expect(r.send(flowFrame(0, 0, 1234), 0)).toBe(first);
    // after many gaps just over the threshold, the flow has visited other members
    const seen = new Set<number>();
    for (let k = 0; k < 50; k++) {
      r.clock.t += 5001;
      seen.add(r.send(flowFrame(0, 0, 1234), 0));
    }
    expect(seen.size).toBeGreaterThan(1);
    for (const p of seen) expect(GROUP).toContain(p);
  });
});

describe('DRILL(d, m)', () => {
  /** the definition: least loaded of the m remembered (first) and d random members; remember the m least loaded */
  function reference(d: number, m: number, seed: number) {
    const random = new RandomExtern(createRng(seed).fork('drill'));
    let memory: number[] = [];
    return (queue: number[]): number => {
      const cand: number[] = [];
      for (const p of memory) if (!cand.includes(p)) cand.push(p);
      for (let s = 0; s < d; s++) cand.push(GROUP[random.read(0, GROUP.length - 1)]!);
      let best = 0;
      for (let k = 1; k < cand.length; k++) if (queue[cand[k]!]! < queue[cand[best]!]!) best = k;
      const next: number[] = [];
      const left = cand.map((p, k) => ({ p, k }));
      while (next.length < m && left.length > 0) {
        let sel = 0;
        for (let k = 1; k < left.length; k++) if (queue[left[k]!.p]! < queue[left[sel]!.p]!) sel = k;
        const p = left[sel]!.p;
        next.push(p);
        for (let k = left.length - 1; k >= 0; k--) if (left[k]!.p === p) left.splice(k, 1);
      }
      memory = next;
      return cand[best]!;
    };
  }

  for (const [d, m] of [[2, 1], [1, 0], [3, 2], [1, 1]] as const) {
    it(`DRILL(${d}, ${m}) picks what the definition picks, packet by packet`, () => {
      const r = rig(drill, { groupPorts: GROUP, options: { drill: { d, m } } });
      const ref = reference(d, m, r.seed);
      const test = createRng(5);
      for (let i = 0; i < 3000; i++) {
        for (const p of GROUP) r.queue[p] = test.int(4) * 1500; // ties are common
        const expected = ref(r.queue);
        expect(r.send(flowFrame(i % 4, i % 3, 1000 + (i % 7)), i % 4), `packet ${i}`).toBe(expected);
      }
    });
  }

  it('with enough samples every packet goes to the shallowest queue of the group', () => {
    // samples are drawn with replacement: 64 of 4 members miss one with probability 4·(3/4)^64 < 1e-7
    const r = rig(drill, { groupPorts: GROUP, options: { drill: { d: 64, m: 1 } } });
    const test = createRng(8);
    for (let i = 0; i < 200; i++) {
      for (const p of GROUP) r.queue[p] = 1000 + test.int(100000);
      const min = Math.min(...GROUP.map((p) => r.queue[p]!));
      expect(r.queue[r.send(flowFrame(0, 0, 7), 0)]).toBe(min);
    }
  });
});

describe('ECMP', () => {
  it('two switches with different seeds split flows independently (no hash polarization)', () => {
    const a = rig(ecmp, { groupPorts: [4, 5], seed: 1 });
    const b = rig(ecmp, { groupPorts: [4, 5], seed: 2 });
    let agree = 0;
    const n = 400;
    for (let i = 0; i < n; i++) {
      const f = flowFrame(i % 4, i % 3, 30000 + i);
      if ((a.send(f.slice(), 0) === 4) === (b.send(f.slice(), 0) === 4)) agree++;
    }
    // correlated CRCs would agree on all or none; independent choices agree about half the time
    expect(agree / n).toBeGreaterThan(0.4);
    expect(agree / n).toBeLessThan(0.6);
  });
});

describe('CONGA', () => {
  const fromRemote = (o: { srcHost?: number; dstHost?: number; tag?: number; ce?: number; fb?: number; srcPort?: number }): Uint8Array => {
    const f = makeFrame({ protocol: 6, src: addr(1, o.srcHost ?? 0), dst: addr(0, o.dstHost ?? 0), srcPort: 5001, dstPort: o.srcPort ?? 40000, flags: FLAG_CONGA }, 60);
    f[OFF_PATHTAG] = o.tag ?? 9;
    f[OFF_CONGESTION] = o.ce ?? 0;
    f[OFF_FEEDBACK] = (o.fb ?? 0) >>> 8;
    f[OFF_FEEDBACK + 1] = (o.fb ?? 0) & 0xff;
    return f;
  };

  it('the destination leaf learns the path metric and the feedback, and strips the overlay', () => {
    const r = rig(conga, { groupPorts: GROUP });
    expect(r.send(fromRemote({ tag: 9, ce: 3, fb: encodeFeedback(4, 7) }), 5)).toBe(0);
    const out = r.last!;
    expect(out[OFF_FLAGS]! & FLAG_CONGA).toBe(0);
    expect([out[OFF_PATHTAG], out[OFF_CONGESTION], readU16(out, OFF_FEEDBACK)]).toEqual([0, 0, 0]);
    // the next packet to that leaf carries the metric of the remote's path 9 back, and opens the overlay
    const port = r.send(flowFrame(1, 0, 555), 1);
    expect(GROUP).toContain(port);
    const f = r.last!;
    expect(f[OFF_FLAGS]! & FLAG_CONGA).toBe(FLAG_CONGA);
    expect(f[OFF_PATHTAG]).toBe(port);
    const fb = readU16(f, OFF_FEEDBACK);
    expect(feedbackValid(fb)).toBe(true);
    expect([feedbackTag(fb), feedbackMetric(fb)]).toEqual([9, 3]);
  });

  it('new flowlets go to the uplink with the least max(local, remote) metric; stale remote metrics age out', () => {
    const r = rig(conga, { groupPorts: GROUP });
    // the remote leaf reports paths 4, 5 and 6 fully congested
    for (const tag of [4, 5, 6]) r.send(fromRemote({ fb: encodeFeedback(tag, 7) }), 5);
    for (let i = 0; i < 20; i++) {
      r.clock.t += 1000;
      expect(r.send(flowFrame(i % 4, 0, 20000 + i), i % 4), `flow ${i}`).toBe(7);
    }
    // no feedback for longer than the age: every path is presumed idle again
    r.clock.t += CONGA_AGE_NS + CONGA_TAU_NS * 4;
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) seen.add(r.send(flowFrame(i % 4, 0, 30000 + i), i % 4));
    expect([...seen].some((p) => p !== 7)).toBe(true);
  });

  it('the local rate estimator steers new flowlets off a busy uplink', () => {
    const r = rig(conga, { groupPorts: GROUP });
    // single-path routes to leaves 2..4 pin traffic on ports 4, 5, 6
    const updates: Update[] = [4, 5, 6].map((port, k) => ({
      type: 'INSERT',
      entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: addr(2 + k, -1), prefixLen: 24 } }, memberId: port + 1 },
    }));
    r.pipe.controlPlane.write(updates);
    for (let k = 0; k < 3; k++) for (let i = 0; i < 10 * (k + 1); i++) r.send(flowFrame(0, 0, 100 + i, { remoteLeaf: 2 + k, bytes: 8000 }), 0);
    for (let i = 0; i < 10; i++) expect(r.send(flowFrame(1, 0, 60000 + i), 1)).toBe(7);
  });

  it('the congestion field is max-updated with the egress port`s quantized DRE at every hop', () => {
    // a spine-like hop: fabric port in, single-path route out on port 4
    const r = rig(conga, { groupPorts: GROUP, hostPorts: [] });
    r.pipe.controlPlane.write([
      { type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: addr(2, -1), prefixLen: 24 } }, memberId: 5 } },
    ]);
    const through = (ce: number, bytes = 100): number => {
      const f = makeFrame({ protocol: 6, src: addr(1, 0), dst: addr(2, 0), srcPort: 1, dstPort: 2, flags: FLAG_CONGA }, bytes);
      f[OFF_CONGESTION] = ce;
      expect(r.send(f, 8)).toBe(4);
      return r.last![OFF_CONGESTION]!;
    };
    expect(through(2)).toBe(2);
    // 200 KB in one instant is C·tau at 10 Gbit/s: the top metric
    let x = 0;
    for (let i = 0; i < 25; i++) {
      through(0, 8000);
      x += 8000 + 36;
    }
    expect(through(2)).toBe(7);
    x += 136;
    // three DRE periods later the estimate has decayed by (7/8)^3
    r.clock.t = 3 * CONGA_T_DRE_NS;
    const decayed = Math.floor(x * (7 / 8) ** 3) + 136;
    const q = Math.min(7, Math.floor((decayed * 8) / ((10 / 8) * CONGA_TAU_NS)));
    expect(q).toBeLessThan(7);
    expect(through(0)).toBe(q);
    expect(through(7)).toBe(7);
    // a packet without the overlay is not marked
    const plain = makeFrame({ protocol: 6, src: addr(1, 0), dst: addr(2, 0), srcPort: 1, dstPort: 2 }, 100);
    r.send(plain, 8);
    expect(r.last![OFF_CONGESTION]).toBe(0);
  });

  it('feedback goes round robin over the remote leaf`s paths, a changed metric first', () => {
    const r = rig(conga, { groupPorts: GROUP });
    for (const [tag, ce] of [[10, 1], [11, 2], [12, 3]] as const) r.send(fromRemote({ tag, ce }), 5);
    const fed = (): [number, number] => {
      r.send(flowFrame(0, 0, 777), 0);
      const fb = readU16(r.last!, OFF_FEEDBACK);
      return [feedbackTag(fb), feedbackMetric(fb)];
    };
    expect([fed(), fed(), fed()]).toEqual([[10, 1], [11, 2], [12, 3]]);
    // nothing changed: plain round robin
    expect(fed()).toEqual([10, 1]);
    // path 12 changes: it is fed back next, out of turn
    r.send(fromRemote({ tag: 12, ce: 6 }), 5);
    expect(fed()).toEqual([12, 6]);
    expect(fed()).toEqual([10, 1]);
  });
});
