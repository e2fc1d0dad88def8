export type FrameHandler = (frame: Uint8Array) => void;

/**
 * One end of a link, as a switch or host sees it. Frames are whole datagrams.
 *
 * Ownership: send() hands the frame over; the caller must not touch it afterwards.
 * A receive handler owns the frame it is given (it may modify and forward it).
 */
export interface Port {
  readonly name: string;
  send(frame: Uint8Array): void;
  /** Sets the one receive handler (replacing any earlier one). */
  onReceive(handler: FrameHandler): void;
  /** Bytes waiting in this port's egress queue now (0 where there is no queue). */
  queuedBytes(): number;
  close(): void;
}

/** Per-direction link counters, as the report shows them. */
export interface DirectionStats {
  bytes: number;
  packets: number;
  drops: number;
  maxQueueBytes: number;
  ecnMarked: number;
  /** frames lost on the wire by link emulation (random loss; not queue drops) */
  lost: number;
  /** extra copies delivered by link emulation */
  duplicated: number;
  /** frames delivered after a frame sent later than them */
  reordered: number;
}

export function emptyDirectionStats(): DirectionStats {
  return {
    bytes: 0,
    packets: 0,
    drops: 0,
    maxQueueBytes: 0,
    ecnMarked: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
  };
}
