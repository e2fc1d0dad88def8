import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Timer } from '../../src/net/clock.js';
import { SimClock } from '../../src/net/sim-clock.js';

describe('SimClock', () => {
  it('starts at 0 (or the given time) with nothing pending', () => {
    expect(new SimClock().now()).toBe(0);
    expect(new SimClock(500).now()).toBe(500);
    const c = new SimClock();
    expect(c.kind).toBe('sim');
    expect(c.pending).toBe(0);
    expect(c.step()).toBe(false);
  });

  it('never runs a callback inside setTimer, even with delay 0', () => {
    const c = new SimClock();
    let ran = false;
    c.setTimer(0, () => {
      ran = true;
    });
    expect(ran).toBe(false);
    expect(c.pending).toBe(1);
    expect(c.step()).toBe(true);
    expect(ran).toBe(true);
    expect(c.pending).toBe(0);
  });

  it('runs events in time order, ties in insertion order, and sets now to the event time', () => {
    const c = new SimClock();
    const log: string[] = [];
    const at = (name: string) => () => log.push(`${name}@${c.now()}`);
    c.setTimer(30, at('a'));
    c.setTimer(10, at('b'));
    c.setTimer(30, at('c'));
    c.setTimer(0, at('d'));
    c.setTimer(10, at('e'));
    c.runAll();
    expect(log).toEqual(['d@0', 'b@10', 'e@10', 'a@30', 'c@30']);
  });

  it('runs zero-delay events scheduled during an event after everything already due then', () => {
    const c = new SimClock();
    const log: string[] = [];
    c.setTimer(5, () => {
      log.push('x');
      c.setTimer(0, () => log.push('x0'));
    });
    c.setTimer(5, () => log.push('y'));
    c.runAll();
    expect(log).toEqual(['x', 'y', 'x0']);
  });

  it('cancel is lazy, idempotent, and a cancelled timer never runs', () => {
    const c = new SimClock();
    let n = 0;
    const t1 = c.setTimer(10, () => n++);
    const t2 = c.setTimer(0, () => n++);
    c.setTimer(20, () => n++);
    expect(c.pending).toBe(3);
    t1.cancel();
    t1.cancel();
    t2.cancel();
    expect(c.pending).toBe(1);
    c.runAll();
    expect(n).toBe(1);
    expect(c.now()).toBe(20);
    t1.cancel(); // after the fact: still harmless
    expect(c.pending).toBe(0);
  });

  it('cancelling itself or an already-run timer from a callback is harmless', () => {
    const c = new SimClock();
    let self: Timer | null = null;
    let other = 0;
    const early = c.setTimer(1, () => {});
    self = c.setTimer(2, () => {
      self!.cancel();
      early.cancel();
      c.setTimer(1, () => other++);
    });
    c.runAll();
    expect(other).toBe(1);
    expect(c.pending).toBe(0);
  });

  it('survives mass cancellation (compaction) with correct order and count', () => {
    const c = new SimClock();
    const timers: Timer[] = [];
    const ran: number[] = [];
    for (let i = 0; i < 20_000; i++) timers.push(c.setTimer(i % 997, () => ran.push(i)));
    for (let i = 0; i < 20_000; i++) if (i % 10 !== 0) timers[i]!.cancel();
    expect(c.pending).toBe(2000);
    c.runAll();
    const expected = [...Array(20_000).keys()]
      .filter((i) => i % 10 === 0)
      .sort((x, y) => (x % 997) - (y % 997) || x - y);
    expect(ran).toEqual(expected);
  });

  it('runUntil: done is checked first and after every event', () => {
    const c = new SimClock();
    let n = 0;
    for (let i = 1; i <= 10; i++) c.setTimer(i, () => n++);
    expect(c.runUntil(() => true)).toBe('done');
    expect(n).toBe(0);
    expect(c.runUntil(() => n === 3)).toBe('done');
    expect(n).toBe(3);
    expect(c.now()).toBe(3);
  });

  it("runUntil: 'idle' when the queue empties first, time stays at the last event", () => {
    const c = new SimClock();
    c.setTimer(7, () => {});
    expect(c.runUntil(() => false)).toBe('idle');
    expect(c.now()).toBe(7);
    expect(c.runUntil(() => false, 100)).toBe('idle');
    expect(c.now()).toBe(7);
  });

  it("runUntil: 'limit' is relative, inclusive, and advances time to the deadline", () => {
    const c = new SimClock(1000);
    const log: number[] = [];
    c.setTimer(10, () => log.push(c.now()));
    c.setTimer(20, () => log.push(c.now()));
    c.setTimer(21, () => log.push(c.now()));
    expect(c.runUntil(() => false, 20)).toBe('limit');
    expect(log).toEqual([1010, 1020]);
    expect(c.now()).toBe(1020);
    expect(c.pending).toBe(1);
    expect(c.runUntil(() => false, 20)).toBe('idle');
    expect(log).toEqual([1010, 1020, 1021]);
  });

  it('runFor runs due events and leaves the clock at now + ns', () => {
    const c = new SimClock();
    let n = 0;
    c.setTimer(5, () => n++);
    c.setTimer(15, () => n++);
    expect(c.runFor(10)).toBe(1);
    expect(c.now()).toBe(10);
    expect(c.runFor(100)).toBe(1);
    expect(c.now()).toBe(110);
    expect(n).toBe(2);
  });

  it('treats negative delays as 0 and rejects NaN / infinite delays', () => {
    const c = new SimClock(100);
    let at = -1;
    c.setTimer(-5, () => (at = c.now()));
    c.runAll();
    expect(at).toBe(100);
    expect(() => c.setTimer(NaN, () => {})).toThrow(RangeError);
    expect(() => c.setTimer(Infinity, () => {})).toThrow(RangeError);
    expect(() => c.runFor(-1)).toThrow(RangeError);
  });

  it('refuses to be run re-entrantly from inside an event', () => {
    const c = new SimClock();
    let err: unknown = null;
    c.setTimer(1, () => {
      try {
        c.step();
      } catch (e) {
        err = e;
      }
    });
    c.runAll();
    expect(err).toBeInstanceOf(Error);
  });

  it('nextTime reports the next live event, skipping cancelled ones', () => {
    const c = new SimClock();
    expect(c.nextTime()).toBe(Infinity);
    const a = c.setTimer(5, () => {});
    c.setTimer(9, () => {});
    expect(c.nextTime()).toBe(5);
    a.cancel();
    expect(c.nextTime()).toBe(9);
    c.setTimer(0, () => {});
    expect(c.nextTime()).toBe(0);
  });

  it('setTimerArg passes its argument', () => {
    const c = new SimClock();
    const got: string[] = [];
    const push = (s: string): void => {
      got.push(s);
    };
    c.setTimerArg(1, push, 'one');
    c.setTimerArg(0, push, 'zero');
    c.runAll();
    expect(got).toEqual(['zero', 'one']);
  });

  it('a callback that throws leaves the clock consistent', () => {
    const c = new SimClock();
    let ran = 0;
    c.setTimer(1, () => {
      throw new Error('boom');
    });
    c.setTimer(2, () => ran++);
    expect(() => c.step()).toThrow('boom');
    expect(c.pending).toBe(1);
    c.runAll();
    expect(ran).toBe(1);
  });

  /**
   * Property: against a brute-force reference queue (a list scanned for the minimum
   * (time, seq)), the SimClock runs the same events at the same times in the same order,
   * including events scheduled and timers cancelled from inside callbacks. Delays are drawn
   * from a small set so that ties are common.
   */
  describe('matches a brute-force reference (fast-check)', () => {
    type Action = { kind: 'schedule'; delay: number; script: number } | { kind: 'cancel'; target: number };
    type Script = Action[];

    interface Sched {
      setTimer(d: number, fn: () => void): { cancel(): void };
      now(): number;
      runAll(): void;
    }

    class Reference implements Sched {
      private t = 0;
      private seq = 0;
      private q: { time: number; seq: number; fn: () => void; dead: boolean }[] = [];
      now(): number {
        return this.t;
      }
      setTimer(d: number, fn: () => void) {
        const e = { time: this.t + Math.max(0, d), seq: this.seq++, fn, dead: false };
        this.q.push(e);
        return { cancel: () => void (e.dead = true) };
      }
      runAll(): void {
        for (;;) {
          this.q = this.q.filter((e) => !e.dead);
          if (this.q.length === 0) return;
          let best = 0;
          for (let i = 1; i < this.q.length; i++) {
            const a = this.q[i]!;
            const b = this.q[best]!;
            if (a.time < b.time || (a.time === b.time && a.seq < b.seq)) best = i;
          }
          const e = this.q.splice(best, 1)[0]!;
          this.t = e.time;
          e.fn();
        }
      }
    }

    /** Interprets the scripts on a scheduler; returns the trace of (event id, time). */
    function trace(s: Sched, top: Script, scripts: Script[], budget: number): string[] {
      const out: string[] = [];
      const timers: { cancel(): void }[] = [];
      let nextId = 0;
      let left = budget;
      const exec = (script: Script): void => {
        for (const a of script) {
          if (a.kind === 'schedule') {
            if (left-- <= 0) continue;
            const id = nextId++;
            timers.push(
              s.setTimer(a.delay, () => {
                out.push(`${id}@${s.now()}`);
                exec(scripts[a.script % scripts.length]!);
              }),
            );
          } else if (timers.length > 0) {
            timers[a.target % timers.length]!.cancel();
          }
        }
      };
      exec(top);
      s.runAll();
      return out;
    }

    const action = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('schedule' as const),
          delay: fc.constantFrom(0, 0, 1, 2, 5, 5, 10, -3),
          script: fc.nat(20),
        }),
        weight: 3,
      },
      { arbitrary: fc.record({ kind: fc.constant('cancel' as const), target: fc.nat(1000) }), weight: 1 },
    );
    const script = fc.array(action, { maxLength: 5 });

    it('same events, same times, same order', () => {
      fc.assert(
        fc.property(script, fc.array(script, { minLength: 1, maxLength: 8 }), (top, scripts) => {
          const clock = new SimClock();
          const sim: Sched = {
            setTimer: (d, fn) => clock.setTimer(d, fn),
            now: () => clock.now(),
            runAll: () => void clock.runAll(),
          };
          const got = trace(sim, top, scripts, 300);
          const want = trace(new Reference(), top, scripts, 300);
          expect(got).toEqual(want);
          expect(clock.pending).toBe(0);
        }),
        { numRuns: 300 },
      );
    });

    it('events run in non-decreasing time; cancelled never run', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: -2, max: 50 }), fc.boolean()), { maxLength: 200 }),
          (specs) => {
            const c = new SimClock();
            const ran: number[] = [];
            const times: number[] = [];
            const timers = specs.map(([d], i) =>
              c.setTimer(d, () => {
                ran.push(i);
                times.push(c.now());
              }),
            );
            specs.forEach(([, cancel], i) => cancel && timers[i]!.cancel());
            c.runAll();
            const live = specs.map((s, i) => [s, i] as const).filter(([[, x]]) => !x);
            const want = live
              .sort(([[da], ia], [[db], ib]) => Math.max(0, da) - Math.max(0, db) || ia - ib)
              .map(([, i]) => i);
            expect(ran).toEqual(want);
            for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
          },
        ),
      );
    });
  });
});
