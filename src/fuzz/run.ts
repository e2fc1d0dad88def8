import { fuzzProgram, FUZZ_PROGRAMS, type ProgramFuzzResult } from './in-process.js';
import { fuzzProgramOverUdp, type UdpFuzzResult } from './udp.js';
import type { ExceptionSample } from './outcomes.js';

export interface FuzzOptions {
  /** frames per program, in-process */
  readonly frames: number;
  readonly seed: number;
  readonly programs?: readonly string[];
  /** frames per program through a switch over UDP; 0: no UDP run */
  readonly udpFrames?: number;
  readonly host?: string;
  readonly onProgress?: (label: string, fraction: number) => void;
}

export interface FuzzReport {
  readonly fuzz: 1;
  readonly seed: number;
  readonly programs: readonly string[];
  readonly inProcess: {
    readonly frames: number;
    readonly framesPerSec: number;
    readonly exceptions: number;
    /** every frame has exactly one outcome: their sum is `frames` */
    readonly accounted: boolean;
    readonly outcomes: Record<string, number>;
    readonly byProgram: readonly ProgramFuzzResult[];
  };
  readonly udp: null | {
    readonly sent: number;
    readonly frames: number;
    readonly lostInKernel: number;
    readonly framesPerSec: number;
    readonly exceptions: number;
    readonly socketErrors: number;
    readonly accounted: boolean;
    readonly outcomes: Record<string, number>;
    readonly byProgram: readonly UdpFuzzResult[];
  };
  readonly samples: readonly ExceptionSample[];
}

function merge(rs: readonly { outcomes: Record<string, number> }[]): Record<string, number> {
  const out = new Map<string, number>();
  for (const r of rs) for (const [k, v] of Object.entries(r.outcomes)) out.set(k, (out.get(k) ?? 0) + v);
  return Object.fromEntries([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const sum = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0);
const accounted = (outcomes: Record<string, number>, frames: number): boolean =>
  sum(Object.values(outcomes)) === frames && !outcomes.unaccounted && !outcomes.thrown;

/** Fuzzes every program (or the ones named) in-process, then, if asked, through a switch over UDP. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const programs = o.programs ?? FUZZ_PROGRAMS;
  for (const p of programs) if (!FUZZ_PROGRAMS.includes(p)) throw new Error(`fuzz: unknown program ${p} (programs: ${FUZZ_PROGRAMS.join(', ')})`);
  const inProcess: ProgramFuzzResult[] = [];
  const steps = programs.length * (o.udpFrames ? 2 : 1);
  let step = 0;
  for (const p of programs) {
    o.onProgress?.(`fuzz ${p}`, step++ / steps);
    inProcess.push(await fuzzProgram(p, o.frames, o.seed));
  }
  const udp: UdpFuzzResult[] = [];
  if (o.udpFrames) {
    for (const p of programs) {
      o.onProgress?.(`fuzz ${p} over udp`, step++ / steps);
      udp.push(await fuzzProgramOverUdp(p, o.udpFrames, o.seed, o.host));
    }
  }
  o.onProgress?.('fuzz', 1);
  const frames = sum(inProcess.map((r) => r.frames));
  const outcomes = merge(inProcess);
  const udpFrames = sum(udp.map((r) => r.frames));
  const udpOutcomes = merge(udp);
  const rate = (n: number, rs: readonly { seconds: number }[]): number => Math.round(n / Math.max(1e-9, sum(rs.map((r) => r.seconds))));
  return {
    fuzz: 1,
    seed: o.seed,
    programs,
    inProcess: {
      frames,
      framesPerSec: rate(frames, inProcess),
      exceptions: sum(inProcess.map((r) => r.exceptions)),
      accounted: accounted(outcomes, frames),
      outcomes,
      byProgram: inProcess,
    },
    udp: o.udpFrames
      ? {
          sent: sum(udp.map((r) => r.sent)),
          frames: udpFrames,
          lostInKernel: sum(udp.map((r) => r.lostInKernel)),
          framesPerSec: rate(udpFrames, udp),
          exceptions: sum(udp.map((r) => r.exceptions)),
          socketErrors: sum(udp.map((r) => r.socketErrors)),
          accounted: accounted(udpOutcomes, udpFrames),
          outcomes: udpOutcomes,
          byProgram: udp,
        }
      : null,
    samples: [...inProcess, ...udp].flatMap((r) => r.samples).slice(0, 10),
  };
}

/** The report passes: no exception anywhere, every frame accounted for. */
export function fuzzPassed(r: FuzzReport): boolean {
  const ip = r.inProcess.exceptions === 0 && r.inProcess.accounted;
  const u = r.udp === null || (r.udp.exceptions === 0 && r.udp.socketErrors === 0 && r.udp.accounted);
  return ip && u;
}
