import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/net/ring.js';

describe('Ring', () => {
  it('behaves like an array queue under any mix of push, shift, retain and clear', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('push' as const), v: fc.integer() }),
      fc.record({ k: fc.constant('shift' as const) }),
      fc.record({ k: fc.constant('retainEven' as const) }),
      fc.record({ k: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (ops, cap) => {
        const r = new Ring<number>(cap);
        const m: number[] = [];
        for (const o of ops) {
          if (o.k === 'push') {
            r.push(o.v);
            m.push(o.v);
          } else if (o.k === 'shift') {
            expect(r.shift()).toBe(m.shift());
          } else if (o.k === 'retainEven') {
            r.retain((v) => v % 2 === 0);
            m.splice(0, m.length, ...m.filter((v) => v % 2 === 0));
          } else {
            r.clear();
            m.length = 0;
          }
          expect(r.length).toBe(m.length);
          expect(r.peek()).toBe(m[0]);
        }
        for (let i = 0; i < m.length; i++) expect(r.at(i)).toBe(m[i]);
        expect(r.at(m.length)).toBeUndefined();
      }),
    );
  });
});
