import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import { isIPv6 } from 'node:net';
import type { FrameHandler, Port } from './port.js';
import { RealClock } from './real-clock.js';
import type { Transport } from './transport.js';

/**
 * Kernel socket buffers we ask for. Loopback drops datagrams when the receive buffer is
 * full, and a switch reading many ports in one event-loop turn lets bursts pile up there.
 * Linux caps the request at net.core.rmem_max / wmem_max silently; we ignore failures.
 */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export interface HostPort {
  host: string;
  port: number;
}

export type UdpErrorSource = 'socket' | 'send' | 'handler';

/** Recorded (not thrown) when a send has no peer to go to; one shared object, no allocation. */
const NO_PEER = new Error('UdpEndpoint: send before connect(): no peer address');
const CLOSED = new Error('UdpEndpoint: send on a closed endpoint');

/**
 * One end of a link over real UDP: one datagram socket, one peer. The peer is addressed as
 * host:port, so it may live in another process, namespace, container or machine.
 *
 * Never throws on the event loop. Socket 'error' events, failed sends and exceptions from
 * the receive handler are counted and kept in lastError (and passed to onError's listener,
 * if one is set), because an uncaught exception in a 'message' callback would take down
 * every other switch and host in the process. Whoever runs the fabric should check
 * sendErrors / handlerErrors / lastError (or set onError) and fail the run loudly.
 */
export class UdpEndpoint implements Port {
  /** frames passed to the socket */
  framesSent = 0;
  /** datagrams that arrived (handled or not) */
  framesReceived = 0;
  /** sends that failed: synchronously, in the send callback, with no peer, or after close */
  sendErrors = 0;
  /** datagrams that arrived before a receive handler was set (dropped) */
  unhandled = 0;
  /** exceptions thrown by the receive handler (caught so the event loop survives) */
  handlerErrors = 0;
  /** socket 'error' events */
  socketErrors = 0;
  lastError: Error | null = null;

  private handler: FrameHandler | null = null;
  private errorListener: ((err: Error, source: UdpErrorSource) => void) | null = null;
  private local: HostPort = { host: '', port: 0 };
  private peer: HostPort | null = null;
  private connected = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private pendingConnect: (() => void) | null = null;
  private connecting: Promise<void> | null = null;
  /** frames sent while connect() is in progress, flushed in order once it settles */
  private backlog: Uint8Array[] | null = null;

  private constructor(
    readonly name: string,
    private readonly sock: SocketAsPromised,
  ) {
    // Listeners go on before bind so no datagram can arrive with nobody listening.
    sock.socket.on('message', this.onMessage);
    sock.socket.on('error', this.onSocketError);
  }

  /** Binds a socket on host:port (port 0 = any free port). Rejects with the bind error. */
  static async bind(name: string, host = '127.0.0.1', port = 0): Promise<UdpEndpoint> {
    const sock = DgramAsPromised.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    const ep = new UdpEndpoint(name, sock);
    try {
      const info = await sock.bind(port, host);
      ep.local = { host: info.address, port: info.port };
    } catch (err) {
      ep.closed = true;
      try {
        sock.socket.close();
      } catch {
        // never bound: nothing to close
      }
      throw new Error(`UdpEndpoint ${name}: cannot bind ${host}:${port}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      sock.setRecvBufferSize(SOCKET_BUFFER_BYTES);
      sock.setSendBufferSize(SOCKET_BUFFER_BYTES);
    } catch {
      // Not fatal: default buffers work, they just drop earlier under bursts.
    }
    return ep;
  }

  /** The bound local address, what a peer connects to. */
  get address(): HostPort {
    return { host: this.local.host, port: this.local.port };
  }

  /** The peer given to connect(), or null. */
  get peerAddress(): HostPort | null {
    return this.peer === null ? null : { host: this.peer.host, port: this.peer.port };
  }

  /** True once the socket is connected (sends carry no address; foreign datagrams filtered). */
  get isConnected(): boolean {
    return this.connected;
  }

  /**
   * Points this endpoint at its peer. Uses the socket's connect() so each send skips the
   * per-call address lookup and the kernel filters datagrams from anyone else. Frames sent
   * before the returned promise resolves are held and flushed in order once the connect
   * settles (an unconnected send issued meanwhile would finish its address lookup after the
   * connect and fail with EISCONN), so calling send() right away is fine. If connect is
   * unavailable or fails, sends go out unconnected to the same address. Never rejects: a
   * connect failure is recorded in lastError.
   */
  connect(peerHost: string, peerPort: number): Promise<void> {
    // One connect at a time: a second one waits for the first to settle, then re-points.
    if (this.connecting !== null) return this.connecting.then(() => this.connect(peerHost, peerPort));
    const p = this.startConnect(peerHost, peerPort);
    if (this.backlog === null) return p; // settled synchronously (closed / no connect)
    this.connecting = p.finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private startConnect(peerHost: string, peerPort: number): Promise<void> {
    this.peer = { host: peerHost, port: peerPort };
    const s = this.sock.socket;
    if (this.closed || typeof s.connect !== 'function') return Promise.resolve();
    if (this.connected) {
      s.disconnect();
      this.connected = false;
    }
    this.backlog ??= [];
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.pendingConnect = null;
        const held = this.backlog;
        this.backlog = null;
        if (held !== null && !this.closed) for (const f of held) this.send(f);
        resolve();
      };
      // If close() wins the race Node never calls back; close() resolves us instead.
      this.pendingConnect = done;
      try {
        // Node passes an error to the callback on failure (its typings omit the argument).
        const cb = (err?: Error | null): void => {
          if (err) this.record(err, 'socket');
          else if (!this.closed) this.connected = true;
          done();
        };
        s.connect(peerPort, peerHost, cb as () => void);
      } catch (err) {
        this.record(err as Error, 'socket');
        done();
      }
    });
  }

  send(frame: Uint8Array): void {
    if (this.closed) {
      this.sendErrors++;
      this.lastError = CLOSED;
      return;
    }
    if (this.backlog !== null) {
      this.backlog.push(frame);
      return;
    }
    try {
      // The frame goes to the kernel as is, no copy; ownership has passed to us, so nobody
      // may write to it while the send is in flight.
      if (this.connected) {
        this.sock.socket.send(frame, this.onSent);
      } else if (this.peer !== null) {
        this.sock.socket.send(frame, this.peer.port, this.peer.host, this.onSent);
      } else {
        this.sendErrors++;
        this.lastError = NO_PEER;
        return;
      }
      this.framesSent++;
    } catch (err) {
      this.sendErrors++;
      this.record(err as Error, 'send');
    }
  }

  onReceive(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** Called with every recorded error (socket, send, handler). One listener; null removes it. */
  onError(listener: ((err: Error, source: UdpErrorSource) => void) | null): void {
    this.errorListener = listener;
  }

  /** The kernel queue is invisible to us: 0. Wrap in a ShapedPort for a modelled queue. */
  queuedBytes(): number {
    return 0;
  }

  /** Starts closing the socket; closeAsync() gives the promise. Idempotent. */
  close(): void {
    void this.closeAsync();
  }

  /** Closes the socket; resolves once it is closed. Idempotent, never rejects. */
  closeAsync(): Promise<void> {
    if (this.closing === null) {
      this.closed = true;
      this.connected = false;
      this.handler = null;
      this.backlog = null;
      this.pendingConnect?.();
      this.closing = this.sock.close().catch((err: unknown) => {
        this.record(err as Error, 'socket');
      });
    }
    return this.closing;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private record(err: Error, source: UdpErrorSource): void {
    this.lastError = err;
    const l = this.errorListener;
    if (l !== null) {
      try {
        l(err, source);
      } catch {
        // a throwing error listener must not turn into the crash we are avoiding
      }
    }
  }

  // Bound once, so a send allocates no callback closure.
  private readonly onSent = (err: Error | null): void => {
    if (err) {
      this.sendErrors++;
      this.record(err, 'send');
    }
  };

  private readonly onMessage = (msg: Buffer): void => {
    this.framesReceived++;
    const h = this.handler;
    if (h === null) {
      this.unhandled++;
      return;
    }
    try {
      // A plain Uint8Array view of the same bytes (no copy): a Buffer's slice() is a view, not
      // a copy, and whoever receives a frame may copy it with slice() (multicast replicas, the
      // shaper's duplicates) and rewrite each copy. With Buffers every replica of a result
      // went out to the last group member once a shaped port held them.
      h(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    } catch (err) {
      this.handlerErrors++;
      this.record(err instanceof Error ? err : new Error(String(err)), 'handler');
    }
  };

  private readonly onSocketError = (err: Error): void => {
    this.socketErrors++;
    this.record(err, 'socket');
  };
}

/**
 * A lone endpoint, for connecting across processes: bind here, publish `address`, and
 * connect() to an address learnt from the other side (see parseHostPort).
 */
export function bindEndpoint(name: string, host = '127.0.0.1', port = 0): Promise<UdpEndpoint> {
  return UdpEndpoint.bind(name, host, port);
}

/** Parses "host:port", "[v6addr]:port" into a HostPort; throws a clear error otherwise. */
export function parseHostPort(s: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new Error(`expected host:port (or [v6]:port) with port 1..65535, got ${JSON.stringify(s)}`);
  }
  return { host: m[1]!, port };
}

export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Links over real UDP in this process: each link is two sockets on `host`, connected to
 * each other. The clock is a RealClock (shared by everything on this transport).
 */
export class UdpTransport implements Transport {
  readonly kind = 'udp' as const;
  readonly clock: RealClock;
  private readonly endpoints: UdpEndpoint[] = [];

  constructor(
    readonly host = '127.0.0.1',
    clock?: RealClock,
  ) {
    this.clock = clock ?? new RealClock();
  }

  async link(aName: string, bName: string): Promise<[UdpEndpoint, UdpEndpoint]> {
    const a = await this.endpoint(aName);
    const b = await this.endpoint(bName);
    await Promise.all([
      a.connect(b.address.host, b.address.port),
      b.connect(a.address.host, a.address.port),
    ]);
    return [a, b];
  }

  /** A lone endpoint owned by this transport (closed by close()), to connect by host:port. */
  async endpoint(name: string, port = 0): Promise<UdpEndpoint> {
    const ep = await UdpEndpoint.bind(name, this.host, port);
    this.endpoints.push(ep);
    return ep;
  }

  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.closeAsync()));
  }
}
