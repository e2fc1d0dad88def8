import net from 'node:net';
import { decode, encode } from './codec.js';
import type { ControlMessage } from './messages.js';

/**
 * The control channel between the coordinator (`ina up`) and its nodes (`ina node`): one
 * stream socket per node carrying newline-delimited JSON messages. A Unix socket when every
 * node is on this machine (it crosses network namespaces: they share the filesystem), TCP when
 * nodes are containers or other machines.
 */
export type ControlAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseControlAddress(text: string): ControlAddress {
  if (text.startsWith('unix:') && text.length > 5) return { kind: 'unix', path: text.slice(5) };
  const m = /^tcp:(.+):(\d{1,5})$/.exec(text);
  if (m && Number(m[2]) < 65536) return { kind: 'tcp', host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
  throw new Error(`control address "${text}": expected unix:/path/to/socket or tcp:host:port`);
}

export function formatControlAddress(a: ControlAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

export class ControlChannel {
  private buffered = '';
  private handler: ((m: ControlMessage) => void) | null = null;
  private closeHandlers: Array<(reason: string) => void> = [];
  private closed = false;

  constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e) => this.finish(e.message));
    socket.on('close', () => this.finish('connection closed'));
  }

  send(message: ControlMessage): void {
    if (this.closed) return;
    this.socket.write(encode(message) + '\n');
  }

  onMessage(handler: (m: ControlMessage) => void): void {
    this.handler = handler;
  }

  /** Called once, with why, when the other end goes away (or close() is called). */
  onClose(handler: (reason: string) => void): void {
    if (this.closed) handler('connection closed');
    else this.closeHandlers.push(handler);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon?.();
    this.finish('closed here');
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.length === 0) continue;
      let m: ControlMessage;
      try {
        m = decode(line) as ControlMessage;
      } catch (e) {
        // A peer that speaks something else is a broken peer: drop it, say why.
        this.socket.destroy();
        this.finish(`bad control message: ${(e as Error).message}`);
        return;
      }
      this.handler?.(m);
    }
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h(reason);
  }
}

function connectOnce(addr: ControlAddress): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = addr.kind === 'unix' ? net.createConnection(addr.path) : net.createConnection(addr.port, addr.host);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => reject(e));
  });
}

/** Connects, retrying while the coordinator is not listening yet, for at most `timeoutMs`. */
export async function connectControl(addr: ControlAddress, timeoutMs: number): Promise<ControlChannel> {
  const until = Date.now() + timeoutMs;
  let last: Error | null = null;
  for (;;) {
    try {
      return new ControlChannel(await connectOnce(addr));
    } catch (e) {
      last = e as Error;
    }
    if (Date.now() >= until) throw new Error(`cannot reach the coordinator at ${formatControlAddress(addr)} within ${timeoutMs / 1000} s: ${last.message}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function listenControl(addr: ControlAddress, onChannel: (c: ControlChannel) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => onChannel(new ControlChannel(s)));
    server.once('error', (e) => reject(new Error(`cannot listen on ${formatControlAddress(addr)}: ${e.message}`)));
    const ready = (): void => {
      server.removeAllListeners('error');
      resolve(server);
    };
    if (addr.kind === 'unix') server.listen(addr.path, ready);
    else server.listen(addr.port, addr.host, ready);
  });
}
