import { TableError } from '../match-types.js';

// v1model's colour encoding, which programs compare against and copy into metadata.
export const GREEN = 0;
export const YELLOW = 1;
export const RED = 2;
export type MeterColor = typeof GREEN | typeof YELLOW | typeof RED;

export type MeterUnit = 'bytes' | 'packets';

export interface MeterConfig {
  /** committed rate, units per second */
  cir: number;
  /** committed burst, units, > 0 */
  cburst: number;
  /** peak rate, units per second, >= cir */
  pir: number;
  /** peak burst, units, > 0 */
  pburst: number;
}

const NS_PER_S = 1e9;

/**
 * An indexed two-rate three-colour meter, RFC 2698 trTCM in colour-blind mode. The unit is
 * fixed at declaration, as with P4's MeterType.packets / MeterType.bytes; in packets mode
 * every packet costs one token whatever its length.
 *
 * Buckets are kept in token-nanoseconds (tokens x 1e9) so that a refill is `rate * dtNs`
 * with no division: for integer rates, burst and packet sizes below ~9 MB and integer
 * nanosecond times every quantity is an integer below 2^53, so colours are exact rather than
 * at the mercy of rounding at bucket boundaries.
 */
export class Meter {
  readonly name: string;
  readonly size: number;
  readonly unit: MeterUnit;
  private readonly configured: Uint8Array;
  private readonly started: Uint8Array;
  private readonly cir: Float64Array;
  private readonly pir: Float64Array;
  private readonly cbs: Float64Array;
  private readonly pbs: Float64Array;
  private readonly tc: Float64Array;
  private readonly tp: Float64Array;
  private readonly last: Float64Array;

  constructor(name: string, size: number, unit: MeterUnit = 'bytes') {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`meter ${name}: size ${size} is not a positive integer`);
    }
    this.name = name;
    this.size = size;
    this.unit = unit;
    this.configured = new Uint8Array(size);
    this.started = new Uint8Array(size);
    this.cir = new Float64Array(size);
    this.pir = new Float64Array(size);
    this.cbs = new Float64Array(size);
    this.pbs = new Float64Array(size);
    this.tc = new Float64Array(size);
    this.tp = new Float64Array(size);
    this.last = new Float64Array(size);
  }

  /** Sets the rates and refills both buckets (RFC 2698: buckets start full). */
  configure(i: number, config: MeterConfig): void {
    this.check(i);
    const { cir, cburst, pir, pburst } = config;
    for (const [label, v] of [
      ['cir', cir],
      ['cburst', cburst],
      ['pir', pir],
      ['pburst', pburst],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new TableError('INVALID_ARGUMENT', this.name, `index ${i}: ${label} ${v} is not a finite number >= 0`, undefined, 'meter');
      }
    }
    // RFC 2698 section 2 requires both burst sizes (CBS, PBS) to be greater than 0:
    // an empty bucket would turn every packet red (or yellow) whatever the rates say.
    for (const [label, v] of [
      ['cburst', cburst],
      ['pburst', pburst],
    ] as const) {
      if (v === 0) throw new TableError('INVALID_ARGUMENT', this.name, `index ${i}: ${label} must be greater than 0 (RFC 2698)`, undefined, 'meter');
    }
    if (pir < cir) {
      throw new TableError('INVALID_ARGUMENT', this.name, `index ${i}: pir ${pir} < cir ${cir}`, undefined, 'meter');
    }
    this.configured[i] = 1;
    this.started[i] = 0;
    this.cir[i] = cir;
    this.pir[i] = pir;
    this.cbs[i] = cburst * NS_PER_S;
    this.pbs[i] = pburst * NS_PER_S;
    this.tc[i] = this.cbs[i]!;
    this.tp[i] = this.pbs[i]!;
  }

  /** Back to the default: every packet GREEN. */
  unconfigure(i: number): void {
    this.check(i);
    this.configured[i] = 0;
  }

  config(i: number): MeterConfig | undefined {
    this.check(i);
    if (this.configured[i] === 0) return undefined;
    return { cir: this.cir[i]!, cburst: this.cbs[i]! / NS_PER_S, pir: this.pir[i]!, pburst: this.pbs[i]! / NS_PER_S };
  }

  /** Unconfigures every index. */
  reset(): void {
    this.configured.fill(0);
  }

  execute(i: number, bytes: number, nowNs: number): MeterColor {
    this.check(i);
    if (this.configured[i] === 0) return GREEN;
    let tc = this.tc[i]!;
    let tp = this.tp[i]!;
    if (this.started[i] === 0) {
      this.started[i] = 1;
      this.last[i] = nowNs;
    } else {
      const dt = nowNs - this.last[i]!;
      // A clock that steps back (packets handed in out of order) adds nothing.
      if (dt > 0) {
        this.last[i] = nowNs;
        tc = Math.min(this.cbs[i]!, tc + this.cir[i]! * dt);
        tp = Math.min(this.pbs[i]!, tp + this.pir[i]! * dt);
      }
    }
    const cost = (this.unit === 'packets' ? 1 : bytes) * NS_PER_S;
    let color: MeterColor;
    if (tp < cost) color = RED;
    else if (tc < cost) {
      color = YELLOW;
      tp -= cost;
    } else {
      color = GREEN;
      tp -= cost;
      tc -= cost;
    }
    this.tc[i] = tc;
    this.tp[i] = tp;
    return color;
  }

  private check(i: number): void {
    if (!((i >>> 0) === i && i < this.size)) {
      throw new RangeError(`meter ${this.name}: index ${i} out of range 0..${this.size - 1}`);
    }
  }
}
