export type CounterType = 'packets' | 'bytes' | 'packets_and_bytes';

export interface CounterValue {
  packets: number;
  bytes: number;
}

// Float64 cells: counts pass 2^32 within minutes at line rate, and doubles stay exact to 2^53.

/** An indexed counter array (P4 `counter`). A field the type does not count stays 0. */
export class Counter {
  readonly name: string;
  readonly size: number;
  readonly type: CounterType;
  private readonly packets: Float64Array;
  private readonly bytes: Float64Array;
  private readonly countPackets: boolean;
  private readonly countBytes: boolean;

  constructor(name: string, size: number, type: CounterType) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`counter ${name}: size ${size} is not a positive integer`);
    }
    this.name = name;
    this.size = size;
    this.type = type;
    this.packets = new Float64Array(size);
    this.bytes = new Float64Array(size);
    this.countPackets = type !== 'bytes';
    this.countBytes = type !== 'packets';
  }

  count(i: number, bytes: number): void {
    if (!((i >>> 0) === i && i < this.size)) {
      throw new RangeError(`counter ${this.name}: index ${i} out of range 0..${this.size - 1}`);
    }
    if (this.countPackets) this.packets[i]!++;
    if (this.countBytes) this.bytes[i]! += bytes;
  }

  read(i: number): CounterValue {
    this.check(i);
    return { packets: this.packets[i]!, bytes: this.bytes[i]! };
  }

  /** Control-plane write (P4Runtime CounterEntry modify). */
  write(i: number, value: CounterValue): void {
    this.check(i);
    this.packets[i] = this.countPackets ? value.packets : 0;
    this.bytes[i] = this.countBytes ? value.bytes : 0;
  }

  reset(): void {
    this.packets.fill(0);
    this.bytes.fill(0);
  }

  private check(i: number): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.size)) {
      throw new RangeError(`counter ${this.name}: index ${i} out of range 0..${this.size - 1}`);
    }
  }
}

/** One direct-counter cell; the engine keeps one per table entry (e.g. beside its action). */
export type CounterCell = CounterValue;

/**
 * A P4 `direct_counter`: no storage of its own, just the type and the arithmetic on the cells
 * the table's entries carry, so deleting an entry drops its count with it.
 */
export class DirectCounter {
  constructor(
    readonly name: string,
    readonly type: CounterType,
  ) {}

  cell(): CounterCell {
    return { packets: 0, bytes: 0 };
  }

  count(cell: CounterCell, bytes: number): void {
    if (this.type !== 'bytes') cell.packets++;
    if (this.type !== 'packets') cell.bytes += bytes;
  }

  read(cell: CounterCell): CounterValue {
    return { packets: cell.packets, bytes: cell.bytes };
  }

  reset(cell: CounterCell): void {
    cell.packets = 0;
    cell.bytes = 0;
  }
}
