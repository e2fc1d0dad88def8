import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/net/sim-clock.js';
import { SimTransport } from '../../src/net/sim-transport.js';
import { frameSeq, makeFrame } from '../../src/wire/common-header.js';

const frame = (seq: number) => makeFrame({ protocol: 17, src: 1, dst: 2, seq }, 16);

describe('SimTransport', () => {
  it('uses the clock it is given', () => {
    const c = new SimClock();
    expect(new SimTransport(c).clock).toBe(c);
    expect(new SimTransport().clock.kind).toBe('sim');
  });

  it('is zero-copy: the receiver gets the very buffer that was sent', async () => {
    const t = new SimTransport();
    const [a, b] = await t.link('a', 'b');
    const got: Uint8Array[] = [];
    b.onReceive((f) => got.push(f));
    const f = frame(1);
    a.send(f);
    expect(got).toEqual([]); // never delivered inside send()
    t.clock.runAll();
    expect(got[0]).toBe(f);
    expect(a.queuedBytes()).toBe(0);
  });

  it('delivers at the same virtual time, in send order, interleaving links FIFO', () => {
    const t = new SimTransport();
    const [a, b] = t.linkSync('a', 'b');
    const [c, d] = t.linkSync('c', 'd');
    const log: string[] = [];
    b.onReceive((f) => log.push(`b${frameSeq(f)}@${t.clock.now()}`));
    d.onReceive((f) => log.push(`d${frameSeq(f)}@${t.clock.now()}`));
    t.clock.runFor(100);
    a.send(frame(1));
    c.send(frame(2));
    a.send(frame(3));
    t.clock.runAll();
    expect(log).toEqual(['b1@100', 'd2@100', 'b3@100']);
  });

  it('counts frames arriving before a handler, and drops on closed ports', async () => {
    const t = new SimTransport();
    const [a, b] = await t.link('a', 'b');
    a.send(frame(1));
    t.clock.runAll();
    expect(b.unhandled).toBe(1);
    let n = 0;
    b.onReceive(() => n++);
    a.send(frame(2));
    b.close();
    t.clock.runAll();
    expect(n).toBe(0);
    expect(b.closedDrops).toBe(1);
    await t.close();
    a.send(frame(3));
    expect(a.closedDrops).toBe(1);
    expect(a.framesSent).toBe(2);
  });
});
