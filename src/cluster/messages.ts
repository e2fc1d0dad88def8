import type { Update } from '../pipeline/control-plane.js';
import type { DirectionStats } from '../net/port.js';
import type { SwitchReport } from '../report/types.js';

/** One side of a link as its node counts it: link index, side, and the egress counters. */
export interface LinkSideCounters {
  readonly index: number;
  readonly side: 'a' | 'b';
  readonly stats: DirectionStats;
}

/** An error crossing processes: enough to rethrow it with its kind and fields. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * One aggregation slot copy's registers as the switch holds them (see hosts/aggregation-blame.ts):
 * whose contributions the round has (bitmap), how many it still waits for (count), which packet
 * it is at (seq), and whether its total came down from the parent (done; 1 in a flat job).
 */
export interface SlotCopyState {
  readonly bitmap: number;
  readonly count: number;
  readonly seq: number;
  readonly done: number;
}

/** From a node to the coordinator. */
export type NodeMessage =
  | { t: 'hello'; node: string; pid: number }
  /** `shaping` says how this node's links are shaped (software, kernel, or kernel + software) */
  | { t: 'ready'; node: string; shaping: string }
  | { t: 'gather'; key: string; label: string; value: unknown }
  | { t: 'led'; key: string; value?: unknown; error?: WireError }
  | { t: 'abort'; scope: string; message: string }
  | { t: 'counters'; id: number; links: LinkSideCounters[]; switches: SwitchReport[] }
  | { t: 'applied'; id: number; error?: string }
  /** a host node asks for a switch's slot copy (answered by `slot-state`; see slot-read.ts) */
  | { t: 'slot-query'; id: number; fabric: number; switch: string; copy: number }
  /** a switch node's answer to `read-slot` */
  | { t: 'slot'; id: number; state?: SlotCopyState; error?: string }
  | { t: 'finished' }
  | { t: 'fatal'; message: string };

/** From the coordinator to a node. */
export type CoordinatorMessage =
  | { t: 'config'; seed: number }
  | { t: 'start' }
  | { t: 'gathered'; key: string; values: unknown[] }
  | { t: 'led'; key: string; value?: unknown; error?: WireError }
  | { t: 'aborted'; scope: string; message: string }
  | { t: 'read-counters'; id: number; fabric: number }
  | { t: 'write'; id: number; fabric: number; switch: string; updates: Update[] }
  /** build fabric `variant`, its switches running `scheme`; answered by `applied` */
  | { t: 'variant'; id: number; variant: number; scheme: string }
  | { t: 'variant-close'; variant: number }
  /** to the switch's node: read one slot copy of switch `switch` in fabric `fabric` */
  | { t: 'read-slot'; id: number; fabric: number; switch: string; copy: number }
  /** to the host node that sent `slot-query` (same id): the state, or why there is none */
  | { t: 'slot-state'; id: number; state?: SlotCopyState; error?: string }
  | { t: 'shutdown'; reason?: string };

export type ControlMessage = NodeMessage | CoordinatorMessage;
