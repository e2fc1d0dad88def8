/**
 * Checks that need the built topology, after the schema has passed: node names in link
 * overrides and worker/rank lists exist (and are hosts where hosts are meant), counts fit the
 * topology, workload names are unique. Each problem names its key path like a schema problem.
 */
import { describeGiB, estimateFabricMemory, FABRIC_HEAP_SHARE, heapLimitBytes } from '../topology/fabric-memory.js';
import { areAdjacent, findNode, portsOf, type Topology } from '../topology/types.js';
import { didYouMean, type RawProblem } from './problem.js';
import type { HostSelector, Scenario } from './schema.js';

export function checkScenario(s: Scenario, topo: Topology): RawProblem[] {
  const problems: RawProblem[] = [];
  const nodeNames = topo.nodes.map((n) => n.name);

  // refused here, not after minutes of building switches and an out-of-memory crash
  const memory = estimateFabricMemory(topo);
  const allowed = heapLimitBytes() * FABRIC_HEAP_SHARE;
  if (memory.bytes > allowed) {
    problems.push({
      path: ['topology'],
      expected: `a fabric that fits in this process's heap`,
      input: s.topology,
      hint:
        `${topo.switches.length} switches, ${topo.hosts.length} hosts and ${(memory.routes / 1e6).toFixed(1)} million routes need about ${describeGiB(memory.bytes)}; ` +
        `the limit is ${describeGiB(allowed)}, half the heap; NODE_OPTIONS=--max-old-space-size=<MiB> raises it`,
    });
  }

  s.links.overrides.forEach((o, i) => {
    const base = ['links', 'overrides', i, 'between'];
    let known = true;
    o.between.forEach((name, j) => {
      if (!findNode(topo, name)) {
        known = false;
        problems.push({ path: [...base, j], expected: `a node of this ${topo.kind} topology (${summarizeNames(nodeNames)})`, input: name, hint: guess(name, nodeNames) });
      }
    });
    if (!known) return;
    const [a, b] = o.between;
    if (a === b) {
      problems.push({ path: base, expected: 'two different nodes', input: o.between });
    } else if (!areAdjacent(topo, a, b)) {
      const peers = portsOf(topo, a).map((p) => p.peer);
      problems.push({ path: base, expected: 'two nodes joined by a link', input: o.between, hint: `${a} links to ${summarizeNames(peers)}` });
    } else if (o.down === true && (findNode(topo, a)!.role === 'host' || findNode(topo, b)!.role === 'host')) {
      problems.push({ path: ['links', 'overrides', i, 'down'], expected: 'down only on a link between two switches (a host has a single link)', input: true });
    }
  });

  if (problems.length === 0) {
    const cut = partitionProblem(s, topo);
    if (cut) problems.push(cut);
  }

  const names = new Map<string, number>();
  s.workloads.forEach((w, i) => {
    const base = ['workloads', i];
    if (w.name !== undefined) {
      const first = names.get(w.name);
      if (first !== undefined) problems.push({ path: [...base, 'name'], expected: 'a name no other workload uses', input: w.name, hint: `workloads[${first}] has it` });
      else names.set(w.name, i);
    }
    switch (w.kind) {
      case 'allreduce':
        checkSelector(w.workers, [...base, 'workers'], 'workers', 2, topo, problems);
        break;
      case 'moe':
        checkSelector(w.ranks, [...base, 'ranks'], 'ranks', 1, topo, problems);
        break;
      case 'flows':
        if (topo.hosts.length < 2) problems.push({ path: [...base, 'kind'], expected: 'a topology with at least 2 hosts for flows', input: w.kind, hint: `it has ${topo.hosts.length}` });
        break;
      case 'pingall':
        break;
    }
  });
  return problems;
}

function checkSelector(selector: HostSelector, path: (string | number)[], what: string, min: number, topo: Topology, problems: RawProblem[]): void {
  const total = topo.hosts.length;
  if (selector === 'all') {
    if (total < min) problems.push({ path, expected: `at least ${min} ${what}`, input: selector, hint: `the topology has ${total} host${total === 1 ? '' : 's'}` });
    return;
  }
  if (typeof selector === 'number') {
    if (selector > total) problems.push({ path, expected: `at most ${total} ${what} (the hosts of this topology)`, input: selector });
    else if (selector < min) problems.push({ path, expected: `at least ${min} ${what}`, input: selector });
    return;
  }
  const seen = new Set<string>();
  selector.forEach((name, j) => {
    const node = findNode(topo, name);
    if (!node || node.role !== 'host') {
      const hint = node ? `${name} is a switch` : guess(name, topo.hosts);
      problems.push({ path: [...path, j], expected: `a host of this topology (${summarizeNames(topo.hosts)})`, input: name, hint });
    } else if (seen.has(name)) {
      problems.push({ path: [...path, j], expected: `distinct host names`, input: name, hint: `${name} is listed twice` });
    }
    seen.add(name);
  });
  if (selector.length < min) problems.push({ path, expected: `at least ${min} ${what}`, input: selector });
}

/**
 * Links taken `down` that split the hosts into parts that cannot reach each other: such a
 * fabric would only fail at run time (routes missing, pings lost), so it is refused here,
 * naming the parts. Later overrides win, as in the fabric (a `down: false` brings a link back).
 */
function partitionProblem(s: Scenario, topo: Topology): RawProblem | undefined {
  const key = (a: string, b: string): string => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
  const down = new Map<string, boolean>();
  for (const o of s.links.overrides) if (o.down !== undefined) down.set(key(o.between[0], o.between[1]), o.down);
  if (![...down.values()].some(Boolean)) return undefined;

  // union-find over the links still up
  const parent = new Map<string, string>(topo.nodes.map((n) => [n.name, n.name]));
  const root = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) {
      const grand = parent.get(parent.get(r)!)!; // path halving keeps the trees shallow
      parent.set(r, grand);
      r = grand;
    }
    return r;
  };
  for (const l of topo.links) if (down.get(key(l.a, l.b)) !== true) parent.set(root(l.a), root(l.b));
  const parts = new Map<string, string[]>();
  for (const h of topo.hosts) {
    const r = root(h);
    if (!parts.has(r)) parts.set(r, []);
    parts.get(r)!.push(h);
  }
  if (parts.size <= 1) return undefined;
  const groups = [...parts.values()];
  const shown = groups.slice(0, 4).map((g) => summarizeNames(g, 4));
  const more = groups.length > 4 ? ` | … (${groups.length} parts in all)` : '';
  const downPairs = s.links.overrides.filter((o) => down.get(key(o.between[0], o.between[1])) === true).map((o) => o.between);
  return {
    path: ['links', 'overrides'],
    expected: 'links down that leave every host able to reach every other',
    input: downPairs,
    hint: `they cut the hosts into ${groups.length} parts: ${shown.join(' | ')}${more}; ${groups[0]![0]} cannot reach ${groups[1]![0]}`,
  };
}

function guess(name: string, candidates: readonly string[]): string | undefined {
  // h9 in a 6-host fabric is out of range, not a typo of h0: the expected list says enough.
  const shape = (s: string) => s.replace(/\d+/g, '#');
  if (candidates.some((c) => shape(c) === shape(name))) return undefined;
  const g = didYouMean(name, candidates);
  return g ? `did you mean ${g}?` : undefined;
}

/**
 * A short list of names: runs like h0, h1, ..., h7 collapse to h0..h7, and long lists are cut,
 * so an error about a 1024-host fat-tree stays one readable line.
 */
export function summarizeNames(names: readonly string[], maxGroups = 8): string {
  const groups: string[] = [];
  let i = 0;
  while (i < names.length) {
    const m = /^(.*?)(\d+)$/.exec(names[i]!);
    let j = i + 1;
    if (m) {
      const [, prefix, digits] = m;
      let n = Number(digits);
      while (j < names.length && names[j] === `${prefix}${n + 1}`) {
        n++;
        j++;
      }
    }
    groups.push(j - i > 2 ? `${names[i]}..${names[j - 1]}` : names.slice(i, j).join(', '));
    i = j;
  }
  if (groups.length <= maxGroups) return groups.join(', ');
  return `${groups.slice(0, maxGroups).join(', ')}, … (${names.length} in all)`;
}
