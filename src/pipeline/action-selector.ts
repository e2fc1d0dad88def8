import { TableError, type TableErrorCode } from './match-types.js';

/**
 * P4Runtime action profiles and action selectors.
 *
 * A table bound to a profile does not hold an action itself: the engine stores a reference
 * as the table entry's value, `{ memberId }` for a plain profile member or `{ groupId }` for
 * a selector group, and calls `retain(ref)` when it installs the entry and `release(ref)`
 * when it removes it, so that deleting a member or group still used by a table entry fails
 * with FAILED_PRECONDITION as P4Runtime requires. At lookup it resolves `{ memberId }` with
 * `member(id)` and `{ groupId }` with `pickFromGroup(id, hash)`, the hash being the
 * selector's hash over the packet's selector fields.
 *
 * Group size follows P4Runtime's default SUM_OF_WEIGHTS semantics: `maxGroupSize` bounds the
 * sum of member weights, which is also the length of the list a hash indexes into.
 */
export interface GroupMember {
  memberId: number;
  /** positive integer, default 1; a member of weight w gets w slots of the group */
  weight?: number;
}

export type ProfileRef = { memberId: number } | { groupId: number };

export interface ProfileLimits {
  /** the profile's size in P4Info: how many members it can hold */
  maxMembers: number;
  /** the largest sum of weights in one group */
  maxGroupSize: number;
  /** default unlimited */
  maxGroups?: number;
}

/** Same shape as TableError (and an instance of it), naming the profile instead of a table. */
export class ProfileError extends TableError {
  constructor(code: TableErrorCode, profile: string, detail: string) {
    super(code, profile, detail, undefined, 'action profile');
    this.name = 'ProfileError';
  }
}

interface Group<T> {
  members: Array<{ memberId: number; weight: number }>;
  /** member values repeated by weight, in member order: what a hash indexes */
  slots: T[];
}

const ID_MAX = 0xffffffff; // P4Runtime ids are uint32

export class ActionProfile<T> {
  readonly name: string;
  readonly maxMembers: number;
  readonly maxGroupSize: number;
  readonly maxGroups: number;

  private readonly memberValues = new Map<number, T>();
  private readonly groupsById = new Map<number, Group<T>>();
  /** memberId -> groups that list it, to refresh slots on modify and refuse deletes */
  private readonly usedBy = new Map<number, Set<number>>();
  private readonly memberRefs = new Map<number, number>();
  private readonly groupRefs = new Map<number, number>();

  constructor(name: string, limits: ProfileLimits) {
    this.name = name;
    const { maxMembers, maxGroupSize, maxGroups = Infinity } = limits;
    for (const [label, v] of [
      ['maxMembers', maxMembers],
      ['maxGroupSize', maxGroupSize],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) this.fail('INVALID_ARGUMENT', `${label} ${v} is not a positive integer`);
    }
    if (maxGroups !== Infinity && (!Number.isInteger(maxGroups) || maxGroups < 0)) {
      this.fail('INVALID_ARGUMENT', `maxGroups ${maxGroups} is not a non-negative integer`);
    }
    this.maxMembers = maxMembers;
    this.maxGroupSize = maxGroupSize;
    this.maxGroups = maxGroups;
  }

  get memberCount(): number {
    return this.memberValues.size;
  }

  get groupCount(): number {
    return this.groupsById.size;
  }

  member(memberId: number): T | undefined {
    return this.memberValues.get(memberId);
  }

  /** Hot path: `hash` may be any 32-bit value, signed or not. Empty or unknown group: undefined. */
  pickFromGroup(groupId: number, hash: number): T | undefined {
    const g = this.groupsById.get(groupId);
    if (g === undefined) return undefined;
    const slots = g.slots;
    if (slots.length === 0) return undefined;
    return slots[(hash >>> 0) % slots.length];
  }

  /**
   * Hot path, read-only: the group's member values repeated by weight, in member order (the
   * list a hash indexes; slot i is what pickFromGroup(groupId, i) returns). Do not mutate it.
   */
  groupSlots(groupId: number): readonly T[] | undefined {
    return this.groupsById.get(groupId)?.slots;
  }

  insertMember(memberId: number, value: T): void {
    this.checkId('member', memberId);
    if (this.memberValues.has(memberId)) this.fail('ALREADY_EXISTS', `member ${memberId} already exists`);
    if (this.memberValues.size >= this.maxMembers) {
      this.fail('RESOURCE_EXHAUSTED', `profile is full (maxMembers ${this.maxMembers})`);
    }
    this.memberValues.set(memberId, value);
  }

  modifyMember(memberId: number, value: T): void {
    this.requireMember(memberId);
    this.memberValues.set(memberId, value);
    for (const groupId of this.usedBy.get(memberId) ?? []) {
      const g = this.groupsById.get(groupId)!;
      g.slots = this.expand(g.members);
    }
  }

  deleteMember(memberId: number): void {
    this.requireMember(memberId);
    const users = this.usedBy.get(memberId);
    if (users !== undefined && users.size > 0) {
      this.fail('FAILED_PRECONDITION', `member ${memberId} is still in group(s) ${[...users].join(', ')}`);
    }
    const refs = this.memberRefs.get(memberId) ?? 0;
    if (refs > 0) this.fail('FAILED_PRECONDITION', `member ${memberId} is still used by ${refs} table entr${refs === 1 ? 'y' : 'ies'}`);
    this.memberValues.delete(memberId);
    this.usedBy.delete(memberId);
  }

  insertGroup(groupId: number, members: readonly GroupMember[]): void {
    this.checkId('group', groupId);
    if (this.groupsById.has(groupId)) this.fail('ALREADY_EXISTS', `group ${groupId} already exists`);
    if (this.groupsById.size >= this.maxGroups) {
      this.fail('RESOURCE_EXHAUSTED', `profile is full (maxGroups ${this.maxGroups})`);
    }
    const list = this.checkGroupMembers(groupId, members);
    this.groupsById.set(groupId, { members: list, slots: this.expand(list) });
    this.link(groupId, list);
  }

  modifyGroup(groupId: number, members: readonly GroupMember[]): void {
    const g = this.requireGroup(groupId);
    const list = this.checkGroupMembers(groupId, members);
    this.unlink(groupId, g.members);
    g.members = list;
    g.slots = this.expand(list);
    this.link(groupId, list);
  }

  deleteGroup(groupId: number): void {
    const g = this.requireGroup(groupId);
    const refs = this.groupRefs.get(groupId) ?? 0;
    if (refs > 0) this.fail('FAILED_PRECONDITION', `group ${groupId} is still used by ${refs} table entr${refs === 1 ? 'y' : 'ies'}`);
    this.unlink(groupId, g.members);
    this.groupsById.delete(groupId);
  }

  /** A copy of the group's membership, or undefined. */
  group(groupId: number): Array<{ memberId: number; weight: number }> | undefined {
    return this.groupsById.get(groupId)?.members.map((m) => ({ ...m }));
  }

  members(): Array<{ memberId: number; value: T }> {
    return [...this.memberValues].map(([memberId, value]) => ({ memberId, value }));
  }

  groups(): Array<{ groupId: number; members: Array<{ memberId: number; weight: number }> }> {
    return [...this.groupsById].map(([groupId, g]) => ({ groupId, members: g.members.map((m) => ({ ...m })) }));
  }

  /** A table entry now points at `ref`; it must exist. */
  retain(ref: ProfileRef): void {
    if ('groupId' in ref) {
      this.requireGroup(ref.groupId);
      this.groupRefs.set(ref.groupId, (this.groupRefs.get(ref.groupId) ?? 0) + 1);
    } else {
      this.requireMember(ref.memberId);
      this.memberRefs.set(ref.memberId, (this.memberRefs.get(ref.memberId) ?? 0) + 1);
    }
  }

  /** A table entry no longer points at `ref`. */
  release(ref: ProfileRef): void {
    const [map, id] = 'groupId' in ref ? [this.groupRefs, ref.groupId] : [this.memberRefs, ref.memberId];
    const n = map.get(id) ?? 0;
    if (n <= 1) map.delete(id);
    else map.set(id, n - 1);
  }

  clear(): void {
    this.memberValues.clear();
    this.groupsById.clear();
    this.usedBy.clear();
    this.memberRefs.clear();
    this.groupRefs.clear();
  }

  private checkGroupMembers(groupId: number, members: readonly GroupMember[]): Array<{ memberId: number; weight: number }> {
    if (!Array.isArray(members)) this.fail('INVALID_ARGUMENT', `group ${groupId}: members must be an array`);
    const seen = new Set<number>();
    const list: Array<{ memberId: number; weight: number }> = [];
    let total = 0;
    for (const m of members) {
      const weight = m.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 1) {
        this.fail('INVALID_ARGUMENT', `group ${groupId}: member ${m.memberId} weight ${weight} is not a positive integer`);
      }
      if (seen.has(m.memberId)) this.fail('INVALID_ARGUMENT', `group ${groupId}: member ${m.memberId} listed twice`);
      if (!this.memberValues.has(m.memberId)) {
        this.fail('NOT_FOUND', `group ${groupId}: member ${m.memberId} does not exist`);
      }
      seen.add(m.memberId);
      total += weight;
      list.push({ memberId: m.memberId, weight });
    }
    if (total > this.maxGroupSize) {
      this.fail('RESOURCE_EXHAUSTED', `group ${groupId}: total weight ${total} exceeds maxGroupSize ${this.maxGroupSize}`);
    }
    return list;
  }

  private expand(list: ReadonlyArray<{ memberId: number; weight: number }>): T[] {
    const slots: T[] = [];
    for (const m of list) {
      const v = this.memberValues.get(m.memberId) as T;
      for (let i = 0; i < m.weight; i++) slots.push(v);
    }
    return slots;
  }

  private link(groupId: number, list: ReadonlyArray<{ memberId: number }>): void {
    for (const m of list) {
      let s = this.usedBy.get(m.memberId);
      if (s === undefined) this.usedBy.set(m.memberId, (s = new Set()));
      s.add(groupId);
    }
  }

  private unlink(groupId: number, list: ReadonlyArray<{ memberId: number }>): void {
    for (const m of list) this.usedBy.get(m.memberId)?.delete(groupId);
  }

  private requireMember(memberId: number): void {
    if (!this.memberValues.has(memberId)) this.fail('NOT_FOUND', `member ${memberId} does not exist`);
  }

  private requireGroup(groupId: number): Group<T> {
    const g = this.groupsById.get(groupId);
    if (g === undefined) this.fail('NOT_FOUND', `group ${groupId} does not exist`);
    return g;
  }

  private checkId(what: string, id: number): void {
    if (!Number.isInteger(id) || id < 0 || id > ID_MAX) this.fail('INVALID_ARGUMENT', `${what} id ${id} is not a uint32`);
  }

  private fail(code: TableErrorCode, detail: string): never {
    throw new ProfileError(code, this.name, detail);
  }
}
