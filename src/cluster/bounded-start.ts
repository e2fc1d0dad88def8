/**
 * Starting many nodes a few at a time. A node process spends its first second or so loading
 * code and building its fabric, all CPU; starting 36 of them at once on two cores makes every
 * one of them late, and the slowest may miss the ready timeout. With a bound, the first nodes
 * are ready early and each start has the machine mostly to itself.
 */
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';

/** Starts under way at once by default: two per core, so one waiting on I/O leaves the core busy. */
export const defaultStartConcurrency = (): number => Math.max(2, 2 * availableParallelism());

/**
 * Runs `start` for every item, at most `concurrency` under way at once; a start is under way
 * until its promise settles. The first failure stops the starts not yet begun and is thrown.
 */
export async function startBounded<T>(items: readonly T[], concurrency: number, start: (item: T) => Promise<void>): Promise<void> {
  const queue = new PQueue({ concurrency });
  let failed = false;
  const startOne = async (item: T): Promise<void> => {
    if (failed) return;
    try {
      await start(item);
    } catch (e) {
      // before the queue hands the freed slot to the next item
      failed = true;
      queue.clear();
      throw e;
    }
  };
  await Promise.all(items.map((item) => queue.add(() => startOne(item))));
}
