import { HostAgent } from '../transport/host-agent.js';
import type { WorkloadContext, WorkloadModule } from '../../src/run/workload.js';
import type { PingallResult } from '../../src/report/types.js';
import { percentile, round } from '../../src/report/types.js';
import { Deferred } from '../../src/run/deferred.js';
import { NS_PER_MS } from '../../src/net/clock.js';
import { PING_REPLY, PING_REQUEST, PROTO_PING } from '../../src/wire/protocols.js';
import {
  OFF_DST, OFF_SRC, OFF_TYPE, OFF_SRCPORT, OFF_DSTPORT, HEADER_BYTES, frameSeq, frameTimestamp,
} from '../../src/wire/common-header.js';
import { readU16, readU32, writeU32, writeU16 } from '../../src/wire/bytes.js';
import { pingPlan, pingVerdict } from './pingall-verdict.js';

export interface PingallSpec {
  count: number;
}

const PING_PAYLOAD = 56;
const BASE_TIMEOUT_NS = 1000 * NS_PER_MS;

/**
 * A request is given up after 1 s plus four worst-case round trips of propagation delay, so
 * long emulated links (satellite-like delays) don't turn into false timeouts.
 */
function pingTimeoutNs(ctx: WorkloadContext): number {
  const maxOneWayNs = ctx.fabric.links.reduce((m, l) => Math.max(m, (l.config.delayUs + l.config.jitterUs) * 1000), 0);
  const pathLinks = 2 * Math.max(1, ctx.topology.tierKeys.length);
  return BASE_TIMEOUT_NS + 4 * 2 * pathLinks * maxOneWayNs;
}

/** Links a request and its reply cross at most: up and down every tier, both ways. */
function roundTripLinks(ctx: WorkloadContext): number {
  return 2 * 2 * Math.max(1, ctx.topology.tierKeys.length);
}

/**
 * Every host pings every other host `count` times, one request in flight per ordered pair;
 * a pair with no answer yet may ask `retries` more times (lossy links, see pingall-verdict.ts).
 * A reply must echo its request's pair and sequence and payload; anything else is a mismatch.
 */
class Pinger extends HostAgent {
  rtts: number[] = [];
  sent = 0;
  received = 0;
  mismatched = 0;
  /** well-formed replies to a request already answered or given up (duplicates, late) */
  late = 0;
  /** per destination index: sequence number awaited, or -1 */
  private awaiting: number[];
  /** per destination index: the next sequence number to send */
  private nextSeq: number[];
  private readonly timeoutNs: number;
  private timeouts: Array<{ cancel(): void } | null>;
  /** per destination index: some request answered */
  private answered: boolean[];

  constructor(
    ctx: WorkloadContext,
    readonly index: number,
    private readonly peers: readonly number[],
    private readonly count: number,
    private readonly retries: number,
    private readonly onPairDone: () => void,
  ) {
    super(ctx.hosts[index]!, PROTO_PING);
    this.timeoutNs = pingTimeoutNs(ctx);
    this.awaiting = peers.map(() => -1);
    this.nextSeq = peers.map(() => 0);
    this.timeouts = peers.map(() => null);
    this.answered = peers.map(() => false);
  }

  /** Ordered pairs from this host that never got an answer. */
  get unanswered(): number {
    return this.answered.filter((a, j) => j !== this.index && !a).length;
  }

  /** Requests sent beyond `count` (retries of unanswered pairs). */
  get retried(): number {
    return this.sent - this.count * (this.peers.length - 1);
  }

  /** Answers pings from now on (every host listens before any host asks). */
  listen(): void {
    this.start((f) => this.onFrame(f));
  }

  begin(): void {
    this.peers.forEach((_, j) => {
      if (j !== this.index) this.ping(j, 0);
    });
  }

  private ping(j: number, seq: number): void {
    if (seq >= this.count && (this.answered[j] || seq >= this.count + this.retries)) {
      this.onPairDone();
      return;
    }
    const f = this.frame({ type: PING_REQUEST, dst: this.peers[j]!, srcPort: this.index, dstPort: j, seq }, PING_PAYLOAD);
    // The payload carries the pair and sequence, so a reply can be checked against its request.
    writeU32(f, HEADER_BYTES, this.index);
    writeU32(f, HEADER_BYTES + 4, j);
    writeU32(f, HEADER_BYTES + 8, seq);
    this.awaiting[j] = seq;
    this.nextSeq[j] = seq + 1;
    this.sent++;
    this.send(f);
    this.timeouts[j] = this.after(this.timeoutNs, () => {
      this.timeouts[j] = null;
      this.awaiting[j] = -1;
      this.ping(j, seq + 1);
    });
  }

  private onFrame(f: Uint8Array): void {
    if (f[OFF_TYPE] === PING_REQUEST) {
      // Echo: swap addresses and ports, keep payload, sequence and timestamp.
      const src = readU32(f, OFF_SRC);
      writeU32(f, OFF_SRC, readU32(f, OFF_DST));
      writeU32(f, OFF_DST, src);
      const sp = readU16(f, OFF_SRCPORT);
      writeU16(f, OFF_SRCPORT, readU16(f, OFF_DSTPORT));
      writeU16(f, OFF_DSTPORT, sp);
      f[OFF_TYPE] = PING_REPLY;
      this.send(f);
      return;
    }
    if (f[OFF_TYPE] !== PING_REPLY) {
      this.mismatched++;
      return;
    }
    const j = readU16(f, OFF_SRCPORT);
    const seq = frameSeq(f);
    const wellFormed =
      j < this.peers.length &&
      readU32(f, HEADER_BYTES) === this.index &&
      readU32(f, HEADER_BYTES + 4) === j &&
      readU32(f, HEADER_BYTES + 8) === seq &&
      readU32(f, OFF_SRC) === this.peers[j];
    if (!wellFormed) {
      this.mismatched++;
      return;
    }
    if (this.awaiting[j] !== seq) {
      // A duplicate of an answered request, or an answer after its timeout: not a mismatch.
      if (seq < this.nextSeq[j]!) this.late++;
      else this.mismatched++;
      return;
    }
    this.received++;
    this.answered[j] = true;
    this.rtts.push(this.now - frameTimestamp(f));
    this.awaiting[j] = -1;
    this.timeouts[j]?.cancel();
    this.timeouts[j] = null;
    this.ping(j, seq + 1);
  }
}

/** What one process's pingers saw, gathered from every process to make the one result. */
interface PingTally {
  rttsUs: number[];
  sent: number;
  received: number;
  mismatched: number;
  late: number;
  unanswered: number;
  retries: number;
}

const pingall: WorkloadModule<PingallSpec> = {
  kind: 'pingall',
  distributed: true,
  async run(ctx, spec) {
    const n = ctx.hosts.length;
    const addresses = ctx.hosts.map((h) => h.address);
    const pairs = n * (n - 1);
    // this process's pingers: every host in one process, one host per node in `ina up`
    const here = ctx.hosts.flatMap((h, i) => (ctx.cluster.isLocal(h.name) ? [i] : []));
    const localPairs = here.length * (n - 1);
    const done = new Deferred<void>('pingall');
    let finished = 0;
    const onPairDone = (): void => {
      finished++;
      ctx.progress(finished / localPairs);
      if (finished === localPairs) done.resolve();
    };
    const maxLoss = ctx.fabric.links.reduce((m, l) => Math.max(m, l.config.lossRate), 0);
    const plan = pingPlan(pairs, spec.count, ctx.fabric.lossy ? maxLoss : 0, roundTripLinks(ctx));
    const pingers = here.map((i) => new Pinger(ctx, i, addresses, spec.count, plan.retries, onPairDone));
    let tallies: PingTally[];
    try {
      pingers.forEach((p) => p.listen());
      await ctx.cluster.allGather('pingall: every host listening', null);
      if (localPairs === 0) done.resolve();
      pingers.forEach((p) => p.begin());
      await ctx.driver.wait(done);
      const mine: PingTally = {
        rttsUs: pingers.flatMap((p) => p.rtts).map((ns) => ns / 1000),
        sent: pingers.reduce((s, p) => s + p.sent, 0),
        received: pingers.reduce((s, p) => s + p.received, 0),
        mismatched: pingers.reduce((s, p) => s + p.mismatched, 0),
        late: pingers.reduce((s, p) => s + p.late, 0),
        unanswered: pingers.reduce((s, p) => s + p.unanswered, 0),
        retries: pingers.reduce((s, p) => s + p.retried, 0),
      };
      // Hosts keep answering until every process has its replies.
      tallies = await ctx.cluster.allGather('pingall: tallies', here.length > 0 ? mine : null);
    } finally {
      pingers.forEach((p) => p.stop());
    }
    const rtts = tallies.flatMap((t) => t.rttsUs);
    const total = (k: 'sent' | 'received' | 'mismatched' | 'late' | 'unanswered' | 'retries'): number => tallies.reduce((s, t) => s + t[k], 0);
    const sent = total('sent');
    const received = total('received');
    const mismatched = total('mismatched');
    const late = total('late');
    const unanswered = total('unanswered');
    const result: PingallResult = {
      workload: 'pingall',
      pairs,
      sent,
      received,
      rttUs: {
        p50: round(percentile(rtts, 50)),
        p99: round(percentile(rtts, 99)),
        mean: round(rtts.reduce((s, v) => s + v, 0) / Math.max(1, rtts.length)),
        max: round(rtts.reduce((m, v) => Math.max(m, v), 0)),
      },
      mismatched,
      late,
      lost: sent - received,
      retries: total('retries'),
      unanswered,
      ...pingVerdict(plan, { sent, received, mismatched, unanswered }),
    };
    return [result];
  },
};

export default pingall;
