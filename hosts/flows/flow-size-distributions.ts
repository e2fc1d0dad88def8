/**
 * Flow-size distributions of the load-balancing literature, as data: (bytes, cumulative
 * probability) points, sampled by inverse transform with linear interpolation between points
 * (as the ns-3 / htsim traffic generators that ship these tables do).
 *
 * websearch — the web-search workload measured in a production cluster by DCTCP
 *   (M. Alizadeh et al., "Data Center TCP (DCTCP)", SIGCOMM 2010, Fig. 4), used by pFabric,
 *   CONGA, HULA, LetFlow, DRILL and HPCC. Points as tabulated in HPCC's traffic generator,
 *   alibaba-edu/High-Precision-Congestion-Control, traffic_gen/WebSearch_distribution.txt
 *   (percentages there, fractions here).
 *
 * datamining — the data-mining workload measured by VL2 (A. Greenberg et al., "VL2: A Scalable
 *   and Flexible Data Center Network", SIGCOMM 2009, Fig. 2), used by pFabric, CONGA (Fig. 8),
 *   HULA and DRILL. Points as tabulated in TritonNetworking/opera-sim,
 *   Figure1_traffic/datamining.csv.
 */
export type CdfPoint = readonly [bytes: number, cdf: number];

export const WEBSEARCH_CDF: readonly CdfPoint[] = [
  [0, 0],
  [10_000, 0.15],
  [20_000, 0.2],
  [30_000, 0.3],
  [50_000, 0.4],
  [80_000, 0.53],
  [200_000, 0.6],
  [1_000_000, 0.7],
  [2_000_000, 0.8],
  [5_000_000, 0.9],
  [10_000_000, 0.97],
  [30_000_000, 1],
];

export const DATAMINING_CDF: readonly CdfPoint[] = [
  [100, 0],
  [180, 0.085],
  [250, 0.14],
  [560, 0.33],
  [900, 0.47],
  [1_100, 0.55],
  [1_870, 0.65],
  [3_160, 0.7],
  [10_000, 0.8],
  [100_001, 0.874],
  [400_000, 0.9],
  [1_850_000, 0.95],
  [10_000_000, 0.97],
  [30_000_000, 0.98],
  [100_000_000, 0.99],
  [250_000_000, 0.995],
  [1_000_000_000, 1],
];

export const DISTRIBUTIONS = { websearch: WEBSEARCH_CDF, datamining: DATAMINING_CDF } as const;

/** The size at cumulative probability u in [0, 1) (linear between points), at least 1 byte. */
export function sampleCdf(cdf: readonly CdfPoint[], u: number): number {
  for (let i = 1; i < cdf.length; i++) {
    const [x1, c1] = cdf[i]!;
    if (u < c1 || i === cdf.length - 1) {
      const [x0, c0] = cdf[i - 1]!;
      const t = c1 > c0 ? Math.min(1, Math.max(0, (u - c0) / (c1 - c0))) : 1;
      return Math.max(1, Math.round(x0 + t * (x1 - x0)));
    }
  }
  return Math.max(1, cdf[cdf.length - 1]![0]);
}

/** The mean of the piecewise-linear distribution. */
export function meanOfCdf(cdf: readonly CdfPoint[]): number {
  let m = 0;
  for (let i = 1; i < cdf.length; i++) {
    const [x0, c0] = cdf[i - 1]!;
    const [x1, c1] = cdf[i]!;
    m += (c1 - c0) * ((x0 + x1) / 2);
  }
  return m;
}
