/**
 * The tc commands that make the kernel shape a link like the software shaper: tbf for the rate
 * (the link's queue as its limit), netem under it (or at the root) for the rest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { needsNetem, needsShaping, REORDER_DELAY_US, tcCommands } from '../../src/cluster/kernel-shaping.js';
import { DEFAULT_LINK, linkConfig, type LinkConfig } from '../../src/net/link-shaper.js';

const MIN_BURST = 9216;

/** The value after `word` in a command, or undefined. */
function after(cmd: readonly string[], word: string): string | undefined {
  const i = cmd.indexOf(word);
  return i < 0 ? undefined : cmd[i + 1];
}

function isTbf(cmd: readonly string[]): boolean {
  return cmd.includes('tbf');
}
function isNetem(cmd: readonly string[]): boolean {
  return cmd.includes('netem');
}
function pctOf(s: string | undefined): number {
  expect(s).toMatch(/%$/);
  return Number(s!.slice(0, -1)) / 100;
}
function usOf(s: string | undefined): number {
  expect(s).toMatch(/us$/);
  return Number(s!.slice(0, -2));
}

describe('tcCommands', () => {
  it('shapes nothing on an unshaped link', () => {
    expect(needsShaping(DEFAULT_LINK)).toBe(false);
    expect(tcCommands('eth0', DEFAULT_LINK)).toEqual([]);
    expect(tcCommands('eth0', linkConfig({ queueBytes: 10, ecnThresholdBytes: 5 }))).toEqual([]);
  });

  it('rate only: one tbf at the root, rate in bit/s, burst >= a jumbo frame, limit >= the queue', () => {
    for (const [rateGbps, queueBytes] of [
      [10, 1_048_576],
      [0.001, 100],
      [100, 64],
      [1.5, 50_000_000],
    ] as const) {
      const cmds = tcCommands('veth3', linkConfig({ rateGbps, queueBytes }));
      expect(cmds).toHaveLength(1);
      const [tbf] = cmds;
      expect(tbf!.slice(0, 8)).toEqual(['qdisc', 'replace', 'dev', 'veth3', 'root', 'handle', '1:', 'tbf']);
      expect(after(tbf!, 'rate')).toBe(`${Math.round(rateGbps * 1e9)}bit`);
      const burst = Number(after(tbf!, 'burst'));
      expect(burst).toBeGreaterThanOrEqual(MIN_BURST);
      // at least one millisecond of traffic fits the bucket
      expect(burst).toBeGreaterThanOrEqual((rateGbps * 1e9) / 8 / 1000);
      expect(Number(after(tbf!, 'limit'))).toBeGreaterThanOrEqual(queueBytes);
      expect(Number(after(tbf!, 'limit'))).toBeGreaterThanOrEqual(burst);
      expect(isNetem(tbf!)).toBe(false);
    }
  });

  it('delay, jitter, loss, reorder, duplicate: netem as a child of tbf when rate-limited', () => {
    const c = linkConfig({ rateGbps: 25, delayUs: 100, jitterUs: 7, lossRate: 0.01, reorderRate: 0.25, duplicateRate: 0.005 });
    const cmds = tcCommands('eth1', c);
    expect(cmds).toHaveLength(2);
    const [tbf, netem] = cmds;
    expect(isTbf(tbf!)).toBe(true);
    expect(after(tbf!, 'root')).toBe('handle');
    expect(netem!.slice(0, 4)).toEqual(['qdisc', 'replace', 'dev', 'eth1']);
    expect(after(netem!, 'parent')).toBe('1:1');
    expect(netem!.includes('root')).toBe(false);
    expect(isNetem(netem!)).toBe(true);
    expect(usOf(after(netem!, 'delay'))).toBe(100);
    expect(netem![netem!.indexOf('delay') + 2]).toBe('7us');
    expect(pctOf(after(netem!, 'loss'))).toBeCloseTo(0.01, 12);
    expect(pctOf(after(netem!, 'reorder'))).toBeCloseTo(0.25, 12);
    expect(pctOf(after(netem!, 'duplicate'))).toBeCloseTo(0.005, 12);
    expect(after(netem!, 'loss')).toBe('1%');
    expect(after(netem!, 'reorder')).toBe('25%');
    expect(after(netem!, 'duplicate')).toBe('0.5%');
  });

  it('without a rate, netem is the root qdisc', () => {
    const cmds = tcCommands('eth2', linkConfig({ delayUs: 30, lossRate: 0.5 }));
    expect(cmds).toHaveLength(1);
    const [netem] = cmds;
    expect(netem!.slice(0, 5)).toEqual(['qdisc', 'replace', 'dev', 'eth2', 'root']);
    expect(isNetem(netem!)).toBe(true);
    expect(isTbf(netem!)).toBe(false);
    expect(netem!.includes('parent')).toBe(false);
    expect(after(netem!, 'delay')).toBe('30us');
    expect(after(netem!, 'loss')).toBe('50%');
    expect(netem!.includes('reorder')).toBe(false);
    expect(netem!.includes('duplicate')).toBe(false);
  });

  it('reordering without delay gets REORDER_DELAY_US (netem reorders only what it delays)', () => {
    for (const rateGbps of [0, 10]) {
      const cmds = tcCommands('eth0', linkConfig({ rateGbps, reorderRate: 0.1 }));
      const netem = cmds.find(isNetem)!;
      expect(netem).toBeDefined();
      expect(after(netem, 'delay')).toBe(`${REORDER_DELAY_US}us`);
      expect(after(netem, 'reorder')).toBe('10%');
    }
    // with its own delay, the link's delay wins
    const netem = tcCommands('eth0', linkConfig({ delayUs: 500, reorderRate: 0.1 }))[0]!;
    expect(after(netem, 'delay')).toBe('500us');
  });

  it('loss or duplication alone needs no delay', () => {
    expect(tcCommands('e', linkConfig({ lossRate: 0.2 }))[0]!.includes('delay')).toBe(false);
    expect(tcCommands('e', linkConfig({ duplicateRate: 0.2 }))[0]!.includes('delay')).toBe(false);
  });

  const config: fc.Arbitrary<LinkConfig> = fc
    .record({
      rateGbps: fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 400, noNaN: true })),
      delayUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100_000 })),
      jitterUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
      lossRate: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1, noNaN: true })),
      reorderRate: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1, noNaN: true })),
      duplicateRate: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1, noNaN: true })),
      queueBytes: fc.integer({ min: 0, max: 1 << 30 }),
      ecnThresholdBytes: fc.nat(),
    })
    .map((c) => linkConfig(c));

  it('property: command shape, netem iff any impairment, tbf iff a rate', () => {
    fc.assert(
      fc.property(config, fc.stringMatching(/^[a-z][a-z0-9-]{0,14}$/), (c, dev) => {
        const cmds = tcCommands(dev, c);
        for (const cmd of cmds) expect(cmd.slice(0, 4)).toEqual(['qdisc', 'replace', 'dev', dev]);
        const impaired = c.delayUs > 0 || c.jitterUs > 0 || c.lossRate > 0 || c.reorderRate > 0 || c.duplicateRate > 0;
        const tbfs = cmds.filter(isTbf);
        const netems = cmds.filter(isNetem);
        expect(netems.length).toBe(impaired ? 1 : 0);
        expect(tbfs.length).toBe(c.rateGbps > 0 ? 1 : 0);
        expect(cmds.length).toBe(tbfs.length + netems.length);
        // the root first: tbf before its netem child
        if (tbfs.length && netems.length) {
          expect(cmds[0]).toBe(tbfs[0]);
          expect(after(netems[0]!, 'parent')).toBe('1:1');
        } else if (cmds.length) {
          expect(cmds[0]!.includes('root')).toBe(true);
        }
        for (const tbf of tbfs) {
          expect(after(tbf, 'rate')).toMatch(/^\d+bit$/);
          expect(Number(after(tbf, 'burst'))).toBeGreaterThanOrEqual(MIN_BURST);
          expect(Number(after(tbf, 'limit'))).toBeGreaterThanOrEqual(c.queueBytes);
        }
        for (const netem of netems) {
          const delay = after(netem, 'delay');
          if (c.delayUs > 0) expect(usOf(delay)).toBe(c.delayUs);
          else if (c.reorderRate > 0 || c.jitterUs > 0) expect(usOf(delay)).toBe(REORDER_DELAY_US);
          else expect(delay).toBeUndefined();
          if (c.jitterUs > 0) expect(usOf(netem[netem.indexOf('delay') + 2])).toBe(c.jitterUs);
          for (const [word, p] of [
            ['loss', c.lossRate],
            ['reorder', c.reorderRate],
            ['duplicate', c.duplicateRate],
          ] as const) {
            if (p > 0) expect(Math.abs(pctOf(after(netem, word)) - p)).toBeLessThanOrEqual(p * 1e-5);
            else expect(netem.includes(word)).toBe(false);
          }
          // every value is a number tc can parse
          for (const arg of netem.slice(netem.indexOf('netem') + 1)) expect(arg).not.toMatch(/NaN|Infinity|undefined/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('tcCommands: values tc would reject', () => {
  it('an unbounded queue and a vanishing rate still give whole, finite tc arguments', () => {
    const [tbf] = tcCommands('p0', { ...DEFAULT_LINK, rateGbps: 1e-10, queueBytes: Infinity });
    const arg = (k: string): string => tbf![tbf!.indexOf(k) + 1]!;
    expect(arg('rate')).toBe('1bit');
    expect(Number.isInteger(Number(arg('limit')))).toBe(true);
    expect(Number(arg('limit'))).toBeLessThan(2 ** 31);
  });
});

describe('tcCommands without netem (a kernel built without it)', () => {
  it('keeps only the rate: a tbf for a rated link, nothing for a link that only delays or loses', () => {
    const c: LinkConfig = { ...DEFAULT_LINK, rateGbps: 2, delayUs: 100, lossRate: 0.01, reorderRate: 0.1 };
    const cmds = tcCommands('p1', c, false);
    expect(cmds).toHaveLength(1);
    expect(cmds[0]!.slice(0, 8)).toEqual(['qdisc', 'replace', 'dev', 'p1', 'root', 'handle', '1:', 'tbf']);
    expect(cmds.flat()).not.toContain('netem');
    expect(tcCommands('p1', { ...DEFAULT_LINK, delayUs: 100, lossRate: 0.01 }, false)).toEqual([]);
    expect(needsNetem({ ...DEFAULT_LINK, rateGbps: 1 })).toBe(false);
    expect(needsNetem({ ...DEFAULT_LINK, duplicateRate: 0.01 })).toBe(true);
  });
});
