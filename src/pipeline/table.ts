import type { Packet } from './packet.js';
import type { ActionDef, BoundAction } from './action.js';
import { MatchTable } from './match-table.js';
import { ActionProfile } from './action-selector.js';
import type { KeyFieldSpec } from './match-types.js';

/** A key field of a table: its match spec plus how to read it from the packet. */
export interface TableKey<M> extends KeyFieldSpec {
  readonly read: (pkt: Packet<M>) => number;
}

export interface SelectorSpec<M> {
  /** the action profile's name, as the control plane addresses it */
  readonly name: string;
  /**
   * The selector hash over the packet's selector fields (e.g. a seeded 5-tuple crc), given
   * the group the entry matched: a stateful scheme (flowlet, DRILL, CONGA) looks at its
   * members and returns the index of the one it chooses.
   */
  readonly hash: (pkt: Packet<M>, group: GroupView<M>) => number;
  readonly maxGroupSize?: number;
  readonly maxMembers?: number;
}

export interface TableSpec<M> {
  readonly name: string;
  readonly keys: readonly TableKey<M>[];
  readonly actions: readonly ActionDef<M>[];
  readonly defaultAction?: ActionDef<M>;
  readonly defaultParams?: readonly number[];
  readonly size: number;
  /** set for a table implemented by an action selector (P4's implementation = selector) */
  readonly selector?: SelectorSpec<M>;
  readonly directCounter?: boolean;
}

/** What a direct-action table entry holds. */
export interface DirectEntry<M> extends BoundAction<M> {
  counter: { packets: number; bytes: number } | null;
}

/** What a selector-table entry holds: a member or a group of the table's action profile. */
export type IndirectEntry = { memberId: number; groupId?: undefined; counter: { packets: number; bytes: number } | null }
  | { groupId: number; memberId?: undefined; counter: { packets: number; bytes: number } | null };

/** The selector group a packet's entry matched, as the selector hash sees it. */
export interface GroupView<M> {
  groupId: number;
  /** the members' actions repeated by weight, in member order: a selector hash of i picks members[i] */
  members: readonly BoundAction<M>[];
}

/** The result of apply(), reused across packets: P4's hit / miss / action_run. */
export interface ApplyResult {
  hit: boolean;
  actionRun: string;
}

const NO_MEMBERS: readonly never[] = [];

export class Table<M> {
  readonly name: string;
  readonly spec: TableSpec<M>;
  readonly match: MatchTable<DirectEntry<M> | IndirectEntry>;
  readonly profile: ActionProfile<BoundAction<M>> | null;
  readonly actions: ReadonlyMap<string, ActionDef<M>>;
  defaultAction: BoundAction<M>;
  /** the program's own default action, which a MODIFY of the default entry with no action restores */
  readonly programDefault: BoundAction<M>;
  readonly result: ApplyResult = { hit: false, actionRun: '' };
  private readonly key: number[];
  /** reused for every packet whose entry is a group: no allocation on the hot path */
  private readonly groupView: GroupView<M> = { groupId: 0, members: [] };
  lookups = 0;
  hits = 0;

  constructor(spec: TableSpec<M>, noAction: ActionDef<M>) {
    this.name = spec.name;
    this.spec = spec;
    this.match = new MatchTable(spec.name, spec.keys, spec.size);
    this.profile = spec.selector
      ? new ActionProfile<BoundAction<M>>(spec.selector.name, {
          maxGroupSize: spec.selector.maxGroupSize ?? 64,
          maxMembers: spec.selector.maxMembers ?? 1024,
        })
      : null;
    const actions = new Map<string, ActionDef<M>>();
    for (const a of spec.actions) actions.set(a.name, a);
    if (!actions.has(noAction.name)) actions.set(noAction.name, noAction);
    this.actions = actions;
    this.programDefault = { action: spec.defaultAction ?? noAction, params: spec.defaultParams ?? [] };
    this.defaultAction = this.programDefault;
    this.key = new Array<number>(spec.keys.length).fill(0);
  }

  /** Looks the packet up, runs the chosen action, and reports hit and action_run. */
  apply(pkt: Packet<M>): ApplyResult {
    const keys = this.spec.keys;
    for (let i = 0; i < keys.length; i++) this.key[i] = keys[i]!.read(pkt) >>> 0;
    this.lookups++;
    const e = this.match.lookup(this.key);
    let bound: BoundAction<M> | undefined;
    if (e !== undefined) {
      if (e.counter) {
        e.counter.packets++;
        e.counter.bytes += pkt.buf.length;
      }
      if ('action' in e) bound = e;
      else if (e.groupId !== undefined) {
        const v = this.groupView;
        v.groupId = e.groupId;
        v.members = this.profile!.groupSlots(e.groupId) ?? NO_MEMBERS;
        bound = this.profile!.pickFromGroup(e.groupId, this.spec.selector!.hash(pkt, v) >>> 0);
      }
      else bound = this.profile!.member(e.memberId!);
    }
    const r = this.result;
    if (bound !== undefined) {
      this.hits++;
      r.hit = true;
    } else {
      r.hit = false;
      bound = this.defaultAction;
    }
    r.actionRun = bound.action.name;
    bound.action.run(pkt, bound.params);
    return r;
  }
}
