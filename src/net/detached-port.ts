import type { FrameHandler, Port } from './port.js';

/**
 * The end of a link that lives in another process (a multi-process run keeps the whole
 * topology in every process, but only its own nodes' ports are sockets). It never receives;
 * sending on it is a bug in whoever started an agent on a host that is not here, so it throws
 * at once instead of losing the frame quietly.
 */
export class DetachedPort implements Port {
  constructor(
    readonly name: string,
    private readonly where = 'another process',
  ) {}

  send(_frame: Uint8Array): void {
    throw new Error(`${this.name}: this end of the link lives in ${this.where}, not in this process`);
  }

  onReceive(_handler: FrameHandler): void {}

  queuedBytes(): number {
    return 0;
  }

  close(): void {}
}
