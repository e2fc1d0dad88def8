import type { Packet } from './packet.js';

export interface ActionParam {
  readonly name: string;
  readonly width: number;
}

/** A P4 action: named, with typed parameters the control plane supplies per entry. */
export interface ActionDef<M> {
  readonly name: string;
  readonly params: readonly ActionParam[];
  readonly run: (pkt: Packet<M>, params: readonly number[]) => void;
}

/** An action bound to its parameters: what a table entry, default action or member holds. */
export interface BoundAction<M> {
  readonly action: ActionDef<M>;
  readonly params: readonly number[];
}

export const NO_ACTION_NAME = 'NoAction';

export function noAction<M>(): ActionDef<M> {
  return { name: NO_ACTION_NAME, params: [], run: () => {} };
}
