import { Worker } from 'node:worker_threads';
import type { HostPort } from './udp-transport.js';

/**
 * A UDP load generator and sink on their own thread (so on the other core of a two-core
 * machine), for measuring what sits between them. It keeps `window` frames in flight: a frame
 * arriving at the sink lets the generator send the next one, so the rate it sees is the rate
 * of the slowest stage, without overflowing socket buffers. Frames lost anyway are written
 * off after a quiet period so the loop never stalls.
 *
 * The worker is plain JavaScript evaluated from a string: it needs no loader and touches
 * only node:dgram.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { frame, window } = workerData;
const buf = Buffer.from(frame);
const gen = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
const sink = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
// A closed device makes the kernel answer with ICMP port unreachable (ECONNREFUSED on the
// connected socket): expected at teardown, never fatal.
gen.on('error', () => {});
sink.on('error', () => {});
let sent = 0, received = 0, lost = 0, lastReceived = 0, counting = false, counted = 0, target = null;
function pump() {
  while (target && sent - received - lost < window) { sent++; gen.send(buf); }
}
sink.on('message', () => { received++; if (counting) counted++; pump(); });
const watchdog = setInterval(() => {
  if (!target) return;
  if (received === lastReceived) { lost = sent - received; pump(); }
  lastReceived = received;
}, 20);
let bound = 0;
function ready() { if (++bound === 2) parentPort.postMessage({ type: 'ready', gen: gen.address().port, sink: sink.address().port }); }
gen.bind(0, '127.0.0.1', ready);
sink.bind(0, '127.0.0.1', ready);
parentPort.on('message', (m) => {
  if (m.type === 'connect') {
    target = m.target;
    gen.connect(target.port, target.host, () => pump());
  } else if (m.type === 'count') {
    counting = m.on;
    if (m.on) counted = 0;
    else parentPort.postMessage({ type: 'counted', counted, sent, received, lost });
  } else if (m.type === 'stop') {
    clearInterval(watchdog);
    target = null;
    gen.close(); sink.close();
    parentPort.postMessage({ type: 'stopped' });
  }
});
`;

export interface LoadGenCounts {
  counted: number;
  sent: number;
  received: number;
  lost: number;
}

export class UdpLoadGen {
  private constructor(
    private readonly worker: Worker,
    /** where the generator sends from, and where the sink listens */
    readonly genAddress: HostPort,
    readonly sinkAddress: HostPort,
  ) {}

  static async start(frame: Uint8Array, window = 128): Promise<UdpLoadGen> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { frame, window } });
    const ports = await new Promise<{ gen: number; sink: number }>((res, rej) => {
      worker.once('message', (m) => res(m));
      worker.once('error', rej);
      worker.once('exit', (c) => rej(new Error(`load generator exited (code ${c}) before it was ready`)));
    });
    return new UdpLoadGen(worker, { host: '127.0.0.1', port: ports.gen }, { host: '127.0.0.1', port: ports.sink });
  }

  /** Starts sending toward `target` (the device under test's ingress). */
  connect(target: HostPort): void {
    this.worker.postMessage({ type: 'connect', target });
  }

  /** Counts frames reaching the sink for `ms` milliseconds. */
  async count(ms: number): Promise<LoadGenCounts> {
    this.worker.postMessage({ type: 'count', on: true });
    await new Promise((r) => setTimeout(r, ms));
    const reply = this.next('counted');
    this.worker.postMessage({ type: 'count', on: false });
    return (await reply) as LoadGenCounts;
  }

  async stop(): Promise<void> {
    const done = this.next('stopped');
    this.worker.postMessage({ type: 'stop' });
    await done;
    await this.worker.terminate();
  }

  /** The worker's next message of a type; rejects if the worker dies first. */
  private next(type: string): Promise<unknown> {
    return new Promise((res, rej) => {
      const off = (): void => {
        this.worker.off('message', on);
        this.worker.off('exit', onExit);
      };
      const on = (m: { type: string }): void => {
        if (m.type === type) {
          off();
          res(m);
        }
      };
      const onExit = (code: number): void => {
        off();
        rej(new Error(`load generator exited (code ${code}) before sending ${type}`));
      };
      this.worker.on('message', on);
      this.worker.on('exit', onExit);
    });
  }
}
