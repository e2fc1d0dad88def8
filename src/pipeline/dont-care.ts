import { widthMask, type FieldMatch, type KeyFieldSpec } from './match-types.js';

/**
 * P4Runtime (TableEntry, "don't care" matches): a client must write a don't-care field by
 * omitting its FieldMatch; the explicit spellings of "matches everything" (a ternary mask of 0,
 * an LPM prefix length of 0, a range covering the whole field) are INVALID_ARGUMENT, so that an
 * entry has exactly one wire form and a read returns what was written. Returns why `m` is such
 * a spelling, or null when it is not one.
 */
export function explicitDontCare(spec: KeyFieldSpec, m: FieldMatch): string | null {
  switch (m.kind) {
    case 'ternary':
      return m.mask === 0 ? 'a ternary mask of 0 matches everything: omit the field instead' : null;
    case 'lpm':
      return m.prefixLen === 0 ? 'an lpm prefix length of 0 matches everything: omit the field instead' : null;
    case 'range':
      return m.low === 0 && m.high === widthMask(spec.width)
        ? `a range 0..${widthMask(spec.width)} covers the whole ${spec.width}-bit field: omit the field instead`
        : null;
    default:
      return null;
  }
}
