import type { Pipeline, Emit } from '../pipeline/pipeline.js';
import type { Counter } from '../pipeline/externs/counter.js';
import { SHARP_STAT_NAMES, SML_STAT_NAMES, SML_STATS_COUNTER } from '../topology/aggregation-manager.js';

/**
 * What became of each frame a switch was given, one outcome per frame, read from the counters
 * the switch itself keeps (the engine's drops by reason, the parser's errors by kind, packets
 * consumed, the aggregation stage's counter by reason) and from what it emitted:
 *   forwarded[:stat]            at least one copy left on a port
 *   consumed[:stat]             taken in on purpose (an aggregated contribution)
 *   dropped:parser:<error>      rejected by the parser
 *   dropped:table[:stat]        dropped by the program (no route, TTL, an aggregation reason)
 *   dropped:passes              recirculated past the pass limit
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

/**
 * Watches one pipeline: `process` runs a frame through it and records its outcome in `tally`;
 * `observe` does the same for a frame someone else hands the pipeline (a switch target).
 */
export class OutcomeProbe {
  private readonly stats: Counter | undefined;
  private readonly names: readonly string[];
  private readonly before: Float64Array;
  private readonly parserSeen = new Map<string, number>();
  private emitted = 0;
  private downstream: Emit = () => {};
  private readonly emit: Emit;

  constructor(
    private readonly pipe: Pipeline,
    private readonly switchName: string,
    private readonly tally: OutcomeTally,
  ) {
    this.stats = pipe.counters.get(SML_STATS_COUNTER);
    this.names = this.stats ? statNames(this.stats) : [];
    this.before = new Float64Array(this.names.length);
    this.emit = (port, frame) => {
      this.emitted++;
      this.downstream(port, frame);
    };
  }

  process(frame: Uint8Array, port: number): void {
    this.observe(frame, port, (emit) => this.pipe.process(frame, port, emit));
  }

  /**
   * Runs `run`, which makes the pipeline process `frame` emitting through the emit it is given
   * (copies are counted, then passed to `downstream`), and records the frame's outcome.
   */
  observe(frame: Uint8Array, port: number, run: (emit: Emit) => void, downstream: Emit = () => {}): void {
    const p = this.pipe;
    const d = p.drops;
    const parser = d.parser;
    const table = d.table;
    const passes = d.passes;
    const error = d.error;
    const consumed = p.consumed;
    const stats = this.stats;
    if (stats) for (let i = 0; i < this.before.length; i++) this.before[i] = stats.read(i).packets;
    this.emitted = 0;
    this.downstream = downstream;
    let thrown: unknown = null;
    try {
      run(this.emit);
    } catch (e) {
      thrown = e;
    }
    const t = this.tally;
    t.frames++;
    t.copies += this.emitted;
    let outcome: string;
    if (thrown !== null) outcome = 'thrown';
    else if (d.error > error) outcome = 'exception';
    else if (this.emitted > 0) outcome = 'forwarded' + this.statDelta();
    else if (p.consumed > consumed) outcome = 'consumed' + this.statDelta();
    else if (d.parser > parser) outcome = `dropped:parser:${this.parserError()}`;
    else if (d.passes > passes) outcome = 'dropped:passes';
    else if (d.table > table) outcome = 'dropped:table' + this.statDelta();
    else outcome = 'unaccounted';
    t.add(outcome);
    if (outcome === 'thrown' || outcome === 'exception') {
      t.exceptions++;
      if (t.samples.length < MAX_SAMPLES) {
        const e = thrown ?? p.lastError;
        t.samples.push({
          program: p.program.name,
          switch: this.switchName,
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
    for (const [kind, n] of this.pipe.parser.errors) {
      if (n !== (this.parserSeen.get(kind) ?? 0)) {
        this.parserSeen.set(kind, n);
        return kind;
      }
    }
    return 'unknown';
  }
}
