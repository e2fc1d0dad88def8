import type { Register } from './register.js';

/**
 * A RegisterAction, as a switch ASIC's stateful ALU offers it: one named read-modify-write
 * of one cell, executed as a single access per packet (p4app-switchML's programs touch each
 * register once per packet this way). A program written with these keeps to what the
 * hardware can do; Pipeline.registerTouches says which registers a program touches more
 * often than that.
 */
export class RegisterAction {
  constructor(
    readonly name: string,
    readonly register: Register,
    private readonly update: (old: number, arg: number) => number,
  ) {}

  /** Runs the action on cell i with `arg`; returns the cell's new (wrapped) value. */
  execute(i: number, arg = 0): number {
    return this.register.execute(i, this.update, arg);
  }
}
