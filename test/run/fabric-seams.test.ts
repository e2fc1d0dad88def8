/** The fabric's seams: where link ends come from (a link provider) and taps on ports. */
import { describe, expect, it } from 'vitest';
import l3 from '../../pipelines/l3.js';
import type { PortTap } from '../../src/net/port-tap.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { SimTransport } from '../../src/net/sim-transport.js';
import { Fabric, type LinkProvider } from '../../src/run/fabric.js';
import { starTopology } from '../../src/topology/star.js';
import { makeFrame } from '../../src/wire/common-header.js';

describe('fabric seams', () => {
  it('taps a node\'s ports: the frames a host sends through the switch are seen arriving there', async () => {
    const topology = starTopology(2);
    const seen: string[] = [];
    const tap = (node: string, port: number): PortTap | undefined =>
      node === topology.switches[0] ? { received: (name) => void seen.push(`${node}:${port} ${name}`) } : undefined;
    const f = await Fabric.build({ topology, mode: 'sim', seed: 1, links: {}, program: l3, tap });
    const [h0, h1] = [...f.hosts.values()];
    let got = 0;
    h1!.bind(17, () => got++);
    h0!.send(makeFrame({ protocol: 17, src: h0!.address, dst: h1!.address }, 8));
    (f.clock as SimClock).runAll();
    expect(got).toBe(1);
    expect(seen.length).toBe(1);
    await f.close();
  });

  it('takes its link ends from a link provider placed over processes, and closes it with the fabric', async () => {
    const topology = starTopology(2);
    const t = new SimTransport();
    const asked: string[] = [];
    let closed = 0;
    const links: LinkProvider = {
      link: (spec, index, [a, b]) => {
        asked.push(`${index} ${spec.a}-${spec.b} ${a} ${b}`);
        return t.link(a, b);
      },
      close: async () => void closed++,
    };
    const placement = { local: new Set(topology.nodes.map((n) => n.name)), links, shaping: 'software' as const };
    const f = await Fabric.build({ topology, mode: 'udp', seed: 1, links: {}, program: l3, placement });
    expect(asked.length).toBe(topology.links.length);
    expect(asked[0]).toMatch(/^0 /);
    await f.close();
    expect(closed).toBe(1);
  });
});
