import type { ProgramBuilder } from '../../../src/pipeline/program.js';
import type { HeaderRef } from '../../../src/pipeline/header.js';
import type { Table } from '../../../src/pipeline/table.js';
import {
  SHARP_SET_CHILD, SHARP_SET_PARENT, SML_SET_WORKER, SML_WORKERS_KEY_JOB, SML_WORKERS_KEY_SRC, SML_WORKERS_TABLE,
} from '../../../src/wire/names/aggregation.js';
import { ROLE_CHILD, ROLE_PARENT, ROLE_WORKER, type AggregationMeta } from './metadata.js';

/**
 * The workers table: what a frame's source is to this switch, keyed (src, job). Every entry
 * also names the port the member's frames arrive on (its path to this switch); a frame with a
 * member's address on any other port is no contribution:
 *   set_worker       a flat SwitchML worker: aggregate; on completion multicast the result
 *   set_tree_child   a child in a tree (a worker, or a child switch's partial): aggregate; on
 *                    completion send ONE partial to `parent` (or, at the root, multicast)
 *   set_tree_parent  this switch's parent in a tree: its RESULTs are stored and multicast down
 */
export function declareMembers<M extends AggregationMeta>(p: ProgramBuilder<M>, common: HeaderRef, tree: boolean): Table<M> {
  const src = common.type.field('src');
  const dstPort = common.type.field('dstPort');
  const slotParams = [
    { name: 'mcastGroup', width: 16 },
    { name: 'slotBase', width: 32 },
    { name: 'slotCount', width: 32 },
    { name: 'ingressPort', width: 16 },
  ] as const;
  // A tree child is a worker of this switch's job that also names its parent: the same six
  // parameters first, in the same order.
  const setMember = (m: AggregationMeta, role: number, a: readonly number[]): void => {
    m.role = role;
    m.workerBit = a[0]!;
    m.numWorkers = a[1]!;
    m.mcastGroup = a[2]!;
    m.slotBase = a[3]!;
    m.slotCount = a[4]!;
    m.port = a[5]!;
  };
  const setWorker = p.action(SML_SET_WORKER, [{ name: 'workerBit', width: 8 }, { name: 'numWorkers', width: 8 }, ...slotParams], (pkt, a) =>
    setMember(pkt.meta, ROLE_WORKER, a),
  );
  const setChild = p.action(
    SHARP_SET_CHILD,
    [{ name: 'childBit', width: 8 }, { name: 'numChildren', width: 8 }, ...slotParams, { name: 'parent', width: 32 }],
    (pkt, a) => {
      setMember(pkt.meta, ROLE_CHILD, a);
      pkt.meta.parent = a[6]!;
    },
  );
  const setParent = p.action(SHARP_SET_PARENT, [...slotParams], (pkt, a) => {
    const m = pkt.meta;
    m.role = ROLE_PARENT;
    m.mcastGroup = a[0]!;
    m.slotBase = a[1]!;
    m.slotCount = a[2]!;
    m.port = a[3]!;
  });
  return p.table({
    name: SML_WORKERS_TABLE,
    keys: [
      { name: SML_WORKERS_KEY_SRC, match: 'exact', width: 32, read: (pkt) => pkt.get(common, src) },
      { name: SML_WORKERS_KEY_JOB, match: 'exact', width: 16, read: (pkt) => pkt.get(common, dstPort) },
    ],
    actions: tree ? [setWorker, setChild, setParent] : [setWorker],
    size: 4096,
  });
}
