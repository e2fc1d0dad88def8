import { afterEach, describe, expect, it } from 'vitest';
import {
  bindEndpoint,
  formatHostPort,
  parseHostPort,
  UdpEndpoint,
  UdpTransport,
} from '../../src/net/udp-transport.js';
import { frameSeq, makeFrame } from '../../src/wire/common-header.js';

const frame = (seq: number) => makeFrame({ protocol: 17, src: 1, dst: 2, seq }, 32);

/** Waits (bounded) for a condition; only ever used to wait for something to happen. */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise<void>((r) => setImmediate(r));
  }
}

const open: UdpEndpoint[] = [];
async function ep(name: string, port = 0): Promise<UdpEndpoint> {
  const e = await bindEndpoint(name, '127.0.0.1', port);
  open.push(e);
  return e;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.closeAsync()));
});

describe('UdpEndpoint', () => {
  it('binds to a free port and reports its address', async () => {
    const a = await ep('a');
    expect(a.name).toBe('a');
    expect(a.address.host).toBe('127.0.0.1');
    expect(a.address.port).toBeGreaterThan(0);
    expect(a.queuedBytes()).toBe(0);
  });

  it('lone endpoints connect by host:port (as across processes) and talk both ways', async () => {
    const a = await ep('a');
    const b = await ep('b');
    // Only the printed address crosses the "process boundary".
    const bAddr = parseHostPort(formatHostPort(b.address));
    const aAddr = parseHostPort(formatHostPort(a.address));
    await a.connect(bAddr.host, bAddr.port);
    await b.connect(aAddr.host, aAddr.port);
    expect(a.isConnected).toBe(true);
    expect(a.peerAddress).toEqual(b.address);
    const atA: number[] = [];
    const atB: number[] = [];
    a.onReceive((f) => atA.push(frameSeq(f)));
    b.onReceive((f) => atB.push(frameSeq(f)));
    for (let i = 0; i < 10; i++) {
      a.send(frame(i));
      b.send(frame(100 + i));
    }
    await until(() => atA.length === 10 && atB.length === 10);
    expect(atB).toEqual([...Array(10).keys()]);
    expect(atA).toEqual([...Array(10).keys()].map((i) => 100 + i));
    expect(a.framesSent).toBe(10);
    expect(b.framesReceived).toBe(10);
    expect(a.sendErrors + b.sendErrors).toBe(0);
  });

  it('sends unconnected right away, before connect() has resolved', async () => {
    const a = await ep('a');
    const b = await ep('b');
    const got: number[] = [];
    b.onReceive((f) => got.push(frameSeq(f)));
    const p = a.connect(b.address.host, b.address.port);
    a.send(frame(1));
    await p;
    a.send(frame(2));
    await until(() => got.length === 2);
    expect(got).toEqual([1, 2]);
  });

  it('re-pointing with a second connect() while the first is in progress ends at the second peer', async () => {
    const a = await ep('a');
    const b = await ep('b');
    const c = await ep('c');
    const atB: number[] = [];
    const atC: number[] = [];
    b.onReceive((f) => atB.push(frameSeq(f)));
    c.onReceive((f) => atC.push(frameSeq(f)));
    const p1 = a.connect(b.address.host, b.address.port);
    a.send(frame(1)); // held during the first connect, then goes to b
    const p2 = a.connect(c.address.host, c.address.port);
    await Promise.all([p1, p2]);
    expect(a.peerAddress).toEqual(c.address);
    a.send(frame(2));
    await until(() => atB.length === 1 && atC.length === 1);
    expect(atB).toEqual([1]);
    expect(atC).toEqual([2]);
    expect(a.sendErrors).toBe(0);
  });

  it('a connected socket ignores datagrams from anyone but its peer', async () => {
    const a = await ep('a');
    const b = await ep('b');
    const stranger = await ep('stranger');
    await b.connect(a.address.host, a.address.port);
    await a.connect(b.address.host, b.address.port);
    await stranger.connect(b.address.host, b.address.port);
    const got: number[] = [];
    b.onReceive((f) => got.push(frameSeq(f)));
    stranger.send(frame(666));
    a.send(frame(1));
    await until(() => got.includes(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([1]);
  });

  it('counts frames that arrive before a handler is set', async () => {
    const a = await ep('a');
    const b = await ep('b');
    await a.connect(b.address.host, b.address.port);
    a.send(frame(1));
    a.send(frame(2));
    await until(() => b.unhandled === 2);
    expect(b.framesReceived).toBe(2);
  });

  it('records instead of throwing: send without a peer, send after close, a throwing handler', async () => {
    const a = await ep('a');
    const errors: string[] = [];
    a.onError((_e, src) => errors.push(src));
    a.send(frame(1));
    expect(a.sendErrors).toBe(1);
    expect(a.lastError?.message).toMatch(/no peer/);

    const b = await ep('b');
    await a.connect(b.address.host, b.address.port);
    b.onReceive(() => {
      throw new Error('handler bug');
    });
    a.send(frame(2));
    await until(() => b.handlerErrors === 1);
    expect(b.lastError?.message).toBe('handler bug');

    await a.closeAsync();
    a.send(frame(3));
    expect(a.sendErrors).toBe(2);
    expect(a.isClosed).toBe(true);
    await a.closeAsync(); // idempotent
    a.close();
  });

  it('counts send errors reported by the kernel (peer port closed) without throwing', async () => {
    const a = await ep('a');
    const b = await ep('b');
    await a.connect(b.address.host, b.address.port);
    await b.closeAsync();
    // Loopback reports ICMP port-unreachable on a connected socket as ECONNREFUSED, on a
    // later send or as a socket error; either way it is counted, never thrown.
    for (let i = 0; i < 20; i++) {
      a.send(frame(i));
      await new Promise<void>((r) => setImmediate(r));
    }
    await until(() => a.sendErrors + a.socketErrors > 0, 5_000).catch(() => {
      /* some kernels stay silent: not an error either */
    });
    expect(a.isClosed).toBe(false);
  });

  it('rejects binding an address in use with a clear error', async () => {
    const a = await ep('a');
    await expect(UdpEndpoint.bind('dup', '127.0.0.1', a.address.port)).rejects.toThrow(/dup.*cannot bind/);
  });
});

describe('UdpTransport', () => {
  it('links two connected endpoints and closes all its sockets', async () => {
    const t = new UdpTransport();
    expect(t.kind).toBe('udp');
    expect(t.clock.kind).toBe('real');
    const [a, b] = await t.link('x', 'y');
    const lone = await t.endpoint('lone');
    expect(a.isConnected && b.isConnected).toBe(true);
    expect(a.peerAddress).toEqual(b.address);
    expect(b.peerAddress).toEqual(a.address);
    await t.close();
    expect(a.isClosed && b.isClosed && lone.isClosed).toBe(true);
    await t.close(); // idempotent
  });
});

describe('parseHostPort', () => {
  it('parses v4, names and bracketed v6; rejects the rest', () => {
    expect(parseHostPort('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseHostPort('switch-1:53')).toEqual({ host: 'switch-1', port: 53 });
    expect(parseHostPort('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(formatHostPort({ host: '::1', port: 9000 })).toBe('[::1]:9000');
    for (const bad of ['127.0.0.1', ':9000', 'h:0', 'h:70000', '::1:9000', 'h:x']) {
      expect(() => parseHostPort(bad)).toThrow(/host:port/);
    }
  });
});
