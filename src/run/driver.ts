import type { Clock } from '../net/clock.js';
import { NS_PER_S } from '../net/clock.js';
import type { SimClock } from '../net/sim-clock.js';
import { Deferred } from './deferred.js';

/** A workload that stopped making progress: names what it waited for and why it ended. */
export class StallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StallError';
  }
}

/**
 * How a workload waits for its agents. In sim mode waiting is what advances virtual time; in
 * udp mode it is a promise with a wall-clock bound. Either way a wait ends: with the result,
 * or with a StallError naming what never finished (never a hang).
 */
export interface Driver {
  readonly clock: Clock;
  wait<T>(d: Deferred<T>, timeoutNs?: number): Promise<T>;
}

interface Waiter {
  d: Deferred<unknown>;
  deadline: number;
}

/**
 * One central loop for every wait, so that concurrent workloads (a `group`) interleave in
 * virtual time exactly as their events say. The loop runs events synchronously until some
 * wait is settled, then yields to the event loop so that promise continuations run (and
 * register their next waits) before virtual time moves on.
 */
export class SimDriver implements Driver {
  private waiters: Waiter[] = [];
  private running = false;

  constructor(readonly clock: SimClock, readonly defaultTimeoutNs = 600 * NS_PER_S) {}

  wait<T>(d: Deferred<T>, timeoutNs = this.defaultTimeoutNs): Promise<T> {
    if (!d.done) {
      this.waiters.push({ d: d as Deferred<unknown>, deadline: this.clock.now() + timeoutNs });
      if (!this.running) {
        this.running = true;
        setImmediate(() => this.pump());
      }
    }
    return d.promise;
  }

  private pump(): void {
    const live = this.waiters.filter((w) => !w.d.done);
    this.waiters = live;
    if (live.length === 0) {
      this.running = false;
      return;
    }
    const deadline = Math.min(...live.map((w) => w.deadline));
    const anyDone = (): boolean => {
      for (const w of live) if (w.d.done) return true;
      return false;
    };
    let outcome: 'done' | 'idle' | 'limit';
    try {
      outcome = this.clock.runUntil(anyDone, Math.max(0, deadline - this.clock.now()));
    } catch (err) {
      // A fault inside an event (an agent bug) fails every wait, loudly, instead of the process.
      for (const w of live) w.d.reject(err);
      this.waiters = [];
      this.running = false;
      return;
    }
    if (outcome !== 'done') {
      const now = this.clock.now();
      for (const w of live) {
        if (w.d.done) continue;
        if (outcome === 'idle') {
          w.d.reject(new StallError(`${w.d.label}: stalled at t=${(now / 1e9).toFixed(6)} s of virtual time with no events left (a peer stopped answering)`));
        } else if (w.deadline <= deadline) {
          w.d.reject(new StallError(`${w.d.label}: not finished after ${(deadline / 1e9).toFixed(3)} s of virtual time`));
        }
      }
    }
    // Let continuations run and register new waits, then go on.
    setImmediate(() => this.pump());
  }
}

/** udp mode: the real event loop runs the agents; a wait is bounded in wall-clock time. */
export class RealDriver implements Driver {
  constructor(readonly clock: Clock, readonly defaultTimeoutNs = 120 * NS_PER_S) {}

  wait<T>(d: Deferred<T>, timeoutNs = this.defaultTimeoutNs): Promise<T> {
    if (d.done) return d.promise;
    const t = setTimeout(() => {
      d.reject(new StallError(`${d.label}: not finished after ${(timeoutNs / 1e9).toFixed(1)} s (a peer stopped answering?)`));
    }, timeoutNs / 1e6);
    return d.promise.finally(() => clearTimeout(t));
  }
}
