import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActionProfile, ProfileError } from '../../src/pipeline/action-selector.js';
import { Hash } from '../../src/pipeline/externs/hash.js';
import { TableError } from '../../src/pipeline/match-types.js';
import { createRng } from '../../src/net/rng.js';

function caught(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    expect(e).toBeInstanceOf(TableError);
    return e as ProfileError;
  }
  throw new Error('expected a ProfileError');
}

const groupArb = fc.uniqueArray(
  fc.record({ memberId: fc.integer({ min: 0, max: 50 }), weight: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }) }),
  { selector: (m) => m.memberId, minLength: 1, maxLength: 12 },
);

describe('ActionProfile', () => {
  it('pickFromGroup only ever returns a member of the group, for any hash', () => {
    fc.assert(
      fc.property(groupArb, fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), { maxLength: 50 }), (members, hashes) => {
        const p = new ActionProfile<string>('sel', { maxMembers: 100, maxGroupSize: 100 });
        for (let id = 0; id <= 60; id++) p.insertMember(id, `m${id}`);
        p.insertGroup(7, members);
        const allowed = new Set(members.map((m) => `m${m.memberId}`));
        for (const h of hashes) expect(allowed.has(p.pickFromGroup(7, h)!)).toBe(true);
      }),
    );
  });

  it('weights expand the member list: over any window of sum-of-weights consecutive hashes each member gets its weight', () => {
    fc.assert(
      fc.property(groupArb, fc.nat({ max: 2 ** 32 - 1 - 100 }), (members, start) => {
        const p = new ActionProfile<number>('sel', { maxMembers: 100, maxGroupSize: 100 });
        for (const m of members) p.insertMember(m.memberId, m.memberId);
        p.insertGroup(1, members);
        const total = members.reduce((s, m) => s + (m.weight ?? 1), 0);
        const counts = new Map<number, number>();
        for (let k = 0; k < total; k++) {
          const v = p.pickFromGroup(1, start + k)!;
          counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        for (const m of members) expect(counts.get(m.memberId)).toBe(m.weight ?? 1);
      }),
    );
  });

  it('spreads distinct 5-tuples evenly over a 4-member group (crc32)', () => {
    const rng = createRng(2024).fork('five-tuples');
    const crc = new Hash('crc32');
    const p = new ActionProfile<number>('ecmp', { maxMembers: 4, maxGroupSize: 4 });
    for (let m = 0; m < 4; m++) p.insertMember(m, m);
    p.insertGroup(1, [0, 1, 2, 3].map((memberId) => ({ memberId })));
    const tuple = new Uint32Array(4);
    const counts = [0, 0, 0, 0];
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      tuple[0] = rng.nextU32(); // src ip
      tuple[1] = rng.nextU32(); // dst ip
      tuple[2] = rng.nextU32(); // sport << 16 | dport
      tuple[3] = [6, 17][rng.int(2)]!; // proto
      counts[p.pickFromGroup(1, crc.ofWords(tuple, 4))!]!++;
    }
    for (const c of counts) {
      expect(c / N).toBeGreaterThan(0.15);
      expect(c / N).toBeLessThan(0.35);
    }
  });

  it('modifyMember is seen through groups; modifyGroup replaces membership', () => {
    const p = new ActionProfile<string>('sel', { maxMembers: 8, maxGroupSize: 8 });
    p.insertMember(1, 'a');
    p.insertMember(2, 'b');
    p.insertGroup(10, [{ memberId: 1 }]);
    p.modifyMember(1, 'a2');
    expect(p.pickFromGroup(10, 12345)).toBe('a2');
    p.modifyGroup(10, [{ memberId: 2 }]);
    expect(p.pickFromGroup(10, 12345)).toBe('b');
    p.deleteMember(1); // no longer used
    expect(p.member(1)).toBeUndefined();
    expect(p.group(10)).toEqual([{ memberId: 2, weight: 1 }]);
    p.modifyGroup(10, []);
    expect(p.pickFromGroup(10, 1)).toBeUndefined();
    expect(p.pickFromGroup(99, 1)).toBeUndefined();
  });

  it('refuses what P4Runtime refuses, with codes and the profile name', () => {
    const p = new ActionProfile<string>('wcmp', { maxMembers: 3, maxGroupSize: 4, maxGroups: 2 });
    p.insertMember(1, 'a');
    p.insertMember(2, 'b');
    const cases: Array<[() => unknown, ProfileError['code']]> = [
      [() => p.insertMember(1, 'again'), 'ALREADY_EXISTS'],
      [() => p.modifyMember(9, 'x'), 'NOT_FOUND'],
      [() => p.deleteMember(9), 'NOT_FOUND'],
      [() => p.insertMember(-1, 'x'), 'INVALID_ARGUMENT'],
      [() => p.insertGroup(5, [{ memberId: 9 }]), 'NOT_FOUND'],
      [() => p.insertGroup(5, [{ memberId: 1 }, { memberId: 1 }]), 'INVALID_ARGUMENT'],
      [() => p.insertGroup(5, [{ memberId: 1, weight: 0 }]), 'INVALID_ARGUMENT'],
      [() => p.insertGroup(5, [{ memberId: 1, weight: 3 }, { memberId: 2, weight: 2 }]), 'RESOURCE_EXHAUSTED'],
      [() => p.modifyGroup(5, [{ memberId: 1 }]), 'NOT_FOUND'],
      [() => p.deleteGroup(5), 'NOT_FOUND'],
    ];
    for (const [fn, code] of cases) {
      const e = caught(fn);
      expect(e.code).toBe(code);
      expect(e.table).toBe('wcmp');
      expect(e.message.startsWith('action profile wcmp: ')).toBe(true);
    }
    p.insertGroup(5, [{ memberId: 1, weight: 2 }, { memberId: 2, weight: 2 }]);
    expect(caught(() => p.insertGroup(5, [])).code).toBe('ALREADY_EXISTS');
    p.insertGroup(6, []);
    expect(caught(() => p.insertGroup(7, [])).code).toBe('RESOURCE_EXHAUSTED');
    p.insertMember(3, 'c');
    expect(caught(() => p.insertMember(4, 'd')).code).toBe('RESOURCE_EXHAUSTED');
    // a member still in a group cannot go
    const inUse = caught(() => p.deleteMember(1));
    expect(inUse.code).toBe('FAILED_PRECONDITION');
    expect(inUse.message).toContain('group');
    // nor one or a group a table entry points at
    p.retain({ memberId: 3 });
    p.retain({ groupId: 6 });
    expect(caught(() => p.deleteMember(3)).code).toBe('FAILED_PRECONDITION');
    expect(caught(() => p.deleteGroup(6)).code).toBe('FAILED_PRECONDITION');
    expect(caught(() => p.retain({ groupId: 77 })).code).toBe('NOT_FOUND');
    p.release({ memberId: 3 });
    p.release({ groupId: 6 });
    p.deleteMember(3);
    p.deleteGroup(6);
    p.deleteGroup(5);
    p.deleteMember(1);
    expect(p.memberCount).toBe(1);
    expect(p.groupCount).toBe(0);
  });

  it('failed group writes leave the group as it was', () => {
    fc.assert(
      fc.property(groupArb, groupArb, (first, second) => {
        const p = new ActionProfile<number>('sel', { maxMembers: 60, maxGroupSize: 20 });
        for (let id = 0; id < 30; id++) p.insertMember(id, id); // ids 30..50 unknown
        const ok = (ms: typeof first): boolean =>
          ms.every((m) => m.memberId < 30) && ms.reduce((s, m) => s + (m.weight ?? 1), 0) <= 20;
        let expected: Array<{ memberId: number; weight: number }> = [];
        if (ok(first)) {
          p.insertGroup(1, first);
          expected = first.map((m) => ({ memberId: m.memberId, weight: m.weight ?? 1 }));
        } else {
          p.insertGroup(1, []);
        }
        if (ok(second)) {
          p.modifyGroup(1, second);
          expected = second.map((m) => ({ memberId: m.memberId, weight: m.weight ?? 1 }));
        } else expect(() => p.modifyGroup(1, second)).toThrow(ProfileError);
        expect(p.group(1)).toEqual(expected);
        // members of the old group that are no longer listed can be deleted
        for (let id = 0; id < 30; id++) {
          if (expected.some((m) => m.memberId === id)) expect(() => p.deleteMember(id)).toThrow(ProfileError);
          else p.deleteMember(id);
        }
      }),
    );
  });
});
