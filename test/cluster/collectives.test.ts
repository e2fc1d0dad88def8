/**
 * The workload collectives of a multi-process run, in one process: a Hub, the coordinator's
 * (leader) Collectives calling it directly, and each node's Collectives talking to it through
 * asynchronous, JSON-encoded messages (as over the control channel), no sockets.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/cluster/codec.js';
import { Collectives, WorkloadAbortedError } from '../../src/cluster/collectives.js';
import { COORDINATOR, Hub } from '../../src/cluster/hub.js';
import type { CoordinatorMessage, NodeMessage } from '../../src/cluster/messages.js';
import { AggregationUnavailableError } from '../../src/topology/aggregation-manager.js';

type Deliver = (run: () => void) => void;

interface Harness {
  readonly hub: Hub;
  readonly participants: string[];
  readonly copies: Map<string, Collectives>;
  /** every message the hub sent, in order */
  readonly sent: Array<{ to: string; m: CoordinatorMessage }>;
}

interface HarnessOptions {
  hosts: number;
  stepTimeoutMs?: number;
  /** how a message crosses to the other side; asynchronous by default */
  deliver?: Deliver;
  beforePublish?: () => Promise<void>;
  onSend?: (to: string, m: CoordinatorMessage) => void;
}

const hubs: Hub[] = [];

afterEach(() => {
  for (const h of hubs.splice(0)) h.close();
});

/** What a node does with the coordinator's messages (as node.ts does). */
function dispatch(c: Collectives, m: CoordinatorMessage): void {
  switch (m.t) {
    case 'gathered':
      c.settle(m.key, { value: m.values });
      return;
    case 'led':
      c.settle(m.key, m.error ? { error: m.error } : { value: m.value });
      return;
    case 'aborted':
      c.abortScope(m.scope, m.message);
      return;
    default:
      return;
  }
}

function harness(o: HarnessOptions): Harness {
  const deliver: Deliver = o.deliver ?? ((run) => queueMicrotask(run));
  const hosts = Array.from({ length: o.hosts }, (_, i) => `h${i}`);
  const participants = [COORDINATOR, ...hosts];
  let hub: Hub | null = null;
  const leader = new Collectives({
    isLeader: true,
    local: new Set(),
    post: (m) => hub!.receive(COORDINATOR, m),
    beforePublish: o.beforePublish,
  });
  const copies = new Map<string, Collectives>([[COORDINATOR, leader]]);
  for (const h of hosts) {
    copies.set(
      h,
      new Collectives({
        isLeader: false,
        local: new Set([h]),
        post: (m) => {
          const wire = encode(m);
          expect(wire).not.toContain('\n');
          deliver(() => hub!.receive(h, decode(wire) as NodeMessage));
        },
      }),
    );
  }
  const sent: Harness['sent'] = [];
  hub = new Hub({
    participants,
    stepTimeoutMs: o.stepTimeoutMs ?? 60_000,
    local: leader,
    send: (node, m) => {
      expect(node).not.toBe(COORDINATOR);
      sent.push({ to: node, m });
      o.onSend?.(node, m);
      const wire = encode(m);
      deliver(() => dispatch(copies.get(node)!, decode(wire) as CoordinatorMessage));
    },
  });
  hubs.push(hub);
  return { hub, participants, copies, sent };
}

/** Settles to {ok, value} or {ok: false, error}, so a rejection is never unhandled. */
function settled<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Rejects after ms (real time) so a hang fails the test instead of timing it out. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

describe('collectives through the hub', () => {
  it('allGather: every non-null value in participant order, the same in every copy', async () => {
    const h = harness({ hosts: 4 });
    const values: Record<string, unknown> = {
      coordinator: { from: 'coordinator', big: 1n << 70n },
      h0: new Map([['x', new Set([1, 2])]]),
      h1: null,
      h2: new Uint8Array([1, 2, 3]),
      h3: [-0, NaN, 'a\nb'],
    };
    // a copy that reaches the step late (the others' results wait for it)
    const order = ['h3', 'h1', 'coordinator', 'h0', 'h2'];
    const results: Record<string, Promise<unknown[]>> = {};
    for (const name of order) {
      await new Promise((r) => setImmediate(r));
      results[name] = h.copies.get(name)!.scope('0').cluster.allGather('step', values[name]);
    }
    const expected = h.participants.map((p) => values[p]).filter((v) => v !== null);
    for (const name of h.participants) expect(await results[name]!).toEqual(expected);
    const got = await results.h3!;
    expect(got[1]).toBeInstanceOf(Map);
    expect(Object.is((got[3] as number[])[0], -0)).toBe(true);

    // all null: a barrier with an empty result
    const barrier = await Promise.all(h.participants.map((p) => h.copies.get(p)!.scope('0').cluster.allGather('barrier', null)));
    for (const b of barrier) expect(b).toEqual([]);
  });

  it('cluster flags: isLeader only in the coordinator, isLocal only for the node itself', () => {
    const h = harness({ hosts: 2 });
    const lead = h.copies.get(COORDINATOR)!.scope('s').cluster;
    const h1 = h.copies.get('h1')!.scope('s').cluster;
    expect(lead.isLeader).toBe(true);
    expect(h1.isLeader).toBe(false);
    expect(lead.distributed && h1.distributed).toBe(true);
    expect(h1.isLocal('h1')).toBe(true);
    expect(h1.isLocal('h0')).toBe(false);
    expect(lead.isLocal('h0')).toBe(false);
  });

  it('atLeader: fn runs once, in the leader, and every copy gets its value (Maps survive)', async () => {
    const h = harness({ hosts: 3 });
    const calls = new Map<string, number>();
    const make = (name: string) => () => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return new Map<string, unknown>([
        ['jobs', new Set([1n, 2n])],
        ['bytes', new Uint8Array([7])],
      ]);
    };
    const results = await Promise.all(h.participants.map((p) => h.copies.get(p)!.scope('s').cluster.atLeader('decide', make(p))));
    expect([...calls]).toEqual([[COORDINATOR, 1]]);
    for (const r of results) {
      expect(r).toBeInstanceOf(Map);
      expect(r).toEqual(results[0]);
      expect(r.get('jobs')).toEqual(new Set([1n, 2n]));
    }
  });

  it('atLeader: a result that reaches a node before the node asks for it is kept', async () => {
    const h = harness({ hosts: 2 });
    const lead = await h.copies.get(COORDINATOR)!.scope('s').cluster.atLeader('early', () => ({ n: 42 }));
    expect(lead).toEqual({ n: 42 });
    // let the hub's messages land before the nodes reach the step
    await new Promise((r) => setTimeout(r, 5));
    for (const n of ['h0', 'h1']) {
      expect(await h.copies.get(n)!.scope('s').cluster.atLeader('early', () => ({ n: -1 }))).toEqual({ n: 42 });
    }
  });

  it('atLeader: AggregationUnavailableError is rethrown everywhere with its class and fields', async () => {
    const h = harness({ hosts: 3 });
    const results = await Promise.all(
      h.participants.map((p) =>
        settled(
          h.copies.get(p)!.scope('s').cluster.atLeader('alloc', () => {
            throw new AggregationUnavailableError('no slots on leaf1', 7, 'leaf1');
          }),
        ),
      ),
    );
    for (const r of results) {
      expect(r.ok).toBe(false);
      const e = (r as { error: unknown }).error;
      expect(e).toBeInstanceOf(AggregationUnavailableError);
      expect(e).toBeInstanceOf(Error);
      const a = e as AggregationUnavailableError;
      expect(a.message).toBe('no slots on leaf1');
      expect(a.jobId).toBe(7);
      expect(a.switchName).toBe('leaf1');
      expect(a.name).toBe('AggregationUnavailableError');
    }
  });

  it('atLeader: a plain Error (or async rejection) keeps its message in every copy', async () => {
    const h = harness({ hosts: 2 });
    const scopes = h.participants.map((p) => h.copies.get(p)!.scope('s').cluster);
    const results = await Promise.all(
      scopes.map((c) =>
        settled(
          c.atLeader('fail', async () => {
            await Promise.resolve();
            throw new TypeError('bad plan\nsecond line');
          }),
        ),
      ),
    );
    for (const r of results) {
      expect(r.ok).toBe(false);
      const e = (r as { error: Error }).error;
      expect(e).toBeInstanceOf(Error);
      expect(e.message).toBe('bad plan\nsecond line');
      expect(e.name).toBe('TypeError');
    }
    // the scope goes on after a failed step
    const next = await Promise.all(scopes.map((c) => c.atLeader('ok', () => 'fine')));
    expect(next).toEqual(['fine', 'fine', 'fine']);
  });

  it('beforePublish is awaited before the leader\'s value goes out; its failure reaches every copy', async () => {
    let published = false;
    let fail = false;
    const ledWhen: boolean[] = [];
    const h = harness({
      hosts: 2,
      beforePublish: async () => {
        published = false;
        await new Promise((r) => setTimeout(r, 10));
        if (fail) throw new Error('control write failed');
        published = true;
      },
      onSend: (_, m) => {
        if (m.t === 'led') ledWhen.push(published);
      },
    });
    const scopes = h.participants.map((p) => h.copies.get(p)!.scope('s').cluster);
    const values = await Promise.all(scopes.map((c) => c.atLeader('write', () => 'v')));
    expect(values).toEqual(['v', 'v', 'v']);
    expect(ledWhen).toEqual([true, true]);

    fail = true;
    const failed = await Promise.all(scopes.map((c) => settled(c.atLeader('write2', () => 'w'))));
    for (const r of failed) {
      expect(r.ok).toBe(false);
      expect((r as { error: Error }).error.message).toBe('control write failed');
    }
  });

  it('abort from one copy fails every copy\'s pending and later steps in that scope, not other scopes', async () => {
    const h = harness({ hosts: 3 });
    const A = new Map(h.participants.map((p) => [p, h.copies.get(p)!.scope('A')]));
    const B = new Map(h.participants.map((p) => [p, h.copies.get(p)!.scope('B')]));
    // everyone but h1 waits at step 0 of A; h1 fails instead
    const pending = h.participants.filter((p) => p !== 'h1').map((p) => settled(A.get(p)!.cluster.allGather('g', p)));
    await new Promise((r) => setImmediate(r));
    A.get('h1')!.abort(new Error('boom'));
    const msg = 'h1: boom';
    for (const r of await within(Promise.all(pending), 2000, 'pending steps')) {
      expect(r.ok).toBe(false);
      const e = (r as { error: Error }).error;
      expect(e).toBeInstanceOf(WorkloadAbortedError);
      expect(e.message).toBe(msg);
    }
    // later steps in A, of both kinds, in every copy (h1 included) fail the same way
    let ran = 0;
    for (const p of h.participants) {
      for (const step of [A.get(p)!.cluster.allGather('later', 1), A.get(p)!.cluster.atLeader('later', () => ++ran)] as Array<Promise<unknown>>) {
        const r = await within(settled(step), 2000, `later step in ${p}`);
        expect(r.ok).toBe(false);
        expect((r as { error: Error }).error).toBeInstanceOf(WorkloadAbortedError);
        expect((r as { error: Error }).error.message).toBe(msg);
      }
    }
    expect(ran).toBe(0);
    // a second abort of A changes nothing
    A.get('h2')!.abort(new Error('again'));
    A.get(COORDINATOR)!.abort(new Error('again'));
    const again = await settled(h.copies.get('h0')!.scope('A').cluster.allGather('x', 1));
    expect((again as { error: Error }).error.message).toBe(msg);
    // scope B is untouched
    const b = await within(Promise.all(h.participants.map((p) => B.get(p)!.cluster.allGather('b', p))), 2000, 'scope B');
    for (const r of b) expect(r).toEqual(h.participants);
    expect(h.sent.filter((s) => s.m.t === 'aborted')).toHaveLength(3);
  });

  it('abort from the leader\'s copy carries its message unprefixed', async () => {
    const h = harness({ hosts: 2 });
    const pending = ['h0', 'h1'].map((p) => settled(h.copies.get(p)!.scope('Z').cluster.atLeader('l', () => 0)));
    h.copies.get(COORDINATOR)!.scope('Z').abort(new Error('leader failed'));
    for (const r of await within(Promise.all(pending), 2000, 'pending')) {
      expect((r as { error: Error }).error).toBeInstanceOf(WorkloadAbortedError);
      expect((r as { error: Error }).error.message).toBe('leader failed');
    }
  });

  it('a step one participant never reaches is aborted after stepTimeoutMs, naming it', async () => {
    const h = harness({ hosts: 3, stepTimeoutMs: 200 });
    const present = h.participants.filter((p) => p !== 'h1');
    const pending = present.map((p) => settled(h.copies.get(p)!.scope('T').cluster.allGather('sync weights', p)));
    const results = await within(Promise.all(pending), 3000, 'timed-out step');
    for (const r of results) {
      expect(r.ok).toBe(false);
      const e = (r as { error: Error }).error;
      expect(e).toBeInstanceOf(WorkloadAbortedError);
      expect(e.message).toContain('sync weights');
      expect(e.message).toMatch(/: h1 did not get there/);
    }
    // the late participant's own step fails too, instead of waiting for a gather that is gone
    const late = await within(settled(h.copies.get('h1')!.scope('T').cluster.allGather('sync weights', 'h1')), 2000, 'late step');
    expect(late.ok).toBe(false);
    expect((late as { error: Error }).error).toBeInstanceOf(WorkloadAbortedError);
  });

  describe('property: concurrent scopes, random message order', () => {
    type Step = { kind: 'gather'; nulls: boolean[] } | { kind: 'leader' };
    const HOSTS = 3;
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.array(fc.boolean(), { minLength: HOSTS + 1, maxLength: HOSTS + 1 }).map((nulls): Step => ({ kind: 'gather', nulls })),
      fc.constant<Step>({ kind: 'leader' }),
    );
    const program = fc.array(fc.array(step, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 });

    it('every copy sees the same results, equal to what the participants contributed', async () => {
      // count results that reach a node before it asks (they must be kept, not lost)
      let early = 0;
      const settle = Collectives.prototype.settle;
      Collectives.prototype.settle = function (this: Collectives, key, outcome) {
        if (!(this as unknown as { waiting: Map<string, unknown> }).waiting.has(key)) early++;
        settle.call(this, key, outcome);
      };
      try {
        await fc.assert(
          fc.asyncProperty(program, fc.scheduler(), async (scopes, s) => {
            const h = harness({
              hosts: HOSTS,
              deliver: (run) => {
                void s.schedule(Promise.resolve(), 'message').then(run);
              },
            });
            const leaderCalls = new Map<string, number>();
            const valueOf = (p: string, scope: number, i: number, nulls: boolean[]): unknown =>
              nulls[h.participants.indexOf(p)] ? null : { p, at: new Map([[scope, BigInt(i)]]) };
            const runCopy = async (p: string): Promise<unknown[][]> =>
              Promise.all(
                scopes.map(async (steps, si) => {
                  const { cluster } = h.copies.get(p)!.scope(`w${si}`);
                  const out: unknown[] = [];
                  for (const [i, st] of steps.entries()) {
                    if (st.kind === 'gather') out.push(await cluster.allGather(`g${i}`, valueOf(p, si, i, st.nulls)));
                    else
                      out.push(
                        await cluster.atLeader(`l${i}`, () => {
                          const k = `${p}/${si}/${i}`;
                          leaderCalls.set(k, (leaderCalls.get(k) ?? 0) + 1);
                          return new Map([[`w${si}`, i]]);
                        }),
                      );
                  }
                  return out;
                }),
              );
            const all = await s.waitFor(within(Promise.all(h.participants.map(runCopy)), 5000, 'program'));
            scopes.forEach((steps, si) =>
              steps.forEach((st, i) => {
                const expected =
                  st.kind === 'gather'
                    ? h.participants.map((p) => valueOf(p, si, i, st.nulls)).filter((v) => v !== null)
                    : new Map([[`w${si}`, i]]);
                for (const copy of all) expect(copy[si]![i]).toEqual(expected);
                if (st.kind === 'leader') expect(leaderCalls.get(`${COORDINATOR}/${si}/${i}`)).toBe(1);
              }),
            );
            const leaderSteps = scopes.flat().filter((st) => st.kind === 'leader').length;
            expect([...leaderCalls.values()].reduce((a, b) => a + b, 0)).toBe(leaderSteps);
            h.hub.close();
          }),
          { numRuns: 60 },
        );
      } finally {
        Collectives.prototype.settle = settle;
      }
      expect(early).toBeGreaterThan(0);
    });
  });
});
