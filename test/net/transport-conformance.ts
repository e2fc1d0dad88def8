/**
 * One behavioural suite for every Transport (the way libp2p runs one interface-compliance
 * suite against each of its transports). A transport passes if frames get across intact,
 * in order, and the link emulation wrapped around its ports accounts for every frame.
 *
 * The suite never asserts wall-clock timing: over real UDP it only waits, with generous
 * timeouts and bounded loops. Frames are sent in small batches, each drained before the
 * next, because loopback UDP drops when a socket's receive buffer overflows and this suite
 * is about the transport, not about the kernel's buffer sizes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LINK, type LinkConfig } from '../../src/net/link-shaper.js';
import { ShapedPort } from '../../src/net/queued-port.js';
import type { Port } from '../../src/net/port.js';
import { createRng, type Rng } from '../../src/net/rng.js';
import type { Transport } from '../../src/net/transport.js';
import { frameSeq, HEADER_BYTES, makeFrame } from '../../src/wire/common-header.js';

/** Runs the transport until `until()` holds; rejects if that takes longer than timeoutMs. */
export type Drive<T extends Transport> = (t: T, until: () => boolean, timeoutMs: number) => Promise<void>;

const TIMEOUT_MS = 20_000;
const BATCH = 32;

/** A frame whose payload is a pattern derived from seq, so corruption is detectable. */
export function patternFrame(seq: number, payloadLength: number, rng?: Rng): Uint8Array {
  const f = makeFrame({ protocol: 17, src: 0x0a000001, dst: 0x0a000002, seq }, payloadLength);
  for (let i = HEADER_BYTES; i < f.length; i++) f[i] = rng ? rng.int(256) : (seq * 31 + i) & 0xff;
  return f;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Records every frame a port receives. */
export function collect(p: Port): Uint8Array[] {
  const got: Uint8Array[] = [];
  p.onReceive((f) => got.push(f));
  return got;
}

/**
 * Number of frames whose first arrival comes after a frame with a higher seq. Later copies
 * of a duplicated frame are not counted again (the frame was reordered once, or not).
 */
export function inversions(seqs: number[]): number {
  const seen = new Set<number>();
  let max = -1;
  let n = 0;
  for (const s of seqs) {
    if (seen.has(s)) continue;
    seen.add(s);
    if (s < max) n++;
    else max = s;
  }
  return n;
}

export function describeTransportConformance<T extends Transport>(
  name: string,
  makeTransport: () => Promise<T>,
  drive: Drive<T>,
): void {
  describe(`transport conformance: ${name}`, () => {
    let t: T;

    beforeEach(async () => {
      t = await makeTransport();
    });

    afterEach(async () => {
      await t.close();
    });

    /** Sends through a ShapedPort in drained batches; returns the frames sent. */
    async function pump(sp: ShapedPort, got: Uint8Array[], n: number, payload: number): Promise<number> {
      for (let i = 0; i < n; i += BATCH) {
        for (let k = i; k < Math.min(n, i + BATCH); k++) sp.send(patternFrame(k, payload));
        await drive(t, () => sp.inFlight() === 0 && got.length === sp.forwarded, TIMEOUT_MS);
      }
      return n;
    }

    function shaped(p: Port, cfg: Partial<LinkConfig>, seed = 1): ShapedPort {
      return new ShapedPort(p, t.clock, { ...DEFAULT_LINK, ...cfg }, createRng(seed).fork('link'));
    }

    it('reports its kind and clock', () => {
      expect(['sim', 'udp']).toContain(t.kind);
      expect(t.clock.kind).toBe(t.kind === 'sim' ? 'sim' : 'real');
    });

    it('delivers frames both ways with bytes intact', async () => {
      const [a, b] = await t.link('a', 'b');
      expect(a.name).toBe('a');
      expect(b.name).toBe('b');
      const atA = collect(a);
      const atB = collect(b);
      const rng = createRng(7);
      const sentAB: Uint8Array[] = [];
      const sentBA: Uint8Array[] = [];
      const sizes = [0, 1, 63, 64, 500, 1400, 4000, 8000];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < sizes.length; i++) {
          const seq = round * sizes.length + i;
          const fa = patternFrame(seq, sizes[i]!, rng);
          const fb = patternFrame(1000 + seq, sizes[(i + 3) % sizes.length]!, rng);
          // Ownership passes on send: keep our own copies to compare against.
          sentAB.push(fa.slice());
          sentBA.push(fb.slice());
          a.send(fa);
          b.send(fb);
        }
        await drive(t, () => atB.length === sentAB.length && atA.length === sentBA.length, TIMEOUT_MS);
      }
      expect(atB.length).toBe(sentAB.length);
      expect(atA.length).toBe(sentBA.length);
      for (let i = 0; i < sentAB.length; i++) expect(sameBytes(atB[i]!, sentAB[i]!)).toBe(true);
      for (let i = 0; i < sentBA.length; i++) expect(sameBytes(atA[i]!, sentBA[i]!)).toBe(true);
    });

    it('keeps FIFO order through a default ShapedPort', async () => {
      const [a, b] = await t.link('a', 'b');
      const got = collect(b);
      const sp = shaped(a, {});
      const n = await pump(sp, got, 300, 200);
      expect(got.map(frameSeq)).toEqual([...Array(n).keys()]);
      expect(sp.stats.packets).toBe(n);
      expect(sp.stats.drops + sp.stats.lost + sp.stats.duplicated + sp.stats.reordered).toBe(0);
    });

    it('keeps FIFO order with delay and jitter (jitter alone never reorders)', async () => {
      const [a, b] = await t.link('a', 'b');
      const got = collect(b);
      const sp = shaped(a, { delayUs: 200, jitterUs: 150, rateGbps: 1 });
      const n = await pump(sp, got, 300, 500);
      expect(got.map(frameSeq)).toEqual([...Array(n).keys()]);
      expect(sp.stats.packets).toBe(n);
    });

    it('accounts for every frame under random loss: sent = received + lost', async () => {
      const [a, b] = await t.link('a', 'b');
      const got = collect(b);
      const lossRate = 0.2;
      const sp = shaped(a, { lossRate }, 11);
      const n = await pump(sp, got, 1000, 100);
      const st = sp.stats;
      expect(got.length + st.lost).toBe(n);
      expect(st.packets).toBe(n); // lost frames were transmitted; they died on the wire
      // Binomial(1000, 0.2): mean 200, sd 12.6. Six sd either side.
      expect(st.lost).toBeGreaterThan(n * lossRate - 76);
      expect(st.lost).toBeLessThan(n * lossRate + 76);
      expect(inversions(got.map(frameSeq))).toBe(0);
      expect(new Set(got.map(frameSeq)).size).toBe(got.length);
    });

    it('tail-drops a burst beyond queueBytes at a slow rate: received + drops = sent', async () => {
      const [a, b] = await t.link('a', 'b');
      const got = collect(b);
      const queueBytes = 10_000;
      const payload = 1000;
      // 10 Mbit/s: ~0.8 ms per frame, so a burst of 50 sent at once cannot drain meanwhile.
      const sp = shaped(a, { rateGbps: 0.01, queueBytes });
      const n = 50;
      for (let i = 0; i < n; i++) sp.send(patternFrame(i, payload));
      expect(sp.queuedBytes()).toBeGreaterThan(0);
      expect(sp.queuedBytes()).toBeLessThanOrEqual(queueBytes);
      await drive(t, () => sp.inFlight() === 0 && got.length === sp.forwarded, TIMEOUT_MS);
      const st = sp.stats;
      expect(st.drops).toBeGreaterThan(0);
      expect(got.length + st.drops).toBe(n);
      expect(st.packets).toBe(got.length);
      expect(st.maxQueueBytes).toBeLessThanOrEqual(queueBytes);
      expect(st.maxQueueBytes).toBeGreaterThan(queueBytes - (HEADER_BYTES + payload));
      expect(sp.queuedBytes()).toBe(0);
      // What fits is the head of the burst, in order.
      expect(got.map(frameSeq)).toEqual([...Array(got.length).keys()]);
    });

    it('duplicates when asked (copies with identical bytes), never reordering', async () => {
      const [a, b] = await t.link('a', 'b');
      const got = collect(b);
      const sp = shaped(a, { duplicateRate: 0.25 }, 5);
      const n = await pump(sp, got, 400, 64);
      const st = sp.stats;
      expect(st.duplicated).toBeGreaterThan(0);
      expect(got.length).toBe(n + st.duplicated);
      const seqs = got.map(frameSeq);
      expect(new Set(seqs).size).toBe(n);
      expect(seqs.length - new Set(seqs).size).toBe(st.duplicated);
      expect(inversions(seqs)).toBe(0);
      for (const f of got) expect(sameBytes(f, patternFrame(frameSeq(f), 64))).toBe(true);
    });

    it('reorders when asked, and every frame still arrives exactly once', async () => {
      const [a, b] = await t.link('a', 'b');
      const got = collect(b);
      const sp = shaped(a, { reorderRate: 0.1 }, 9);
      const n = await pump(sp, got, 400, 64);
      const seqs = got.map(frameSeq);
      expect([...seqs].sort((x, y) => x - y)).toEqual([...Array(n).keys()]);
      expect(sp.stats.reordered).toBeGreaterThan(0);
      expect(inversions(seqs)).toBe(sp.stats.reordered);
    });

    it('produces no duplicates or reordering when not asked, even with loss, delay and a rate', async () => {
      const [a, b] = await t.link('a', 'b');
      const got = collect(b);
      const sp = shaped(a, { lossRate: 0.05, delayUs: 50, jitterUs: 50, rateGbps: 5 }, 3);
      await pump(sp, got, 300, 300);
      const seqs = got.map(frameSeq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(inversions(seqs)).toBe(0);
      expect(sp.stats.duplicated + sp.stats.reordered).toBe(0);
    });

    it('shapes both directions independently when both ends are wrapped', async () => {
      const [a, b] = await t.link('a', 'b');
      const sa = shaped(a, { lossRate: 0.5 }, 1);
      const sb = shaped(b, {}, 2);
      const atA = collect(sa);
      const atB = collect(sb);
      for (let i = 0; i < 20; i++) {
        sa.send(patternFrame(i, 10));
        sb.send(patternFrame(i, 10));
      }
      await drive(
        t,
        () => sa.inFlight() + sb.inFlight() === 0 && atB.length === sa.forwarded && atA.length === sb.forwarded,
        TIMEOUT_MS,
      );
      expect(atA.length).toBe(20);
      expect(atB.length + sa.stats.lost).toBe(20);
      expect(sa.stats.lost).toBeGreaterThan(0);
    });
  });
}
