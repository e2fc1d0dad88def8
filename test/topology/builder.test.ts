import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/topology/address-plan.js';
import { TopologyBuilder } from '../../src/topology/builder.js';
import { attachmentOf, hostsOf, linksOf, nodeByName, portToward } from '../../src/topology/types.js';

describe('TopologyBuilder', () => {
  it('numbers ports per node in link order, from 0', () => {
    const t = new TopologyBuilder()
      .addSwitch('a')
      .addSwitch('b')
      .addHost('x')
      .addHost('y')
      .addLink('a', 'b', 'sw')
      .addLink('x', 'b', 'host')
      .addLink('y', 'a', 'host')
      .build();
    expect(t.kind).toBe('custom');
    expect(portToward(t, 'a', 'b')).toBe(0);
    expect(portToward(t, 'b', 'a')).toBe(0);
    expect(portToward(t, 'b', 'x')).toBe(1);
    expect(portToward(t, 'a', 'y')).toBe(1);
    expect(portToward(t, 'x', 'b')).toBe(0);
    expect(nodeByName(t, 'a').ports).toBe(2);
    expect(t.tierKeys).toEqual(['sw', 'host']);
    expect(attachmentOf(t, 'y')).toEqual({ switch: 'a', port: 1 });
    expect(hostsOf(t, 'b')).toEqual(['x']);
    expect(linksOf(t, 'b').map((l) => l.tier)).toEqual(['sw', 'host']);
    // default addresses: loopbacks by switch order, /24s by host-facing switch order
    expect(formatAddress(nodeByName(t, 'a').address)).toBe('10.255.0.1');
    expect(formatAddress(nodeByName(t, 'b').address)).toBe('10.255.0.2');
    expect(formatAddress(nodeByName(t, 'y').address)).toBe('10.0.0.1');
    expect(formatAddress(nodeByName(t, 'x').address)).toBe('10.0.1.1');
  });

  it('rejects what would make forwarding ambiguous', () => {
    expect(() => new TopologyBuilder().addSwitch('a').addSwitch('a')).toThrow(/duplicate/);
    expect(() => new TopologyBuilder().addSwitch('a').addLink('a', 'a', 't')).toThrow(/itself/);
    expect(() => new TopologyBuilder().addSwitch('a').addLink('a', 'b', 't')).toThrow(/unknown node "b"/);
    expect(() => new TopologyBuilder().addSwitch('a').addSwitch('b').addLink('a', 'b', 't').addLink('b', 'a', 't')).toThrow(/second link/);
    expect(() => new TopologyBuilder().addHost('x').addHost('y').addLink('x', 'y', 't')).toThrow(/between hosts/);
    expect(() => new TopologyBuilder().addHost('x').addSwitch('a').addSwitch('b').addLink('x', 'a', 't').addLink('x', 'b', 't')).toThrow(/one link/);
    expect(() => new TopologyBuilder().addHost('x').addSwitch('a').build()).toThrow(/no link/);
    expect(() =>
      new TopologyBuilder().addSwitch('a', 'switch', { address: 1 }).addSwitch('b', 'switch', { address: 1 }).build(),
    ).toThrow(/share address/);
  });
});
