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
  /** the selector hash over the packet's selector fields (e.g. a seeded 5-tuple crc) */
  readonly hash: (pkt: Packet<M>) => number;
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

/** A selector group as a program may read it for the packet at hand (see Table.lookupGroup). */
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

export class Table<M> {
  readonly name: string;
  readonly spec: TableSpec<M>;
  readonly match: MatchTable<DirectEntry<M> | IndirectEntry>;
  readonly profile: ActionProfile<BoundAction<M>> | null;
  readonly actions: ReadonlyMap<string, ActionDef<M>>;
  defaultAction: BoundAction<M>;
  readonly result: ApplyResult = { hit: false, actionRun: '' };
  private readonly key: number[];
  /** lookupGroup's own key and view, so calling it from a selector hash inside apply() is safe */
  private readonly groupKey: number[];
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
    this.defaultAction = { action: spec.defaultAction ?? noAction, params: spec.defaultParams ?? [] };
    this.key = new Array<number>(spec.keys.length).fill(0);
    this.groupKey = new Array<number>(spec.keys.length).fill(0);
  }

  /**
   * Read-only: the selector group this packet's entry points at, or undefined when the packet
   * misses or its entry is a single member or a direct action. Counts nothing and runs nothing;
   * the view is reused by the next call. For programs that choose the member themselves
   * (flowlet, DRILL, CONGA): their selector hash returns the index of the member they chose.
   */
  lookupGroup(pkt: Packet<M>): GroupView<M> | undefined {
    if (this.profile === null) return undefined;
    const keys = this.spec.keys;
    for (let i = 0; i < keys.length; i++) this.groupKey[i] = keys[i]!.read(pkt) >>> 0;
    const e = this.match.lookup(this.groupKey);
    if (e === undefined || !('groupId' in e) || e.groupId === undefined) return undefined;
    const members = this.profile.groupSlots(e.groupId);
    if (members === undefined || members.length === 0) return undefined;
    const v = this.groupView;
    v.groupId = e.groupId;
    v.members = members;
    return v;
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
      else if (e.groupId !== undefined) bound = this.profile!.pickFromGroup(e.groupId, this.spec.selector!.hash(pkt) >>> 0);
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
