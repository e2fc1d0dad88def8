import type { Fabric } from '../run/fabric.js';
import { OFF_PROTOCOL } from '../wire/common-header.js';
import { PROTO_SHARP, PROTO_SWITCHML } from '../wire/protocols.js';

/** `<node>:<frames>`: that node's host sends its first <frames> aggregation frames, then none. */
export const MUTE_ENV = 'INA_TEST_MUTE_AGGREGATION';

/**
 * A test hook for `ina up`: a worker that stops contributing part-way through an aggregation
 * job, as a stalled (SIGSTOPped) worker does, but at a chosen frame instead of at a moment a
 * test cannot aim (a stop that lands between iterations stalls a collective step, not a
 * round). Only aggregation frames (SwitchML, SHARP) are dropped; everything else still goes.
 * Without the variable, or on another node, nothing changes.
 */
export function muteAggregationForTest(fabric: Fabric, node: string, env: NodeJS.ProcessEnv): void {
  const m = /^([^:]+):(\d+)$/.exec(env[MUTE_ENV] ?? '');
  if (!m || m[1] !== node) return;
  const host = fabric.hosts.get(node);
  if (!host) return;
  const after = Number(m[2]);
  let sent = 0;
  const send = host.send.bind(host);
  host.send = (frame) => {
    const p = frame[OFF_PROTOCOL];
    if (p === PROTO_SWITCHML || p === PROTO_SHARP) {
      if (sent >= after) return;
      sent++;
    }
    send(frame);
  };
}
