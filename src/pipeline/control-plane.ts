import type { ProgramInstance } from './instance.js';
import type { Table, DirectEntry, IndirectEntry } from './table.js';
import type { BoundAction } from './action.js';
import type { FieldMatch } from './match-types.js';
import type { Replica } from './replication.js';
import { explicitDontCare } from './dont-care.js';

/**
 * The control-plane API, in P4Runtime's vocabulary: Write of INSERT/MODIFY/DELETE updates on
 * table entries, action-profile members and groups, multicast group and clone session entries;
 * Read of entries, counters and registers. Controllers (routing, aggregation manager) install
 * state only through this, never by reaching into a table.
 */
export type UpdateType = 'INSERT' | 'MODIFY' | 'DELETE';

export interface ActionSpec {
  readonly name: string;
  /** by parameter name, or positionally */
  readonly params?: Readonly<Record<string, number>> | readonly number[];
}

export interface TableEntryEntity {
  readonly kind: 'tableEntry';
  readonly table: string;
  /** by key field name; a field left out is a wildcard (don't care) */
  readonly match?: Readonly<Record<string, FieldMatch>>;
  readonly priority?: number;
  /** a direct action, or (selector tables) a member or group of the table's profile */
  readonly action?: ActionSpec;
  readonly memberId?: number;
  readonly groupId?: number;
  /** MODIFY of the default action (P4Runtime's is_default_action) */
  readonly isDefault?: boolean;
}

export interface ActionProfileMemberEntity {
  readonly kind: 'actionProfileMember';
  readonly profile: string;
  readonly memberId: number;
  readonly action: ActionSpec;
}

export interface ActionProfileGroupEntity {
  readonly kind: 'actionProfileGroup';
  readonly profile: string;
  readonly groupId: number;
  readonly members: ReadonlyArray<{ readonly memberId: number; readonly weight?: number }>;
}

export interface MulticastGroupEntity {
  readonly kind: 'multicastGroupEntry';
  readonly groupId: number;
  readonly replicas: readonly Replica[];
}

export interface CloneSessionEntity {
  readonly kind: 'cloneSessionEntry';
  readonly sessionId: number;
  readonly port: number;
}

export interface RegisterEntity {
  readonly kind: 'registerEntry';
  readonly register: string;
  readonly index: number;
  readonly value: number;
}

export type Entity =
  | TableEntryEntity
  | ActionProfileMemberEntity
  | ActionProfileGroupEntity
  | MulticastGroupEntity
  | CloneSessionEntity
  | RegisterEntity;

export interface Update {
  readonly type: UpdateType;
  readonly entity: Entity;
}

export type ControlPlaneCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION' | 'UNIMPLEMENTED';

export class ControlPlaneError extends Error {
  constructor(
    readonly code: ControlPlaneCode,
    message: string,
    readonly table?: string,
    readonly field?: string,
    readonly updateIndex?: number,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

function isTableError(e: unknown): e is Error & { code: ControlPlaneCode; table?: string; field?: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

function checkRegisterIndex(name: string, size: number, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= size) {
    throw new ControlPlaneError('INVALID_ARGUMENT', `register ${name}: index ${i} outside 0..${size - 1}`);
  }
}

export class ControlPlane<M> {
  constructor(private readonly p: ProgramInstance<M>) {}

  /**
   * Applies updates in order. The first failing update throws a ControlPlaneError naming the
   * update's index, the table and the field; the updates before it stay applied.
   */
  write(updates: readonly Update[]): void {
    updates.forEach((u, i) => {
      try {
        this.apply(u);
      } catch (e) {
        if (e instanceof ControlPlaneError) throw new ControlPlaneError(e.code, `update ${i}: ${e.message}`, e.table, e.field, i);
        if (isTableError(e)) throw new ControlPlaneError(e.code, `update ${i}: ${e.message}`, e.table, e.field, i);
        throw e;
      }
    });
  }

  /** Reads table entries (all, or one table's) in P4Runtime's entity form. */
  readTableEntries(tableName?: string): TableEntryEntity[] {
    const out: TableEntryEntity[] = [];
    for (const t of this.p.tables.values()) {
      if (tableName !== undefined && t.name !== tableName) continue;
      for (const e of t.match.entries()) {
        const match: Record<string, FieldMatch> = {};
        t.spec.keys.forEach((k, i) => {
          const m = e.match[i]!;
          if (m.kind !== 'wildcard') match[k.name] = m;
        });
        const v = e.value;
        if ('action' in v) {
          out.push({ kind: 'tableEntry', table: t.name, match, priority: e.priority, action: { name: v.action.name, params: [...v.params] } });
        } else {
          out.push({ kind: 'tableEntry', table: t.name, match, priority: e.priority, memberId: v.memberId, groupId: v.groupId });
        }
      }
    }
    return out;
  }

  readMulticastGroups(): MulticastGroupEntity[] {
    return [...this.p.pre.groups].map(([groupId, replicas]) => ({ kind: 'multicastGroupEntry' as const, groupId, replicas }));
  }

  /** An indexed counter cell. */
  readCounter(name: string, index: number): { packets: number; bytes: number } {
    const c = this.p.counters.get(name);
    if (!c) throw new ControlPlaneError('NOT_FOUND', `no counter ${name}`);
    if (index < 0 || index >= c.size) throw new ControlPlaneError('INVALID_ARGUMENT', `counter ${name}: index ${index} outside 0..${c.size - 1}`);
    return c.read(index);
  }

  /** The direct counter of one table entry. */
  readDirectCounter(table: string, match: Readonly<Record<string, FieldMatch>>, priority = 0): { packets: number; bytes: number } {
    const t = this.table(table);
    let e;
    try {
      e = t.match.get(this.matchList(t, match), priority);
    } catch (err) {
      if (isTableError(err)) throw new ControlPlaneError(err.code, err.message, err.table, err.field);
      throw err;
    }
    if (!e) throw new ControlPlaneError('NOT_FOUND', `table ${table}: no such entry`, table);
    if (!e.counter) throw new ControlPlaneError('INVALID_ARGUMENT', `table ${table} has no direct counter`, table);
    return { ...e.counter };
  }

  readRegister(name: string, index: number): number {
    const r = this.p.registers.get(name);
    if (!r) throw new ControlPlaneError('NOT_FOUND', `no register ${name}`);
    checkRegisterIndex(name, r.size, index);
    return r.read(index);
  }

  private apply(u: Update): void {
    const e = u.entity;
    switch (e.kind) {
      case 'tableEntry':
        return this.applyTableEntry(u.type, e);
      case 'actionProfileMember': {
        const { profile, table } = this.profile(e.profile);
        if (u.type === 'DELETE') return profile.deleteMember(e.memberId);
        const bound = this.bind(table, e.action, `profile ${e.profile}`);
        return u.type === 'INSERT' ? profile.insertMember(e.memberId, bound) : profile.modifyMember(e.memberId, bound);
      }
      case 'actionProfileGroup': {
        const { profile } = this.profile(e.profile);
        if (u.type === 'DELETE') return profile.deleteGroup(e.groupId);
        return u.type === 'INSERT' ? profile.insertGroup(e.groupId, e.members) : profile.modifyGroup(e.groupId, e.members);
      }
      case 'multicastGroupEntry':
        return this.applyMulticast(u.type, e);
      case 'cloneSessionEntry': {
        const has = this.p.pre.cloneSessions.has(e.sessionId);
        if (u.type === 'INSERT' && has) throw new ControlPlaneError('ALREADY_EXISTS', `clone session ${e.sessionId} exists`);
        if (u.type !== 'INSERT' && !has) throw new ControlPlaneError('NOT_FOUND', `no clone session ${e.sessionId}`);
        if (u.type === 'DELETE') this.p.pre.cloneSessions.delete(e.sessionId);
        else this.p.pre.cloneSessions.set(e.sessionId, this.port(e.port, `clone session ${e.sessionId}`));
        return;
      }
      case 'registerEntry': {
        const r = this.p.registers.get(e.register);
        if (!r) throw new ControlPlaneError('NOT_FOUND', `no register ${e.register}`);
        if (u.type !== 'MODIFY') throw new ControlPlaneError('INVALID_ARGUMENT', `register ${e.register}: only MODIFY is allowed`);
        checkRegisterIndex(e.register, r.size, e.index);
        r.write(e.index, e.value);
        return;
      }
    }
  }

  private applyTableEntry(type: UpdateType, e: TableEntryEntity): void {
    const t = this.table(e.table);
    if (e.isDefault) return this.applyDefaultEntry(type, t, e);
    // P4Runtime: a keyless table holds only its default entry, so INSERT is INVALID_ARGUMENT.
    if (type === 'INSERT' && t.spec.keys.length === 0) {
      throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name} has no key fields: only its default entry can be written (MODIFY with isDefault)`, t.name);
    }
    const match = this.matchList(t, e.match ?? {});
    const priority = e.priority ?? 0;
    const old = type === 'INSERT' ? undefined : t.match.get(match, priority);
    if (type === 'DELETE') {
      t.match.delete(match, priority);
      if (t.profile && old && !('action' in old)) t.profile.release(old);
      return;
    }
    const value = this.entryValue(t, e);
    // Selector entries hold a reference on their member or group, so that deleting one still
    // in use fails (FAILED_PRECONDITION) as in P4Runtime; retain also checks it exists.
    if (t.profile && !('action' in value)) t.profile.retain(value);
    try {
      if (type === 'INSERT') t.match.insert(match, priority, value);
      else t.match.modify(match, priority, value);
    } catch (err) {
      if (t.profile && !('action' in value)) t.profile.release(value);
      throw err;
    }
    if (t.profile && old && !('action' in old)) t.profile.release(old);
  }

  /**
   * The default entry, by P4Runtime's rules: only MODIFY, with no match and no priority (it is
   * not an entry one can look up); a MODIFY with no action resets it to the program's default.
   */
  private applyDefaultEntry(type: UpdateType, t: Table<M>, e: TableEntryEntity): void {
    if (type !== 'MODIFY') throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: the default entry can only be modified, not ${type}`, t.name);
    const fields = Object.keys(e.match ?? {});
    if (fields.length > 0) {
      throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: the default entry takes no match (got ${fields.join(', ')})`, t.name, fields[0]);
    }
    if (e.priority !== undefined && e.priority !== 0) {
      throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: the default entry takes no priority (got ${e.priority})`, t.name, 'priority');
    }
    if (e.memberId !== undefined || e.groupId !== undefined) {
      throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: the default entry takes a direct action, not a memberId or groupId`, t.name);
    }
    t.defaultAction = e.action ? this.bind(t, e.action, `table ${t.name}`) : t.programDefault;
  }

  private entryValue(t: Table<M>, e: TableEntryEntity): DirectEntry<M> | IndirectEntry {
    const counter = t.spec.directCounter ? { packets: 0, bytes: 0 } : null;
    if (t.profile) {
      if (e.action) throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: a selector table entry names a memberId or groupId, not an action`, t.name);
      if (e.groupId !== undefined) return { groupId: e.groupId, counter };
      if (e.memberId !== undefined) return { memberId: e.memberId, counter };
      throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: entry needs a memberId or groupId`, t.name);
    }
    if (!e.action) throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: entry needs an action`, t.name);
    return { ...this.bind(t, e.action, `table ${t.name}`), counter };
  }

  /** Resolves an action by name and checks its parameters against their declared widths. */
  private bind(t: Table<M>, a: ActionSpec, where: string): BoundAction<M> {
    const def = t.actions.get(a.name);
    if (!def) throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: action ${a.name} is not one of ${[...t.actions.keys()].join(', ')}`, t.name);
    const given = a.params ?? [];
    const params: number[] = [];
    if (Array.isArray(given)) {
      if (given.length !== def.params.length) throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: action ${a.name} takes ${def.params.length} parameters, got ${given.length}`, t.name);
      params.push(...given);
    } else {
      const named = given as Readonly<Record<string, number>>;
      for (const k of Object.keys(named)) {
        if (!def.params.some((p) => p.name === k)) throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: action ${a.name} has no parameter ${k}`, t.name, k);
      }
      for (const p of def.params) {
        const v = named[p.name];
        if (v === undefined) throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: action ${a.name}: parameter ${p.name} missing`, t.name, p.name);
        params.push(v);
      }
    }
    def.params.forEach((p, i) => {
      const v = params[i]!;
      const max = p.width >= 32 ? 0xffffffff : 2 ** p.width - 1;
      if (!Number.isInteger(v) || v < 0 || v > max) {
        throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: action ${a.name}: parameter ${p.name} = ${v} does not fit ${p.width} bits`, t.name, p.name);
      }
    });
    return { action: def, params };
  }

  private matchList(t: Table<M>, match: Readonly<Record<string, FieldMatch>>): FieldMatch[] {
    for (const name of Object.keys(match)) {
      if (!t.spec.keys.some((k) => k.name === name)) {
        throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: no key field ${name} (fields: ${t.spec.keys.map((k) => k.name).join(', ')})`, t.name, name);
      }
    }
    return t.spec.keys.map((k) => {
      const m = match[k.name];
      if (m === undefined) return { kind: 'wildcard' as const };
      const why = m !== null && typeof m === 'object' ? explicitDontCare(k, m) : null;
      if (why !== null) throw new ControlPlaneError('INVALID_ARGUMENT', `table ${t.name}: field ${k.name}: ${why}`, t.name, k.name);
      return m;
    });
  }

  private applyMulticast(type: UpdateType, e: MulticastGroupEntity): void {
    const pre = this.p.pre;
    const where = `multicast group ${e.groupId}`;
    if (!Number.isInteger(e.groupId) || e.groupId <= 0 || e.groupId > 0xffff) throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: id must be 1..65535`);
    const has = pre.groups.has(e.groupId);
    if (type === 'INSERT' && has) throw new ControlPlaneError('ALREADY_EXISTS', `${where} exists`);
    if (type !== 'INSERT' && !has) throw new ControlPlaneError('NOT_FOUND', `${where} does not exist`);
    if (type === 'DELETE') {
      pre.groups.delete(e.groupId);
      return;
    }
    if (type === 'INSERT' && pre.groups.size >= pre.maxGroups) throw new ControlPlaneError('RESOURCE_EXHAUSTED', `${where}: all ${pre.maxGroups} groups in use`);
    if (e.replicas.length > pre.maxReplicas) throw new ControlPlaneError('RESOURCE_EXHAUSTED', `${where}: ${e.replicas.length} replicas exceed ${pre.maxReplicas}`);
    const seen = new Set<string>();
    for (const r of e.replicas) {
      this.port(r.port, where);
      const k = `${r.port}/${r.instance}`;
      if (seen.has(k)) throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: replica (port ${r.port}, instance ${r.instance}) repeated`);
      seen.add(k);
    }
    pre.groups.set(e.groupId, e.replicas.map((r) => ({ port: r.port, instance: r.instance })));
  }

  private port(port: number, where: string): number {
    if (!Number.isInteger(port) || port < 0 || port >= this.p.env.portCount) {
      throw new ControlPlaneError('INVALID_ARGUMENT', `${where}: port ${port} outside 0..${this.p.env.portCount - 1}`);
    }
    return port;
  }

  private table(name: string): Table<M> {
    const t = this.p.tables.get(name);
    if (!t) throw new ControlPlaneError('NOT_FOUND', `no table ${name} in program ${this.p.program.name} (tables: ${[...this.p.tables.keys()].join(', ')})`, name);
    return t;
  }

  private profile(name: string): { profile: NonNullable<Table<M>['profile']>; table: Table<M> } {
    for (const t of this.p.tables.values()) if (t.profile && t.spec.selector!.name === name) return { profile: t.profile, table: t };
    throw new ControlPlaneError('NOT_FOUND', `no action profile ${name} in program ${this.p.program.name}`);
  }
}
