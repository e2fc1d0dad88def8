import type { Pipeline } from '../pipeline/pipeline.js';
import type { Counter } from '../pipeline/externs/counter.js';
import { SHARP_STAT_NAMES, SML_STAT_NAMES, SML_STATS_COUNTER } from '../wire/names/aggregation.js';

/**
 * What became of each frame a switch was given, one outcome per frame, read from the counters
 * the switch itself keeps (the engine's drops by reason, the parser's errors by kind, packets
 * consumed, the aggregation stage's counter by reason) and from what it emitted:
 *   forwarded[:stat]            at least one copy left on a port
 *   consumed[:stat]             taken in on purpose (an aggregated contribution)
 *   dropped:parser:<error>      rejected by the parser
 *   dropped:table[:stat]        dropped by the program (no route, TTL, an aggregation reason)
 *   dropped:passes              recirculated past the pass limit
 *   dropped:<reason>            any other drop reason the target counts (queue, ...)
 *   exception                   the program threw (the engine counts it as an 'error' drop)
 *   thrown                      the engine itself let an exception out (it must never)
 *   unaccounted                 no counter moved and nothing left: a silent drop (must never)
 * `stat` names the aggregation counters that moved (e.g. aggregated, duplicate, unknownWorker).
 * A frame therefore counts once, and the outcomes add up to the frames sent.
 */
export interface ExceptionSample {
  readonly program: string;
  readonly switch: string;
  readonly port: number;
  readonly message: string;
  /** the first 96 bytes of the frame as the switch left it, hex */
  readonly frame: string;
}

const MAX_SAMPLES = 5;

function statNames(c: Counter): readonly string[] {
  for (const names of [SHARP_STAT_NAMES, SML_STAT_NAMES] as const) if (names.length === c.size) return names;
  return Array.from({ length: c.size }, (_, i) => `stat${i}`);
}

export class OutcomeTally {
  readonly counts = new Map<string, number>();
  readonly samples: ExceptionSample[] = [];
  frames = 0;
  copies = 0;
  exceptions = 0;

  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  /** The outcomes, sorted by name, for a report that reads the same on every run. */
  sorted(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  total(): number {
    let s = 0;
    for (const v of this.counts.values()) s += v;
    return s;
  }
}

/** What the probe reads: a switch target's own counters (src/switch's Switch has them all). */
export interface ProbeTarget {
  readonly name: string;
  readonly pipeline: Pipeline;
  /** frames handed to ports */
  readonly packetsOut: number;
  drops(): object;
  consumed(): number;
  receive(port: number, frame: Uint8Array): void;
}

/**
 * Watches one switch target: `process` hands it a frame on a port and records the frame's
 * outcome in `tally`; `observe` does the same around a delivery someone else makes (a socket).
 * Drops are read from the target's drops() by whatever reasons it has, so a reason a target
 * adds (a source guard's) is a drop with its name, never silence.
 */
export class OutcomeProbe {
  private readonly stats: Counter | undefined;
  private readonly names: readonly string[];
  private readonly before: Float64Array;
  private readonly parserSeen = new Map<string, number>();
  private readonly reasons: readonly string[];
  private readonly dropsBefore: Float64Array;

  constructor(
    private readonly target: ProbeTarget,
    private readonly tally: OutcomeTally,
  ) {
    const pipe = target.pipeline;
    this.stats = pipe.counters.get(SML_STATS_COUNTER);
    this.names = this.stats ? statNames(this.stats) : [];
    this.before = new Float64Array(this.names.length);
    this.reasons = Object.keys(target.drops()).filter((k) => k !== 'error');
    this.dropsBefore = new Float64Array(this.reasons.length);
  }

  process(frame: Uint8Array, port: number): void {
    this.observe(frame, port, () => this.target.receive(port, frame));
  }

  /** Runs `run`, which makes the target receive `frame` on `port`, and records the frame's outcome. */
  observe(frame: Uint8Array, port: number, run: () => void): void {
    const t = this.target;
    const p = t.pipeline;
    const d0 = t.drops() as Record<string, number>;
    const error = d0.error ?? 0;
    const reasons = this.reasons;
    const before = this.dropsBefore;
    for (let i = 0; i < reasons.length; i++) before[i] = d0[reasons[i]!] ?? 0;
    const consumed = t.consumed();
    const out = t.packetsOut;
    const stats = this.stats;
    if (stats) for (let i = 0; i < this.before.length; i++) this.before[i] = stats.read(i).packets;
    let thrown: unknown = null;
    try {
      run();
    } catch (e) {
      thrown = e;
    }
    const d = t.drops() as Record<string, number>;
    const copies = t.packetsOut - out;
    const tl = this.tally;
    tl.frames++;
    tl.copies += copies;
    let outcome: string;
    if (thrown !== null) outcome = 'thrown';
    else if ((d.error ?? 0) > error) outcome = 'exception';
    else if (copies > 0) outcome = 'forwarded' + this.statDelta();
    else if (t.consumed() > consumed) outcome = 'consumed' + this.statDelta();
    else {
      let reason = '';
      for (let i = 0; i < reasons.length && reason === ''; i++) if ((d[reasons[i]!] ?? 0) > before[i]!) reason = reasons[i]!;
      if (reason === 'parser') outcome = `dropped:parser:${this.parserError()}`;
      else if (reason === 'table') outcome = 'dropped:table' + this.statDelta();
      else if (reason !== '') outcome = `dropped:${reason}`;
      else outcome = 'unaccounted';
    }
    tl.add(outcome);
    if (outcome === 'thrown' || outcome === 'exception') {
      tl.exceptions++;
      if (tl.samples.length < MAX_SAMPLES) {
        const e = thrown ?? p.lastError;
        tl.samples.push({
          program: p.program.name,
          switch: t.name,
          port,
          message: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
          frame: Buffer.from(frame.subarray(0, 96)).toString('hex'),
        });
      }
    }
  }

  /** ':a+b' for the aggregation counters this frame moved, '' for none. */
  private statDelta(): string {
    const stats = this.stats;
    if (!stats) return '';
    let out = '';
    for (let i = 0; i < this.before.length; i++) if (stats.read(i).packets > this.before[i]!) out += (out ? '+' : ':') + this.names[i]!;
    return out;
  }

  /** The parser error kind whose count moved. */
  private parserError(): string {
    for (const [kind, n] of this.target.pipeline.parser.errors) {
      if (n !== (this.parserSeen.get(kind) ?? 0)) {
        this.parserSeen.set(kind, n);
        return kind;
      }
    }
    return 'unknown';
  }
}
