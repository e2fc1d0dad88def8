import type { HeaderRef } from './header.js';
import type { Packet } from './packet.js';

/**
 * A P4 parser as a state machine: each state extracts headers in order, may verify, then
 * selects the next state on a key (with value/mask or range cases and a default), or
 * transitions directly. Terminal states are 'accept' and 'reject'.
 */
export type ParserErrorKind =
  | 'PacketTooShort'
  | 'NoMatch'
  | 'Reject'
  | 'VerifyFailed'
  | 'LoopLimit'
  | (string & {});

export type SelectCase =
  | { value: number; mask?: number; next: string }
  | { low: number; high: number; next: string };

export interface ParserState<M> {
  extract?: readonly HeaderRef[];
  /** P4 verify(): return an error kind to reject the packet with, or null to go on */
  verify?: (pkt: Packet<M>) => string | null;
  select?: { key: (pkt: Packet<M>) => number; cases: readonly SelectCase[]; default?: string };
  next?: string;
}

export type ParserSpec<M> = { start: ParserState<M> } & Record<string, ParserState<M>>;

const MAX_STATES_VISITED = 64;

interface CompiledCase {
  isRange: boolean;
  a: number;
  b: number;
  next: number;
}
interface CompiledState<M> {
  name: string;
  extract: readonly HeaderRef[];
  verify?: (pkt: Packet<M>) => string | null;
  key?: (pkt: Packet<M>) => number;
  cases: CompiledCase[];
  /** state index, or ACCEPT / REJECT, or NO_DEFAULT */
  fallback: number;
}

const ACCEPT = -1;
const REJECT = -2;
const NO_DEFAULT = -3;

export class Parser<M> {
  private readonly states: CompiledState<M>[] = [];
  /** rejections by error kind */
  readonly errors = new Map<string, number>();

  constructor(spec: ParserSpec<M>) {
    const names = Object.keys(spec);
    const indexOf = (from: string, target: string | undefined, what: string): number => {
      if (target === undefined) return NO_DEFAULT;
      if (target === 'accept') return ACCEPT;
      if (target === 'reject') return REJECT;
      const i = names.indexOf(target);
      if (i < 0) throw new Error(`parser state ${from}: ${what} names unknown state ${target}`);
      return i;
    };
    // 'start' first so the machine begins at index 0.
    names.splice(names.indexOf('start'), 1);
    names.unshift('start');
    for (const name of names) {
      const s = spec[name]!;
      if (s.select && s.next) throw new Error(`parser state ${name}: has both select and next`);
      this.states.push({
        name,
        extract: s.extract ?? [],
        verify: s.verify,
        key: s.select?.key,
        cases: (s.select?.cases ?? []).map((c) =>
          'low' in c
            ? { isRange: true, a: c.low, b: c.high, next: indexOf(name, c.next, 'case') }
            : { isRange: false, a: c.value, b: c.mask ?? 0xffffffff, next: indexOf(name, c.next, 'case') },
        ),
        fallback: s.select ? indexOf(name, s.select.default, 'default') : indexOf(name, s.next ?? 'accept', 'next'),
      });
    }
  }

  /** Runs the machine over pkt.buf. Returns true on accept; on reject sets pkt.parserError. */
  parse(pkt: Packet<M>): boolean {
    let at = 0;
    let offset = 0;
    const len = pkt.buf.length;
    for (let visited = 0; visited < MAX_STATES_VISITED; visited++) {
      const s = this.states[at]!;
      for (let i = 0; i < s.extract.length; i++) {
        const h = s.extract[i]!;
        if (offset + h.type.bytes > len) return this.fail(pkt, 'PacketTooShort');
        pkt.hdrOffset[h.index] = offset;
        offset += h.type.bytes;
      }
      pkt.parsedBytes = offset;
      if (s.verify) {
        const err = s.verify(pkt);
        if (err !== null) return this.fail(pkt, err);
      }
      let next = s.fallback;
      if (s.key) {
        const k = s.key(pkt) >>> 0;
        for (let i = 0; i < s.cases.length; i++) {
          const c = s.cases[i]!;
          if (c.isRange ? k >= c.a && k <= c.b : ((k & c.b) >>> 0) === ((c.a & c.b) >>> 0)) {
            next = c.next;
            break;
          }
        }
      }
      if (next === ACCEPT) return true;
      if (next === REJECT) return this.fail(pkt, 'Reject');
      if (next === NO_DEFAULT) return this.fail(pkt, 'NoMatch');
      at = next;
    }
    return this.fail(pkt, 'LoopLimit');
  }

  private fail(pkt: Packet<M>, kind: string): false {
    pkt.parserError = kind;
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    return false;
  }

  get stateCount(): number {
    return this.states.length;
  }
}
