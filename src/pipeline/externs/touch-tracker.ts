/**
 * How often one pass of a packet touches a register. A switch ASIC gives each register one
 * stateful ALU in one stage, so a packet can read-modify-write it once (a RegisterAction);
 * a program that reads a register and writes it back later in its control, or touches two
 * cells of it, would not fit the target. The emulator runs such programs anyway; this tells
 * which registers they are (Pipeline.registerTouches).
 */

/** The pipeline's pass counter: a new id per pass (ingress, or one egress replica); -1 between packets. */
export class PassClock {
  id = -1;
  private next = 0;

  /** starts a pass: the accesses from here to the next start() are one pass's */
  start(): void {
    this.id = this.next++;
    if (this.next === 0x7fffffff) this.next = 0;
  }

  /** between packets: the control plane's accesses are no packet's */
  stop(): void {
    this.id = -1;
  }
}

export class TouchTracker {
  /** passes in which some lane was touched more than once */
  repeatedPasses = 0;
  maxPerPass = 0;
  private readonly stamp: Int32Array;
  private readonly count: Uint32Array;
  private lastRepeated = -1;

  constructor(private readonly clock: PassClock, private readonly lanes: number) {
    if (!Number.isInteger(lanes) || lanes < 1) throw new RangeError(`register lanes must be a positive integer, got ${lanes}`);
    this.stamp = new Int32Array(lanes).fill(-1);
    this.count = new Uint32Array(lanes);
  }

  touch(i: number): void {
    const id = this.clock.id;
    if (id < 0) return;
    const lane = this.lanes === 1 ? 0 : i % this.lanes;
    if (this.stamp[lane] !== id) {
      this.stamp[lane] = id;
      this.count[lane] = 1;
      if (this.maxPerPass === 0) this.maxPerPass = 1;
      return;
    }
    const n = ++this.count[lane]!;
    if (n > this.maxPerPass) this.maxPerPass = n;
    if (this.lastRepeated !== id) {
      this.lastRepeated = id;
      this.repeatedPasses++;
    }
  }
}
