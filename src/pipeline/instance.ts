import type { Table } from './table.js';
import type { Register } from './externs/register.js';
import type { Counter } from './externs/counter.js';
import type { Meter } from './externs/meter.js';
import type { ReplicationEngine } from './replication.js';

/**
 * A program's state on one switch as the control plane and the resource summary see it: its
 * declared objects, not the engine that runs packets through them. Pipeline implements it;
 * control-plane.ts and resources.ts depend on this and not on pipeline.ts, so the engine can
 * use them without an import circle.
 */
export interface ProgramInstance<M = any> {
  readonly program: { readonly name: string };
  readonly env: { readonly portCount: number };
  readonly parser: { readonly stateCount: number };
  readonly tables: ReadonlyMap<string, Table<M>>;
  readonly registers: ReadonlyMap<string, Register>;
  readonly counters: ReadonlyMap<string, Counter>;
  readonly meters: ReadonlyMap<string, Meter>;
  /** the packet replication engine: multicast groups and clone sessions */
  readonly pre: ReplicationEngine;
  readonly maxPasses: number;
}
