/**
 * What pingall promises, stated once: the rule its verdict applies, with the numbers it used,
 * so the report says which rule held or failed.
 *
 * Lossless links: every request is answered. Lossy links: a lost ping proves nothing, but a
 * pair that never answers does, so every ordered pair must answer at least once; a pair still
 * unanswered after its `count` requests keeps asking, up to a budget chosen so that links
 * losing only what they are configured to lose fail the rule with probability below 1e-6. And
 * no more requests may be lost than the configured loss explains: a request crosses at most
 * `roundTripLinks` links, each losing at most `maxLoss`, so it is lost with probability at
 * most p = 1 - (1 - maxLoss)^roundTripLinks, and more than n·p + Z·sqrt(n·p·(1-p)) losses out
 * of n is loss the links were not asked for (drops in the switches, misrouting).
 * Either way, every reply must match its request.
 */

/** Chance, per run, that correctly-behaving lossy links fail the rule by bad luck. */
const FALSE_FAILURE = 1e-6;
/** the one-sided normal quantile of FALSE_FAILURE, plus room for the approximation */
const Z = 5;
/** More requests than this per pair cost too long over UDP (each lost one waits its timeout). */
export const MAX_REQUESTS_PER_PAIR = 200;

export interface PingPlan {
  readonly count: number;
  /** requests per pair beyond `count`, sent only while the pair is unanswered */
  readonly retries: number;
  readonly maxLoss: number;
  readonly roundTripLinks: number;
  /** the most a request can be lost with, given the links' loss rates */
  readonly requestLoss: number;
}

export interface PingTotals {
  readonly sent: number;
  readonly received: number;
  readonly mismatched: number;
  readonly unanswered: number;
}

/** The plan for `pairs` ordered pairs, `count` requests each, on links losing at most `maxLoss`. */
export function pingPlan(pairs: number, count: number, maxLoss: number, roundTripLinks: number): PingPlan {
  if (maxLoss <= 0) return { count, retries: 0, maxLoss: 0, roundTripLinks, requestLoss: 0 };
  const answered = (1 - Math.min(maxLoss, 1)) ** roundTripLinks;
  const needed = answered <= 0 ? Infinity : Math.ceil(Math.log(FALSE_FAILURE / Math.max(1, pairs)) / Math.log(1 - answered));
  const requests = Math.max(count, Math.min(MAX_REQUESTS_PER_PAIR, needed));
  return { count, retries: requests - count, maxLoss, roundTripLinks, requestLoss: 1 - answered };
}

/** The most requests of `sent` the configured loss explains. */
export function explainedLoss(plan: PingPlan, sent: number): number {
  const p = plan.requestLoss;
  return Math.min(sent, Math.ceil(sent * p + Z * Math.sqrt(sent * p * (1 - p))));
}

/** The verdict under the plan, and the rule it applied in words. */
export function pingVerdict(plan: PingPlan, t: PingTotals): { correct: boolean; criterion: string } {
  const matching = 'every reply matching its request';
  if (plan.maxLoss <= 0) {
    return { correct: t.mismatched === 0 && t.received === t.sent, criterion: `every request answered, ${matching}` };
  }
  const requests = plan.count + plan.retries;
  const allowed = explainedLoss(plan, t.sent);
  const percent = Math.round(plan.maxLoss * 1000) / 10;
  const criterion =
    `every ordered pair answered at least once in up to ${requests} requests` +
    (plan.retries > 0 ? ` (${plan.count} + up to ${plan.retries} while unanswered)` : '') +
    `, at most ${allowed} of ${t.sent} requests lost (links losing up to ${percent} % each, ${plan.roundTripLinks} per round trip), ${matching}`;
  return { correct: t.mismatched === 0 && t.unanswered === 0 && t.sent - t.received <= allowed, criterion };
}
