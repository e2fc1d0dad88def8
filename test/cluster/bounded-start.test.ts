import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBounded } from '../../src/cluster/bounded-start.js';
import { connectControl, type ControlAddress, type ControlChannel } from '../../src/cluster/control-channel.js';
import { NodeFailure, runUp } from '../../src/cluster/coordinator.js';
import type { NodeLauncher } from '../../src/cluster/launchers.js';
import type { CoordinatorMessage } from '../../src/cluster/messages.js';
import { ScenarioSchema } from '../../src/scenario/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'ina-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startBounded', () => {
  it('never has more than the bound under way, starts the next as soon as one settles, and starts all', async () => {
    const pending: Array<() => void> = [];
    let underWay = 0;
    let most = 0;
    const started: number[] = [];
    const all = startBounded([0, 1, 2, 3, 4, 5, 6], 3, (i) => {
      started.push(i);
      most = Math.max(most, ++underWay);
      return new Promise<void>((resolve) => pending.push(() => (underWay--, resolve())));
    });
    const settle = async (): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    };
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    while (pending.length > 0) await settle();
    await all;
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it('throws the first failure and begins no further start', async () => {
    const started: number[] = [];
    const run = startBounded([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      if (i === 1) throw new Error('node 1 would not start');
      await new Promise<void>(() => {}); // node 0 never settles: its slot stays taken
    });
    await expect(run).rejects.toThrow('node 1 would not start');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
  });
});

/**
 * A launcher whose nodes are fakes speaking the control protocol in this process: each says
 * hello, takes its config and reports ready a moment later. It counts the nodes started and not
 * yet ready, which is what the coordinator bounds.
 */
function fakeLauncher(opts: { failing?: string } = {}) {
  const channels: ControlChannel[] = [];
  const stats = { started: [] as string[], starting: 0, mostStarting: 0 };
  const launcher: NodeLauncher = {
    kind: 'process',
    addressing: { kind: 'links' },
    shaping: 'software',
    async prepare() {},
    startNode(node: string, control: ControlAddress, exited: (node: string, how: string) => void) {
      stats.started.push(node);
      stats.mostStarting = Math.max(stats.mostStarting, ++stats.starting);
      if (node === opts.failing) {
        setImmediate(() => exited(node, 'exited with code 1: cannot bind'));
        return;
      }
      void connectControl(control, 5000).then((ch) => {
        channels.push(ch);
        ch.onMessage((raw) => {
          const m = raw as CoordinatorMessage;
          if (m.t === 'config') {
            setTimeout(() => {
              stats.starting--;
              ch.send({ t: 'ready', node, shaping: 'software' });
            }, 5);
          }
          // every node is up: end the run here, before any workload needs a real node
          if (m.t === 'start' && node === 'h0') ch.send({ t: 'fatal', message: 'fake nodes run no workload' });
        });
        ch.send({ t: 'hello', node, pid: process.pid });
      });
    },
    async stop() {
      for (const ch of channels) ch.close();
    },
    stopNow() {},
  };
  return { launcher, stats };
}

describe('the coordinator starts nodes a few at a time', () => {
  // a star of 11 hosts: 12 nodes
  const scenario = ScenarioSchema.parse({ name: 'bounded', topology: { kind: 'star', hosts: 11 } });

  it('no more than startConcurrency nodes are started and not yet ready, and every node is started', async () => {
    const { launcher, stats } = fakeLauncher();
    const listen: ControlAddress = { kind: 'unix', path: join(dir, 'a.sock') };
    await expect(runUp({ scenario, launcher, listen, startConcurrency: 3 })).rejects.toThrow(new NodeFailure('node h0: fake nodes run no workload'));
    expect(stats.started).toHaveLength(12);
    expect(stats.mostStarting).toBe(3);
  });

  it('a node that dies while starting ends the run with its name, and the nodes after it are not started', async () => {
    const { launcher, stats } = fakeLauncher({ failing: 'h1' });
    const listen: ControlAddress = { kind: 'unix', path: join(dir, 'b.sock') };
    await expect(runUp({ scenario, launcher, listen, startConcurrency: 2 })).rejects.toThrow('node h1 exited with code 1: cannot bind');
    expect(stats.started.length).toBeLessThan(12);
  });
});
