/** Address maps: what `ina addresses` prints is what `--addressing map:FILE` reads back. */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { addressMapOf, AddressMapError, loadAddressMap } from '../../src/cluster/address-map.js';
import { endpointAddress } from '../../src/cluster/link-addresses.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import { ina, scratch } from '../cli/helpers.js';

const files = scratch('addrmap');
afterAll(() => files.cleanup());

const topo = buildTopology({ kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 });

function write(map: Record<string, string>): string {
  return files.write(`m${Math.random().toString(36).slice(2)}.yaml`, Object.entries(map).map(([k, v]) => `${k}: "${v}"`).join('\n') + '\n');
}

describe('address maps', () => {
  it("a plan's map, written and read back, puts every link end where the plan does (every fabric variant too)", () => {
    for (const plan of [{ kind: 'links' as const }, { kind: 'loopback' as const, basePort: 41000 }]) {
      const back = loadAddressMap(write(addressMapOf(topo, plan)), topo);
      topo.links.forEach((_, i) => {
        for (const side of ['a', 'b'] as const) {
          expect(endpointAddress(back, i, side)).toEqual(endpointAddress(plan, i, side));
          if (plan.kind === 'loopback') expect(endpointAddress(back, i, side, 3, topo.links.length)).toEqual(endpointAddress(plan, i, side, 3, topo.links.length));
        }
      });
    }
  });

  it('a map missing an end, naming an unknown end, with a bad value or an address used twice is refused, naming the key', () => {
    const good = addressMapOf(topo, { kind: 'loopback', basePort: 42000 });
    const [first, second] = Object.keys(good);
    const { [first!]: _gone, ...missing } = good;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [missing, new RegExp(`${first}: missing`)],
      [{ ...good, 'h9:0': '127.0.0.1:1' }, /h9:0: no such link end/],
      [{ ...good, [first!]: 'nowhere' }, new RegExp(`${first}: expected host:port, got "nowhere"`)],
      [{ ...good, [second!]: good[first!]! }, new RegExp(`${second}: 127\\.0\\.0\\.1:\\d+ is also ${first}'s`)],
    ];
    for (const [map, msg] of cases) {
      const f = write(map);
      expect(() => loadAddressMap(f, topo)).toThrow(AddressMapError);
      expect(() => loadAddressMap(f, topo)).toThrow(msg);
    }
    const notMap = files.write('list.yaml', '- a\n- b\n');
    expect(() => loadAddressMap(notMap, topo)).toThrow(/expected a mapping of node:port to host:port/);
  });

  it('ina addresses prints a map; ina up --mode attach runs with nodes placed by it', async () => {
    const scenario = files.write('s.yaml', 'name: mapped\ntopology: { kind: star, hosts: 2 }\nworkloads:\n  - kind: pingall\n  - kind: allreduce\n    algorithms: [ring, switchml]\n    bytes: 4000\n    dtype: int32\n    iterations: 1\n');
    const base = 43000 + Math.floor(Math.random() * 10000);
    const printed = await ina(['addresses', scenario, '--addressing', `loopback:${base}`]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(new RegExp(`^h0:0: "127\\.0\\.0\\.1:${base}"$`, 'm'));
    const mapFile = files.write('map.yaml', printed.stdout);
    const port = 30000 + Math.floor(Math.random() * 10000);
    const up = ina(['up', scenario, '--mode', 'attach', '--listen', `tcp:127.0.0.1:${port}`], { timeoutMs: 60_000 });
    const nodes = ['s0', 'h0', 'h1'].map((n) => ina(['node', '--scenario', scenario, '--node', n, '--control', `tcp:127.0.0.1:${port}`, '--addressing', `map:${mapFile}`], { timeoutMs: 60_000 }));
    const r = await up;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/all runs correct/);
    for (const n of await Promise.all(nodes)) expect(n.code, n.stderr).toBe(0);
  }, 90_000);

  it('ina node with a bad map exits 2 naming the file and key', async () => {
    const scenario = files.write('s2.yaml', 'name: s2\ntopology: { kind: star, hosts: 2 }\nworkloads:\n  - kind: pingall\n');
    const f = files.write('bad.yaml', 'h0:0: "127.0.0.1:5000"\n');
    writeFileSync(f, 'h0:0: "127.0.0.1:5000"\n');
    const r = await ina(['node', '--scenario', scenario, '--node', 'h0', '--control', 'tcp:127.0.0.1:1', '--addressing', `map:${f}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`address map ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: s0:0: missing`));
  });
});
