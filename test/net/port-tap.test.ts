import { describe, expect, it } from 'vitest';
import { tapped, TappedPort, type PortTap } from '../../src/net/port-tap.js';
import { SimTransport } from '../../src/net/sim-transport.js';
import { frameSeq, makeFrame } from '../../src/wire/common-header.js';

/** A tap that writes down what it saw: port, direction, sequence number, time. */
function recorder(): PortTap & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    sent: (port, f, at) => void seen.push(`${port} out ${frameSeq(f)} @${at}`),
    received: (port, f, at) => void seen.push(`${port} in ${frameSeq(f)} @${at}`),
    closed: (port) => void seen.push(`${port} closed`),
  };
}

describe('port tap', () => {
  it('sees every frame out of and into the port, with its time, and passes them on unchanged', () => {
    const t = new SimTransport();
    const [a, b] = t.linkSync('a', 'b');
    const tap = recorder();
    const ta = tapped(a, tap, t.clock);
    const atA: number[] = [];
    const atB: number[] = [];
    ta.onReceive((f) => atA.push(frameSeq(f)));
    b.onReceive((f) => atB.push(frameSeq(f)));
    ta.send(makeFrame({ protocol: 17, src: 1, dst: 2, seq: 7 }, 10));
    t.clock.runAll();
    b.send(makeFrame({ protocol: 17, src: 2, dst: 1, seq: 9 }, 10));
    t.clock.runAll();
    ta.close();
    expect(atB).toEqual([7]);
    expect(atA).toEqual([9]);
    expect(tap.seen).toEqual(['a out 7 @0', 'a in 9 @0', 'a closed']);
  });

  it('costs nothing where nothing taps: the port itself is returned', () => {
    const t = new SimTransport();
    const [a] = t.linkSync('a', 'b');
    expect(tapped(a, undefined, t.clock)).toBe(a);
    expect(tapped(a, {}, t.clock)).toBeInstanceOf(TappedPort);
  });
});
