import { createRng } from '../net/rng.js';
import type { SimClock } from '../net/sim-clock.js';
import { PROGRAM_NAMES } from '../run/registry.js';
import { Delivery } from './deliver.js';
import { FrameSource, FRAME_CLASSES, type FrameClass } from './frames.js';
import { OutcomeProbe, OutcomeTally, type ExceptionSample } from './outcomes.js';
import { buildWorld } from './world.js';

/** One program's share of a fuzzing run. */
export interface ProgramFuzzResult {
  readonly program: string;
  readonly frames: number;
  readonly byClass: Record<FrameClass, number>;
  /** copies the switches emitted (multicast makes several of one frame) */
  readonly copies: number;
  /** one per frame: forwarded / consumed / dropped:<reason> / exception / thrown / unaccounted */
  readonly outcomes: Record<string, number>;
  readonly exceptions: number;
  readonly samples: readonly ExceptionSample[];
  /** wall time; the only figure that changes from run to run */
  readonly seconds: number;
}

/** Nanoseconds of virtual time between two frames, at most: flowlet gaps and CONGA's aging need time to pass. */
const MAX_GAP_NS = 2000;

/**
 * Fuzzes one program in-process: `frames` frames from a seeded FrameSource into the switches
 * of the fuzzing fabric, each at the switch and port Delivery picks, with virtual time moving
 * between frames. Counts depend only on the seed and the frame count.
 */
export async function fuzzProgram(program: string, frames: number, seed: number): Promise<ProgramFuzzResult> {
  const { world, switches, clock } = await buildWorld({ program, seed });
  const sim = clock as SimClock;
  const rng = createRng(seed).fork(`fuzz:${program}`);
  const source = new FrameSource(world, rng.fork('frames'));
  const delivery = new Delivery(world.topology, rng.fork('delivery'));
  const tally = new OutcomeTally();
  const probes = world.topology.switches.map((name) => new OutcomeProbe(switches.get(name)!, tally));
  const byClass = Object.fromEntries(FRAME_CLASSES.map((c) => [c, 0])) as Record<FrameClass, number>;
  const tick = (): void => {};
  const start = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) {
    const f = source.next();
    byClass[f.class]++;
    const [sw, port] = delivery.place(f.frame, f.exact);
    sim.setTimer(rng.int(MAX_GAP_NS), tick);
    sim.step();
    probes[sw]!.process(f.frame, port);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { program, frames, byClass, copies: tally.copies, outcomes: tally.sorted(), exceptions: tally.exceptions, samples: tally.samples, seconds };
}

export const FUZZ_PROGRAMS: readonly string[] = PROGRAM_NAMES;
