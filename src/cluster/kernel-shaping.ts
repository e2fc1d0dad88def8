import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { LinkConfig } from '../net/link-shaper.js';

/**
 * Link emulation by the kernel, the way Mininet's TCLink does it: a token bucket (tbf) for the
 * rate with the link's queue as its limit, and netem under it for delay, jitter, loss,
 * reordering and duplication. Applied by each node to its own side of each link (egress), so
 * the same code serves network namespaces and containers (with CAP_NET_ADMIN).
 *
 * Differences from the software shaper, documented in the README: netem reorders only frames
 * it delays, so a reordering link without delay gets REORDER_DELAY_US; ECN marking is not done.
 */
export const REORDER_DELAY_US = 50;
/** How a node's links are shaped when its kernel has no netem (see shapeInterface). */
export const KERNEL_WITHOUT_NETEM = 'kernel rate (tbf); delay, jitter, loss, reordering, duplication in software (no netem in this kernel)';
/** bytes of one jumbo frame: the bucket must hold at least one */
const MIN_BURST_BYTES = 9216;

export function needsShaping(c: LinkConfig): boolean {
  return c.rateGbps > 0 || c.delayUs > 0 || c.jitterUs > 0 || c.lossRate > 0 || c.reorderRate > 0 || c.duplicateRate > 0;
}

function pct(x: number): string {
  return `${+(x * 100).toPrecision(6)}%`;
}

/** Whether a link asks for more than a rate: what only netem does in the kernel. */
export function needsNetem(c: LinkConfig): boolean {
  return c.delayUs > 0 || c.jitterUs > 0 || c.lossRate > 0 || c.reorderRate > 0 || c.duplicateRate > 0;
}

/**
 * The tc commands (argument lists, without `tc`) that shape egress of `dev` like `c`; with
 * `netem` false only the rate (for kernels built without netem: the rest is left to software).
 */
export function tcCommands(dev: string, c: LinkConfig, netemToo = true): string[][] {
  if (!needsShaping(c)) return [];
  const netem: string[] = [];
  if (!netemToo) c = { ...c, delayUs: 0, jitterUs: 0, lossRate: 0, reorderRate: 0, duplicateRate: 0 };
  if (!needsShaping(c)) return [];
  const delay = c.delayUs > 0 ? c.delayUs : c.reorderRate > 0 || c.jitterUs > 0 ? REORDER_DELAY_US : 0;
  if (delay > 0) {
    netem.push('delay', `${delay}us`);
    if (c.jitterUs > 0) netem.push(`${c.jitterUs}us`);
  }
  if (c.lossRate > 0) netem.push('loss', pct(c.lossRate));
  if (c.reorderRate > 0) netem.push('reorder', pct(c.reorderRate));
  if (c.duplicateRate > 0) netem.push('duplicate', pct(c.duplicateRate));
  const cmds: string[][] = [];
  if (c.rateGbps > 0) {
    const bytesPerMs = (c.rateGbps * 1e9) / 8 / 1000;
    const burst = Math.max(MIN_BURST_BYTES, Math.ceil(bytesPerMs));
    // tc takes whole numbers: at least 1 bit/s, and a finite queue (2^31 - 1 bytes at most)
    const limit = Math.min(2 ** 31 - 1, Math.max(Number.isFinite(c.queueBytes) ? Math.ceil(c.queueBytes) : Infinity, burst));
    cmds.push(['qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'tbf', 'rate', `${Math.max(1, Math.round(c.rateGbps * 1e9))}bit`, 'burst', String(burst), 'limit', String(limit)]);
    if (netem.length > 0) cmds.push(['qdisc', 'replace', 'dev', dev, 'parent', '1:1', 'handle', '10:', 'netem', 'limit', '100000', ...netem]);
  } else {
    cmds.push(['qdisc', 'replace', 'dev', dev, 'root', 'handle', '10:', 'netem', 'limit', '100000', ...netem]);
  }
  return cmds;
}

/**
 * What the kernel dropped on an interface's egress so far: `queue` by tbf (its queue was
 * full), `wire` by netem (random loss). Zeros when tc cannot say (no qdisc, no tc).
 */
export function qdiscDrops(dev: string): { queue: number; wire: number } {
  const out = { queue: 0, wire: 0 };
  let qdiscs: Array<{ kind?: string; drops?: number }>;
  try {
    qdiscs = JSON.parse(execFileSync('tc', ['-s', '-j', 'qdisc', 'show', 'dev', dev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return out;
  }
  for (const q of qdiscs) {
    if (q.kind === 'tbf') out.queue += q.drops ?? 0;
    else if (q.kind === 'netem') out.wire += q.drops ?? 0;
  }
  return out;
}

/** The interface that carries an IPv4 address, or null. */
export function interfaceWithAddress(ip: string): string | null {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => a.address === ip)) return name;
  }
  return null;
}

/** Waits (polling) until every address is configured on some interface; names the missing. */
export async function waitForAddresses(ips: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const missing = ips.filter((ip) => interfaceWithAddress(ip) === null);
    if (missing.length === 0) return;
    if (Date.now() >= until) throw new Error(`link addresses ${missing.join(', ')} are not configured on any interface after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function tc(dev: string, ip: string, args: readonly string[]): void {
  try {
    execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    throw new Error(`kernel shaping of ${dev} (${ip}): tc ${args.join(' ')}: ${err}`);
  }
}

/**
 * Shapes egress of the interface carrying `ip` like `config`. Some kernels are built without
 * netem (CONFIG_NET_SCH_NETEM unset, as on the Firecracker VMs this project is tested on):
 * then only the rate is the kernel's and the result says `netem: false`, so the caller
 * emulates delay, jitter, loss, reordering and duplication in software. Any other tc
 * failure throws with tc's message.
 */
export function shapeInterface(ip: string, config: LinkConfig): { dev: string; netem: boolean } {
  const dev = interfaceWithAddress(ip);
  if (dev === null) throw new Error(`kernel shaping: no interface carries ${ip}`);
  try {
    for (const args of tcCommands(dev, config)) tc(dev, ip, args);
    return { dev, netem: true };
  } catch (e) {
    if (!needsNetem(config) || !/qdisc kind is unknown|Unknown qdisc "netem"/i.test((e as Error).message)) throw e;
  }
  for (const args of tcCommands(dev, config, false)) tc(dev, ip, args);
  return { dev, netem: false };
}
