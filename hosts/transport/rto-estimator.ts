/** What an RtoEstimator needs to know: the bounds of the RTO and the clock's granularity. */
export interface RtoPolicy {
  /** RTO before the first RTT sample */
  readonly initialRtoNs: number;
  readonly minRtoNs: number;
  /** cap of the RTO, back-off included */
  readonly maxRtoNs: number;
  /** the clock's timer granularity (RFC 6298's G) */
  readonly granularityNs: number;
  /** the RTO is at least this many smoothed RTTs */
  readonly rtoSrtts: number;
  /** least reordering window (RACK): frames sent this much before a delivered one are lost */
  readonly minReorderWindowNs: number;
}

/**
 * Smoothed RTT and RTO per RFC 6298 (alpha 1/8, beta 1/4, K 4), with the RTO also at least
 * `rtoSrtts` smoothed RTTs: the one estimator of every sender on a host (the reliable stream's
 * and the aggregation worker's). RTT samples come many per window from queues that are mostly
 * FIFO backlogs, so in virtual time they can be perfectly steady (rttvar decays to 0) and then
 * step up by a window's worth of queueing when a neighbour's backlog lands in front of them:
 * the srtt floor covers such a step without a spurious timeout (its size is the sender's
 * policy: see reliabilityPolicy and the aggregation client's srttMargin).
 */
export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  minRtt = Infinity;
  rto: number;
  samples = 0;

  constructor(private readonly p: RtoPolicy) {
    this.rto = p.initialRtoNs;
  }

  /** Forgets every sample: the RTO is the initial one again. */
  reset(): void {
    this.srtt = 0;
    this.rttvar = 0;
    this.minRtt = Infinity;
    this.rto = this.p.initialRtoNs;
    this.samples = 0;
  }

  sample(r: number): void {
    if (this.samples++ === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      const d = this.srtt - r;
      this.rttvar = 0.75 * this.rttvar + 0.25 * (d < 0 ? -d : d);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    if (r < this.minRtt) this.minRtt = r;
    const v = 4 * this.rttvar;
    let rto = this.srtt + (v > this.p.granularityNs ? v : this.p.granularityNs);
    const floor = this.p.rtoSrtts * this.srtt;
    if (rto < floor) rto = floor;
    this.rto = rto < this.p.minRtoNs ? this.p.minRtoNs : rto > this.p.maxRtoNs ? this.p.maxRtoNs : rto;
  }

  /**
   * RFC 6298 (5.5): doubles the RTO itself, capped, for a sender that backs off its estimate
   * when timeouts leave it no valid sample (Karn's rule), rather than counting timeouts in a row
   */
  backOff(): void {
    const t = this.rto * 2;
    this.rto = t < this.p.maxRtoNs ? t : this.p.maxRtoNs;
  }

  /** the RTO doubled `times` times, capped */
  backoff(times: number): number {
    const t = this.rto * (times > 0 ? 2 ** Math.min(times, 30) : 1);
    return t < this.p.maxRtoNs ? t : this.p.maxRtoNs;
  }

  /** RACK's reordering window: a quarter of the least RTT seen, at least the policy's floor */
  reorderWindow(): number {
    const w = this.minRtt === Infinity ? 0 : this.minRtt / 4;
    return w > this.p.minReorderWindowNs ? w : this.p.minReorderWindowNs;
  }
}

