/**
 * The SHARP-style aggregation-tree protocol (pipelines/sharp.ts, hosts/allreduce/sharp-client.ts).
 *
 * Frames: common header with protocol PROTO_SHARP, dstPort = job id, then exactly the SwitchML
 * aggregation header (src/wire/switchml.ts: kind, flags, slot, ver, exponent, elementCount,
 * packet) and elementCount int32 values. One layout for both protocols, so one parser state and
 * one aggregation stage on the switch serve both; the protocol number only tells the hosts'
 * stacks which agent a frame is for. What a frame's source is to a switch (a flat SwitchML
 * worker, a tree child, the tree parent) is control-plane state (the workers table), not a
 * field a sender could forge.
 *
 * Who sends what (a job's tree: root, inner switches, leaf/edge switches, workers):
 *   worker → its leaf      UPDATE   src = worker, dst = the leaf's loopback
 *   switch → its parent    UPDATE   src = switch, dst = parent's loopback: the switch's partial
 *                                   for the slot round, sent once, when all its children have
 *                                   contributed (the completing frame, rewritten); values = the
 *                                   subtree's sum, exponent = its max, flag OVERFLOW if a sum
 *                                   wrapped below, flag RETRANSMIT on a re-send
 *   root → its children    RESULT   multicast, one replica per child, src = root, dst = child
 *   switch → its children  RESULT   a RESULT from the parent is stored in the slot copy (done)
 *                                   and multicast on, src = switch, dst = child
 *   switch → one child     RESULT   unicast answer to a retransmission for a round it holds
 *                                   the total of (done)
 * `slot` is relative to the job (every switch of the tree reserves the same window, each at its
 * own base); `packet` (the round's sequence number, the same at every worker) and `ver` are
 * carried up and down unchanged, so every level applies SwitchML's round logic to its children.
 *
 * Loss recovery is driven by the workers' timeouts alone: a worker retransmits its UPDATE; at
 * its switch the round is either
 *   - in progress and the worker's bit is set: dropped (a duplicate; another child is missing,
 *     and that child's own retransmissions recover it),
 *   - in progress without the bit: added (the original was lost),
 *   - complete and done: the total is unicast back to the worker,
 *   - complete, not done (the partial or the parent's result was lost above): the switch sends
 *     its partial up again, marked RETRANSMIT, and the parent applies the same rules one level
 *     up: it adds it, drops it as a duplicate, answers with the total by unicast (the child
 *     stores it and multicasts it to all its children), or sends its own partial further up.
 * A RESULT from the parent for a round the copy is not waiting for (another round, already
 * done) is dropped, so duplicated results never reach the workers twice from one switch.
 */
export {
  switchmlHeaderLayout as sharpHeaderLayout,
  switchmlHeader as sharpHeader,
  SML_UPDATE as SHARP_UPDATE,
  SML_RESULT as SHARP_RESULT,
  SML_FLAG_RETRANSMIT as SHARP_FLAG_RETRANSMIT,
  SML_FLAG_OVERFLOW as SHARP_FLAG_OVERFLOW,
  SML_HEADER_BYTES as SHARP_HEADER_BYTES,
} from './switchml.js';
export { PROTO_SHARP } from './protocols.js';
