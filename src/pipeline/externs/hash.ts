/**
 * The hash extern, with the algorithms of BMv2 that the programs here use:
 * - crc32: IEEE 802.3, reflected (poly 0x04C11DB7 as 0xEDB88320), init and xorout 0xFFFFFFFF;
 *   identical to zlib's crc32 and BMv2's `crc32`. Check value "123456789" -> 0xCBF43926.
 * - crc16: CRC-16/ARC, reflected (poly 0x8005 as 0xA001), init 0, xorout 0; BMv2's `crc16`
 *   (bm_sim/calculations.cpp: poly 0x8005, remainder 0, final xor 0, data and remainder
 *   reflected). Check value "123456789" -> 0xBB3D.
 * - identity: the input as a big-endian integer, truncated to its first 32 bits (BMv2 keeps
 *   the first 8 bytes, which this matches for inputs up to 4 bytes). The seed does not apply.
 *
 * The seed is XORed into the CRC's initial register (crc16 takes the seed folded to 16 bits,
 * `seed ^ seed >>> 16`). Giving each switch its own seed is what keeps two ECMP tiers that
 * hash the same 5-tuple from making correlated choices (hash polarization).
 *
 * Words are hashed as 4 big-endian bytes each, so ofWords(w, n) equals ofBytes over the
 * network-order encoding of the same words: a program may hash parsed fields or raw bytes
 * and get the same answer.
 */
export type HashAlgorithm = 'crc16' | 'crc32' | 'identity';

const CRC32_TABLE = makeTable(0xedb88320);
const CRC16_TABLE = makeTable(0xa001);

function makeTable(reflectedPoly: number): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ reflectedPoly : c >>> 1;
    t[n] = c;
  }
  return t;
}

const ALGO_CRC32 = 0;
const ALGO_CRC16 = 1;
const ALGO_IDENTITY = 2;

export class Hash {
  readonly algorithm: HashAlgorithm;
  readonly seed: number;
  /** 16 for crc16, else 32 */
  readonly outputBits: number;
  private readonly algo: number;
  private readonly init: number;

  constructor(algorithm: HashAlgorithm, seed = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`hash ${algorithm}: seed ${seed} is not a uint32`);
    }
    this.algorithm = algorithm;
    this.seed = seed;
    switch (algorithm) {
      case 'crc32':
        this.algo = ALGO_CRC32;
        this.init = (0xffffffff ^ seed) | 0;
        this.outputBits = 32;
        break;
      case 'crc16':
        this.algo = ALGO_CRC16;
        this.init = (seed ^ (seed >>> 16)) & 0xffff;
        this.outputBits = 16;
        break;
      case 'identity':
        this.algo = ALGO_IDENTITY;
        this.init = 0;
        this.outputBits = 32;
        break;
      default:
        throw new RangeError(`hash: unknown algorithm ${String(algorithm)}`);
    }
  }

  /** Hashes words[0..count) (each taken as uint32) as big-endian bytes. Unsigned result. */
  ofWords(words: ArrayLike<number>, count: number): number {
    if (this.algo === ALGO_IDENTITY) return count > 0 ? words[0]! >>> 0 : 0;
    const t = this.algo === ALGO_CRC32 ? CRC32_TABLE : CRC16_TABLE;
    let c = this.init;
    for (let i = 0; i < count; i++) {
      const w = words[i]!;
      c = t[(c ^ (w >>> 24)) & 0xff]! ^ (c >>> 8);
      c = t[(c ^ (w >>> 16)) & 0xff]! ^ (c >>> 8);
      c = t[(c ^ (w >>> 8)) & 0xff]! ^ (c >>> 8);
      c = t[(c ^ w) & 0xff]! ^ (c >>> 8);
    }
    return this.algo === ALGO_CRC32 ? ~c >>> 0 : c & 0xffff;
  }

  /** Hashes b[offset..offset+length). Unsigned result. */
  ofBytes(b: Uint8Array, offset: number, length: number): number {
    const end = offset + length;
    if (!(offset >= 0 && length >= 0 && end <= b.length)) {
      throw new RangeError(`hash ${this.algorithm}: bytes ${offset}..${end} outside a buffer of ${b.length}`);
    }
    if (this.algo === ALGO_IDENTITY) {
      let r = 0;
      const stop = Math.min(end, offset + 4);
      for (let i = offset; i < stop; i++) r = (r << 8) | b[i]!;
      return r >>> 0;
    }
    const t = this.algo === ALGO_CRC32 ? CRC32_TABLE : CRC16_TABLE;
    let c = this.init;
    for (let i = offset; i < end; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
    return this.algo === ALGO_CRC32 ? ~c >>> 0 : c & 0xffff;
  }
}
