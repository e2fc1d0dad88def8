/**
 * CONGA's overlay fields (Alizadeh et al., SIGCOMM 2014, §3.2), carried in the common header's
 * reserved congestion-signalling bytes instead of a VXLAN header:
 *   flags bit FLAG_CONGA  the overlay is valid (set by the source leaf, cleared by the
 *                         destination leaf before the frame reaches its host)
 *   pathTag               LBTag: the source leaf's uplink port the frame took
 *   congestion            CE: the path's congestion metric, max-updated at every hop
 *   feedback              FB_LBTag and FB_Metric piggybacked for the reverse direction:
 *                         bits 0..7 tag, bits 8..10 metric, bit 15 valid
 */
export const FLAG_CONGA = 0x80;

/** metrics are quantized to Q = 3 bits, as in the paper */
export const CONGA_METRIC_BITS = 3;
export const CONGA_METRIC_MAX = (1 << CONGA_METRIC_BITS) - 1;

const FB_VALID = 0x8000;

export function encodeFeedback(tag: number, metric: number): number {
  return FB_VALID | ((metric & CONGA_METRIC_MAX) << 8) | (tag & 0xff);
}

export function feedbackValid(fb: number): boolean {
  return (fb & FB_VALID) !== 0;
}

export function feedbackTag(fb: number): number {
  return fb & 0xff;
}

export function feedbackMetric(fb: number): number {
  return (fb >>> 8) & CONGA_METRIC_MAX;
}
