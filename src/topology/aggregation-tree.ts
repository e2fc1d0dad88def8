/**
 * The shape of a SHARP-style aggregation tree for a group of workers, as plain data (no state
 * installed): which switches take part, who is whose parent, and which port each switch sends
 * a child's results out of. The aggregation manager computes one per job and then reserves
 * slots and installs entries on every switch of it.
 *
 * Construction, for a chosen root (one of the workers' lowest common ancestors):
 * - every worker's attachment switch (its leaf / edge / the star's switch) is a tree node, and
 *   the worker is a child of it;
 * - a non-root node's parent is its neighbour one hop closer to the root, the first such in
 *   port order; applied from every attachment switch up to the root, this is a deterministic
 *   function of the node, so the union of the paths is a tree. On a leaf-spine with a spine
 *   root: spine → leaves → workers. On a fat-tree with a core root: core → the one aggregation
 *   switch of each pod wired to that core → edges → workers; with an aggregation root (a job
 *   inside one pod): agg → edges → workers.
 *
 * Every tree edge is a physical link, so a child reaches its parent (and a parent its child)
 * in one hop whatever the routing; the manager still addresses partials to the parent's
 * loopback (dst = parent), so the frames are ordinary routed frames.
 */
import { hopDistance } from './shortest-paths.js';
import { attachmentOf, findNode, nodeByName, portsOf, portToward, type Topology } from './types.js';

export interface TreeChild {
  readonly name: string;
  readonly address: number;
  readonly kind: 'worker' | 'switch';
  /** the parent's port toward this child */
  readonly port: number;
}

export interface TreeNode {
  readonly name: string;
  readonly address: number;
  /** null at the root */
  readonly parent: string | null;
  /** hops from the root */
  readonly level: number;
  /** workers attached here (in the job's order), then child switches (in Topology.switches order); index = bitmap bit */
  readonly children: readonly TreeChild[];
}

export interface AggregationTree {
  readonly root: string;
  /** top-down (parents before children), in breadth-first order */
  readonly nodes: readonly TreeNode[];
  /** worker → the switch it sends its updates to */
  readonly attachment: ReadonlyMap<string, string>;
  /** hops from a worker to the root, the longest over workers (1 when the root is every worker's switch) */
  readonly height: number;
  /** most children under one node */
  readonly maxChildren: number;
}

/** Builds the tree of `workers` rooted at `root` (see the module comment). */
export function buildAggregationTree(topo: Topology, workers: readonly string[], root: string): AggregationTree {
  if (workers.length === 0) throw new Error('aggregation tree: a job needs at least one worker');
  if (nodeByName(topo, root).role !== 'switch') throw new Error(`aggregation tree: root ${root} is not a switch`);
  const dist = (node: string): number => hopDistance(topo, root, node);
  const parentOf = new Map<string, string | null>([[root, null]]);
  const attachment = new Map<string, string>();
  const seen = new Set<string>();
  let height = 0;
  for (const w of workers) {
    if (findNode(topo, w)?.role !== 'host') throw new Error(`aggregation tree: "${w}" is not a host of this topology`);
    if (seen.has(w)) throw new Error(`aggregation tree: worker "${w}" listed twice`);
    seen.add(w);
    const att = attachmentOf(topo, w).switch;
    attachment.set(w, att);
    const d = dist(att);
    if (d === Infinity) throw new Error(`aggregation tree: ${root} does not reach ${w}`);
    height = Math.max(height, d + 1);
    let node = att;
    while (!parentOf.has(node)) {
      const here = dist(node);
      const up = portsOf(topo, node).find((p) => p !== undefined && nodeByName(topo, p.peer).role === 'switch' && dist(p.peer) === here - 1);
      if (!up) throw new Error(`aggregation tree: ${node} has no neighbour closer to ${root}`);
      parentOf.set(node, up.peer);
      node = up.peer;
    }
  }
  // children per node: attached workers first (job order), then switches (Topology.switches order)
  const kids = new Map<string, TreeChild[]>();
  for (const n of parentOf.keys()) kids.set(n, []);
  for (const w of workers) {
    const att = attachment.get(w)!;
    kids.get(att)!.push({ name: w, address: nodeByName(topo, w).address, kind: 'worker', port: attachmentOf(topo, w).port });
  }
  for (const s of topo.switches) {
    const p = parentOf.get(s);
    if (p === undefined || p === null) continue;
    kids.get(p)!.push({ name: s, address: nodeByName(topo, s).address, kind: 'switch', port: portToward(topo, p, s) });
  }
  const nodes: TreeNode[] = [];
  const queue = [root];
  for (let head = 0; head < queue.length; head++) {
    const name = queue[head]!;
    const children = kids.get(name)!;
    nodes.push({ name, address: nodeByName(topo, name).address, parent: parentOf.get(name) ?? null, level: dist(name), children });
    for (const c of children) if (c.kind === 'switch') queue.push(c.name);
  }
  return { root, nodes, attachment, height, maxChildren: Math.max(...nodes.map((n) => n.children.length)) };
}
