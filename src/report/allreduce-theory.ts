import type { AllreduceResult } from './types.js';

/*
 * The theory the table's "vs ring" lines hold a measurement against. When every worker's link
 * to its switch is the bottleneck (the bandwidth term of the alpha-beta model), a ring worker
 * sends 2(N-1)/N x S bytes of payload per all-reduce (2(N-1) steps of S/N), an in-network
 * worker sends S (its contribution; the sum comes back on the other direction of the same
 * full-duplex link), so the in-network run is 2(N-1)/N times faster.
 *
 * Frames carry more than payload (headers, the ring's ACKs, SwitchML's float32 exponent
 * round), and not alike: with efficiency = payload bytes / bytes sent, the ratio to expect is
 * 2(N-1)/N x efficiency(in-network) / efficiency(ring), which is the ring's bytes sent over the
 * in-network run's. A measurement off that corrected value is the emulator's or the
 * protocol's doing (latency, windows, retransmissions), not header cost.
 */

/** Algorithms whose workers send their tensor once and get the sum back from the switches. */
const IN_NETWORK: ReadonlySet<string> = new Set(['switchml', 'sharp']);

/** 2(N-1)/N: how much faster in-network aggregation is than the ring on the same host links. */
export const ringVsInNetwork = (workers: number): number => (2 * (workers - 1)) / workers;

/** Payload bytes one worker must send per all-reduce, by algorithm (null: no model for it). */
export function payloadBytesPerWorker(r: Pick<AllreduceResult, 'algorithm' | 'workers' | 'bytes' | 'fallback'>): number | null {
  if (r.fallback) return null;
  if (r.algorithm === 'ring') return ringVsInNetwork(r.workers) * r.bytes;
  if (IN_NETWORK.has(r.algorithm)) return r.bytes;
  return null;
}

/** Payload bytes over bytes sent, per worker (null when unknown or nothing was sent). */
export function payloadEfficiency(r: AllreduceResult): number | null {
  const payload = payloadBytesPerWorker(r);
  return payload === null || r.bytesSentPerWorker <= 0 ? null : payload / r.bytesSentPerWorker;
}

export interface RingComparison {
  /** ring time over this run's time; null when either took no time (unshaped links in sim) */
  speedup: number | null;
  /** 2(N-1)/N when the run is in-network and the baseline the ring, else null */
  theory: number | null;
  /** theory x this run's payload efficiency / the ring's */
  corrected: number | null;
  ringEfficiency: number | null;
  efficiency: number | null;
}

/** `r` held against its job's ring run. */
export function compareWithRing(ring: AllreduceResult, r: AllreduceResult): RingComparison {
  const speedup = ring.timeSec > 0 && r.timeSec > 0 ? ring.timeSec / r.timeSec : null;
  const applies = ring.algorithm === 'ring' && !ring.fallback && !r.fallback && IN_NETWORK.has(r.algorithm) && ring.workers === r.workers;
  const theory = applies ? ringVsInNetwork(r.workers) : null;
  const ringEfficiency = payloadEfficiency(ring);
  const efficiency = payloadEfficiency(r);
  const corrected = theory !== null && ringEfficiency !== null && efficiency !== null ? (theory * efficiency) / ringEfficiency : null;
  return { speedup, theory, corrected, ringEfficiency, efficiency };
}
