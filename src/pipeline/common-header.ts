import { checkCommonHeader, commonHeader } from '../wire/common-header.js';
import { HeaderType, type HeaderRef } from './header.js';
import type { ProgramBuilder } from './program.js';
import type { Packet } from './packet.js';

/** The emulator's common frame header as a P4 header type, shared by every program. */
export const commonHeaderType = new HeaderType('common', commonHeader.layout);

/**
 * The parser's verify step for the common header: a wrong version or a payload length that
 * disagrees with the datagram's size rejects the frame with that reason.
 */
export function verifyCommonHeader(pkt: Packet<unknown>): string | null {
  const err = checkCommonHeader(pkt.buf);
  return err === null ? null : err === 'short' ? 'PacketTooShort' : err;
}

/** Declares the common header instance; programs extend the parser from here. */
export function declareCommonHeader<M>(p: ProgramBuilder<M>): HeaderRef {
  return p.header('common', commonHeaderType);
}

/** The common header instance a program declared (shared stages find it here, not by offset). */
export function commonHeaderOf<M>(p: ProgramBuilder<M>): HeaderRef {
  const ref = p.headers.find((h) => h.type === commonHeaderType);
  if (ref === undefined) throw new Error('program declared no common header (declareCommonHeader first)');
  return ref;
}
