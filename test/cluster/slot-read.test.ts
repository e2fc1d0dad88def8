/**
 * Reading an aggregation switch's slot copy across processes (issue 12 item 3): the messages
 * on the control channel, their check, and the bounded waits of both sides.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decode, encode } from '../../src/cluster/codec.js';
import type { ControlMessage, CoordinatorMessage, NodeMessage } from '../../src/cluster/messages.js';
import { checkSlotState, SlotReader, SlotReadRelay } from '../../src/cluster/slot-read.js';

afterEach(() => {
  vi.useRealTimers();
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const state = fc.record({ bitmap: u32, count: u32, seq: u32, done: u32 });
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);

describe('slot read messages', () => {
  it('property: every slot message goes over the channel codec and back unchanged, and its state passes the check', () => {
    const message: fc.Arbitrary<ControlMessage> = fc.oneof(
      fc.record({ t: fc.constant('slot-query' as const), id: fc.nat(), fabric: fc.nat(), switch: name, copy: fc.nat() }),
      fc.record({ t: fc.constant('read-slot' as const), id: fc.nat(), fabric: fc.nat(), switch: name, copy: fc.nat() }),
      fc.record({ t: fc.constant('slot' as const), id: fc.nat(), state }),
      fc.record({ t: fc.constant('slot-state' as const), id: fc.nat(), error: fc.string() }),
    );
    fc.assert(
      fc.property(message, (m) => {
        const line = encode(m);
        expect(line).not.toContain('\n');
        const back = decode(line) as ControlMessage;
        expect(back).toEqual(m);
        if ('state' in back) expect(checkSlotState(back.state)).toEqual((m as { state: unknown }).state);
      }),
    );
  });

  it('a state that is not four unsigned 32-bit registers is refused, naming the field', () => {
    expect(() => checkSlotState(null)).toThrow(/expected an object, got null/);
    expect(() => checkSlotState({ bitmap: 1, count: 0, seq: 2 })).toThrow(/done must be an unsigned 32-bit integer, got undefined/);
    expect(() => checkSlotState({ bitmap: -1, count: 0, seq: 2, done: 1 })).toThrow(/bitmap .* got -1/);
    expect(() => checkSlotState({ bitmap: 1, count: 0.5, seq: 2, done: 1 })).toThrow(/count/);
    expect(() => checkSlotState({ bitmap: 1, count: 0, seq: 2 ** 32, done: 1 })).toThrow(/seq/);
    expect(() => checkSlotState({ bitmap: '1', count: 0, seq: 2, done: 1 })).toThrow(/bitmap .* got "1"/);
  });
});

/** A coordinator's relay whose sends are recorded; `connected` nodes take messages. */
function relayOf(connected: string[], timeoutMs = 50) {
  const sent: Array<[string, CoordinatorMessage]> = [];
  const relay = new SlotReadRelay((node, m) => {
    if (!connected.includes(node)) return false;
    sent.push([node, m]);
    return true;
  }, timeoutMs);
  return { relay, sent };
}

const query = (id: number, sw = 'spine0'): Extract<NodeMessage, { t: 'slot-query' }> => ({ t: 'slot-query', id, fabric: 0, switch: sw, copy: 9 });

describe('the coordinator relays a slot read', () => {
  it('asks the switch node and passes its answer back to the asking node under the asker\'s id', () => {
    const { relay, sent } = relayOf(['h1', 'spine0']);
    relay.query('h1', query(7));
    const [to, ask] = sent[0]!;
    expect(to).toBe('spine0');
    expect(ask).toMatchObject({ t: 'read-slot', fabric: 0, switch: 'spine0', copy: 9 });
    relay.answer('spine0', { t: 'slot', id: (ask as { id: number }).id, state: { bitmap: 5, count: 1, seq: 3, done: 1 } });
    expect(sent[1]).toEqual(['h1', { t: 'slot-state', id: 7, state: { bitmap: 5, count: 1, seq: 3, done: 1 } }]);
  });

  it('an answer from another node than the switch asked is ignored', () => {
    const { relay, sent } = relayOf(['h1', 'h2', 'spine0']);
    relay.query('h1', query(1));
    const id = (sent[0]![1] as { id: number }).id;
    relay.answer('h2', { t: 'slot', id, state: { bitmap: 0, count: 0, seq: 0, done: 1 } });
    expect(sent).toHaveLength(1);
  });

  it('a switch node that does not answer (stopped) is the answer, after the relay\'s timeout', () => {
    vi.useFakeTimers();
    const { relay, sent } = relayOf(['h1', 'spine0'], 2000);
    relay.query('h1', query(3));
    vi.advanceTimersByTime(1999);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent[1]).toEqual(['h1', { t: 'slot-state', id: 3, error: 'spine0 does not answer its control channel (no reply within 2 s)' }]);
    // a late answer changes nothing
    relay.answer('spine0', { t: 'slot', id: (sent[0]![1] as { id: number }).id, state: { bitmap: 0, count: 0, seq: 0, done: 1 } });
    expect(sent).toHaveLength(2);
  });

  it('a switch node that is gone is the answer at once', () => {
    const { relay, sent } = relayOf(['h1']);
    relay.query('h1', query(4));
    expect(sent).toEqual([['h1', { t: 'slot-state', id: 4, error: 'spine0 does not answer its control channel (not connected)' }]]);
  });

  it('a malformed state from the switch node reaches the asker as an error, not as registers', () => {
    const { relay, sent } = relayOf(['h1', 'spine0']);
    relay.query('h1', query(5));
    const id = (sent[0]![1] as { id: number }).id;
    relay.answer('spine0', { t: 'slot', id, state: { bitmap: 1 } as never });
    expect(sent[1]![1]).toMatchObject({ t: 'slot-state', id: 5, error: expect.stringMatching(/slot state: count must be/) });
  });
});

describe('a worker node reads a slot through the coordinator', () => {
  it('resolves with the coordinator\'s answer, rejects with its error', async () => {
    const posted: NodeMessage[] = [];
    const reader = new SlotReader((m) => posted.push(m));
    const ok = reader.read(2, 'spine0', 11);
    const bad = reader.read(2, 'spine1', 12);
    expect(posted).toEqual([
      { t: 'slot-query', id: 1, fabric: 2, switch: 'spine0', copy: 11 },
      { t: 'slot-query', id: 2, fabric: 2, switch: 'spine1', copy: 12 },
    ]);
    reader.settle({ t: 'slot-state', id: 2, error: 'spine1 does not answer its control channel (no reply within 2 s)' });
    reader.settle({ t: 'slot-state', id: 1, state: { bitmap: 3, count: 2, seq: 40, done: 1 } });
    await expect(ok).resolves.toEqual({ bitmap: 3, count: 2, seq: 40, done: 1 });
    await expect(bad).rejects.toThrow('spine1 does not answer its control channel');
  });

  it('a coordinator that does not answer ends the read after the reader\'s timeout (never a hang)', async () => {
    vi.useFakeTimers();
    const reader = new SlotReader(() => {}, 5000);
    const p = reader.read(0, 'spine0', 1);
    const settled = expect(p).rejects.toThrow("the coordinator did not answer a read of spine0's slot state within 5 s");
    vi.advanceTimersByTime(5000);
    await settled;
  });
});
