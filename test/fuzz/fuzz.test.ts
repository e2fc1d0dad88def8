/**
 * The fuzzing harness (issue 12 item 8), short: every program gets random and mutated frames
 * of every protocol in-process and through a switch over UDP; no exception, every frame has
 * exactly one outcome, and the counts depend only on the seed. And the harness can fail: a
 * program that throws, or a target that swallows a frame without counting it, is reported.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFuzz, fuzzPassed } from '../../src/fuzz/run.js';
import { fuzzProgram, FUZZ_PROGRAMS } from '../../src/fuzz/in-process.js';
import { fuzzProgramOverUdp } from '../../src/fuzz/udp.js';
import { OutcomeProbe, OutcomeTally } from '../../src/fuzz/outcomes.js';
import { FrameSource } from '../../src/fuzz/frames.js';
import { buildWorld, inProcessSwitch } from '../../src/fuzz/world.js';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { defineProgram } from '../../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import { OFF_PROTOCOL } from '../../src/wire/common-header.js';
import { PROTO_RING } from '../../src/wire/protocols.js';
import { ina } from '../cli/helpers.js';

const sum = (r: Record<string, number>): number => Object.values(r).reduce((s, v) => s + v, 0);
const withoutTimes = (r: object): string => JSON.stringify(r, (k, v) => (k === 'seconds' || k === 'framesPerSec' ? undefined : v));

describe('ina fuzz, in-process', () => {
  it('every program: no exception, one outcome per frame, deep paths reached', async () => {
    const r = await runFuzz({ frames: 4000, seed: 7 });
    expect(r.programs).toEqual(FUZZ_PROGRAMS);
    expect(r.inProcess.frames).toBe(4000 * FUZZ_PROGRAMS.length);
    expect(r.inProcess.exceptions).toBe(0);
    expect(r.samples).toEqual([]);
    expect(r.inProcess.accounted).toBe(true);
    expect(fuzzPassed(r)).toBe(true);
    for (const p of r.inProcess.byProgram) {
      expect(sum(p.outcomes), p.program).toBe(p.frames);
      expect(sum(p.byClass), p.program).toBe(p.frames);
      expect(p.outcomes.unaccounted ?? 0).toBe(0);
      // every class of frame and the main fates occur, so the run says something
      for (const c of ['valid', 'mutated', 'random'] as const) expect(p.byClass[c], `${p.program} ${c}`).toBeGreaterThan(0);
      expect(p.outcomes.forwarded, p.program).toBeGreaterThan(0);
      expect(p.outcomes['dropped:parser:version'], p.program).toBeGreaterThan(0);
      expect(p.outcomes['dropped:parser:truncated'], p.program).toBeGreaterThan(0);
    }
    // the aggregation programs aggregate, complete rounds, and reject by reason
    for (const name of ['switchml', 'sharp']) {
      const o = r.inProcess.byProgram.find((p) => p.program === name)!.outcomes;
      expect(o['consumed:aggregated'], name).toBeGreaterThan(0);
      expect(Object.keys(o).some((k) => k.startsWith('forwarded:aggregated+completed')), name).toBe(true);
      expect(o['dropped:table:unknownWorker'], name).toBeGreaterThan(0);
      expect(o['dropped:parser:SwitchmlLength'], name).toBeGreaterThan(0);
    }
  }, 60_000);

  it('for any seed and program: no exception and one outcome per frame', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FUZZ_PROGRAMS), fc.integer({ min: 0, max: 0xffffffff }), async (program, seed) => {
        const r = await fuzzProgram(program, 600, seed);
        expect(r.exceptions, JSON.stringify(r.samples)).toBe(0);
        expect(sum(r.outcomes)).toBe(600);
        expect(r.outcomes.unaccounted ?? 0).toBe(0);
      }),
      { numRuns: 14 },
    );
  }, 60_000);

  it('counts depend only on the seed', async () => {
    const a = await fuzzProgram('switchml', 3000, 11);
    const b = await fuzzProgram('switchml', 3000, 11);
    const c = await fuzzProgram('switchml', 3000, 12);
    expect(withoutTimes(b)).toBe(withoutTimes(a));
    expect(withoutTimes(c)).not.toBe(withoutTimes(a));
    // and so do the frames themselves
    const { world } = await buildWorld({ program: 'sharp', seed: 3 });
    const s1 = new FrameSource(world, createRng(5));
    const s2 = new FrameSource(world, createRng(5));
    for (let i = 0; i < 500; i++) expect(Buffer.from(s2.next().frame).equals(Buffer.from(s1.next().frame))).toBe(true);
  });
});

describe('the harness reports what goes wrong', () => {
  // throws on every ring frame
  const faulty = defineProgram<Record<string, never>>({
    name: 'faulty',
    description: 'throws on ring frames',
    metadata: () => ({}),
    build(p) {
      const common = declareCommonHeader(p);
      p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
      return {
        ingress(pkt) {
          if (pkt.buf[OFF_PROTOCOL] === PROTO_RING) throw new Error('boom');
          pkt.sendToPort(0);
        },
      };
    },
  });

  const env = { seed: 1, rng: createRng(1), clock: new SimClock(), portCount: 2, options: {} };

  it('a program that throws: counted as exceptions, with samples naming the program and the frame', async () => {
    const { world } = await buildWorld({ program: 'l3', seed: 1 });
    const tally = new OutcomeTally();
    const probe = new OutcomeProbe(inProcessSwitch('x', faulty, env), tally);
    const source = new FrameSource(world, createRng(2));
    for (let i = 0; i < 2000; i++) probe.process(source.next().frame, 0);
    expect(tally.exceptions).toBeGreaterThan(0);
    expect(tally.counts.get('exception')).toBe(tally.exceptions);
    expect(tally.samples[0]).toMatchObject({ program: 'faulty', switch: 'x', port: 0, message: 'Error: boom' });
    expect(tally.total()).toBe(2000);
  });

  it('a frame that leaves no trace (no counter, no copy) is "unaccounted", and the run fails', () => {
    const tally = new OutcomeTally();
    const probe = new OutcomeProbe(inProcessSwitch('y', faulty, env), tally);
    probe.observe(new Uint8Array(10), 0, () => {});
    probe.observe(new Uint8Array(10), 0, () => {
      throw new Error('escaped');
    });
    expect(tally.sorted()).toEqual({ thrown: 1, unaccounted: 1 });
    expect(tally.samples[0]!.message).toBe('Error: escaped');
  });
});

describe('ina fuzz through a switch over UDP', () => {
  it('switchml on spine0: every datagram the switch got has one outcome, no exception, no socket error', async () => {
    const r = await fuzzProgramOverUdp('switchml', 1500, 3);
    expect(r.sent).toBe(1500);
    expect(r.frames + r.lostInKernel).toBe(r.sent);
    expect(r.lostInKernel).toBe(0);
    expect(sum(r.outcomes)).toBe(r.frames);
    expect(r.exceptions).toBe(0);
    expect(r.socketErrors).toBe(0);
    expect(r.outcomes.unaccounted ?? 0).toBe(0);
    expect(r.outcomes['consumed:aggregated']).toBeGreaterThan(0);
    expect(r.returned).toBe(r.copies);
  }, 30_000);

  it('the command: table and JSON, exit 0; an unknown program is a usage error', async () => {
    const res = await ina(['fuzz', '--frames', '500', '--programs', 'l3,sharp', '--udp', '200', '--json', '-']);
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as { programs: string[]; inProcess: { frames: number; exceptions: number; accounted: boolean }; udp: { frames: number; accounted: boolean } };
    expect(r.programs).toEqual(['l3', 'sharp']);
    expect(r.inProcess).toMatchObject({ frames: 1000, exceptions: 0, accounted: true });
    expect(r.udp.accounted).toBe(true);
    expect(res.stderr).toMatch(/in-process: 1000 frames, \d+ frames\/s, 0 exceptions, every frame accounted for/);
    const bad = await ina(['fuzz', '--programs', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown program nope/);
  }, 60_000);
});
