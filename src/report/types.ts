/** The JSON report, contract v1 (see README). Extra fields are additions, never renames. */
export interface Report {
  version: 1;
  scenario: string;
  mode: 'sim' | 'udp';
  seed: number;
  topology: { kind: string; switches: string[]; hosts: string[]; links: number };
  runs: RunResult[];
  links: LinkReport[];
  switches: SwitchReport[];
}

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface PingallResult {
  workload: 'pingall';
  pairs: number;
  sent: number;
  received: number;
  rttUs: Percentiles & { mean: number; max: number };
  mismatched: number;
  late: number;
  /** requests with no matching reply in time: sent - received */
  lost: number;
  /** requests beyond `count`, sent by pairs still unanswered (lossy links only) */
  retries: number;
  /** ordered pairs that never answered */
  unanswered: number;
  /** the rule `correct` applies, in words */
  criterion: string;
  correct: boolean;
}

export interface AllreduceResult {
  workload: 'allreduce';
  algorithm: string;
  workers: number;
  bytes: number;
  dtype: 'float32' | 'int32';
  iterations: number;
  timeSec: number;
  timesSec: number[];
  /** S/t in Gbit/s (contract v1) */
  algbwGbps: number;
  /** algbw x 2(N-1)/N in Gbit/s, as nccl-tests defines bus bandwidth */
  busbwGbps: number;
  /** the same in GB/s (10^9 bytes per second), nccl-tests' unit (contract v2) */
  algbwGBps: number;
  busbwGBps: number;
  bytesSentPerWorker: number;
  retransmissions: number;
  correct: boolean;
  maxAbsError: number;
  errorBound: number;
  fallback: string | null;
  tierBytes: Record<string, number>;
  [extra: string]: unknown;
}

export interface GenericResult {
  workload: string;
  correct: boolean;
  [field: string]: unknown;
}

export type RunResult = PingallResult | AllreduceResult | GenericResult;

export interface LinkReport {
  a: string;
  b: string;
  bytes: { ab: number; ba: number };
  packets: { ab: number; ba: number };
  drops: { ab: number; ba: number };
  lost: { ab: number; ba: number };
  ecnMarked: { ab: number; ba: number };
  maxQueueBytes: { ab: number; ba: number };
}

export interface SwitchReport {
  name: string;
  program: string;
  packetsIn: number;
  packetsOut: number;
  /** spoofed: frames the edge's source guard refused (a host port, another host's address); counted in table too */
  drops: { parser: number; table: number; queue: number; passes: number; error: number; spoofed: number };
  /** packets the program absorbed on purpose (aggregated contributions); not drops */
  consumed: number;
  parserErrors: Record<string, number>;
  /** aggregating programs (switchml, sharp): contributions refused, by reason; counted in drops.table too */
  aggregation?: AggregationDrops;
}

/** Why an aggregation switch refused a frame addressed to it (contract v2 names). */
export interface AggregationDrops {
  unknownWorker: number;
  badSlot: number;
  malformed: number;
  duplicate: number;
  stale: number;
  /** a job member's address arriving on a port that is not on its path */
  spoofed: number;
}

/** Percentile by nearest rank on a copy of the samples (0 when there are none). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

/** Rounds for stable, readable JSON (sim reports must be byte-identical across runs anyway). */
export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
