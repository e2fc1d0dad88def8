import type { ProgramBuilder } from '../../src/pipeline/program.js';
import type { Packet } from '../../src/pipeline/packet.js';
import { commonHeaderOf } from '../../src/pipeline/common-header.js';
import { readU32 } from '../../src/wire/bytes.js';
import { SOURCE_GUARD_COUNTER, SOURCE_GUARD_REGISTER } from '../../src/wire/names/forwarding.js';

export interface SourceGuard<M> {
  /** true when the frame may go on; false when it was dropped as spoofed */
  admit(pkt: Packet<M>): boolean;
}

/**
 * IP source guard / strict uRPF at the edge, the first thing every program does: a frame
 * entering on a host-facing port must carry that host's address as its source. The routing
 * controller (which knows which host is behind which port) writes the expected address per
 * port into the `source_guard` register; 0 means "not a host port" (fabric links carry frames
 * from everywhere) and is never a host's address. A mismatch is dropped and counted in
 * `source_guard_drops` (the report's `drops.spoofed`).
 *
 * A register indexed by the ingress port rather than a match table: this runs on every frame
 * of every program, and a typed-array read is a fraction of a table lookup's cost (the
 * pipeline bench is the measure). Frames arriving on the recirculation port are past the edge.
 */
export function declareSourceGuard<M>(p: ProgramBuilder<M>): SourceGuard<M> {
  const common = commonHeaderOf(p);
  const src = common.type.field('src');
  // every frame passes here: the field's place once, then a plain 32-bit read (see forwarding.ts)
  if (src.bytes !== 4) throw new Error(`source guard: ${common.type.name}.src must be 4 bytes`);
  const srcAt = src.offset;
  const ports = p.env.portCount;
  const expected = p.register(SOURCE_GUARD_REGISTER, 32, Math.max(1, ports));
  const spoofed = p.counter(SOURCE_GUARD_COUNTER, 1, 'packets');
  return {
    admit(pkt) {
      const port = pkt.ingressPort;
      if (port < 0 || port >= ports) return true;
      const want = expected.read(port);
      if (want === 0 || readU32(pkt.buf, pkt.offsetOf(common) + srcAt) === want) return true;
      spoofed.count(0, pkt.buf.length);
      pkt.markToDrop();
      return false;
    },
  };
}
