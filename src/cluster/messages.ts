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
  | { t: 'shutdown'; reason?: string };

export type ControlMessage = NodeMessage | CoordinatorMessage;
