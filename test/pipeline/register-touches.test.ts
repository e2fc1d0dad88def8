import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { defineProgram, type PipelineEnv } from '../../src/pipeline/program.js';
import { makeFrame } from '../../src/wire/common-header.js';

function env(): PipelineEnv {
  return { switchName: 'sw0', seed: 1, rng: createRng(1), clock: new SimClock(), portCount: 2, queueBytes: () => 0, options: {} };
}

/**
 * A program whose packets (common header `seq` = how) touch its registers in the ways a
 * switch ASIC does or does not allow: `once` through a RegisterAction; `twice` read, then
 * written back; `lanes` (4 registers side by side) one cell per lane, or two cells of lane 0;
 * `egress` once in ingress and once in egress (two pipelines, so once each).
 */
const program = defineProgram<Record<string, never>>({
  name: 'touches',
  description: 'registers touched once or twice per packet',
  metadata: () => ({}),
  build(p) {
    const common = declareCommonHeader(p);
    const seq = common.type.field('seq');
    p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
    const once = p.register('once', 32, 4);
    const twice = p.register('twice', 32, 4);
    const lanes = p.register('lanes', 32, 16, false, 4);
    const both = p.register('both', 32, 1);
    const inc = p.registerAction('inc', once, (old, by) => old + by);
    return {
      ingress(pkt) {
        const how = pkt.get(common, seq);
        if (how & 1) inc.execute(0, 1);
        if (how & 2) twice.write(1, twice.read(1) + 1);
        if (how & 4) for (let i = 0; i < 4; i++) lanes.write(4 + i, i);
        if (how & 8) lanes.write(0, lanes.read(8));
        both.add(0, 1);
        pkt.sendToPort(1);
      },
      egress() {
        both.add(0, 1);
      },
    };
  },
});

function run(hows: number[]): Pipeline {
  const pipe = new Pipeline(program, env());
  for (const how of hows) pipe.process(makeFrame({ protocol: 17, src: 1, dst: 2, seq: how }, 0), 0, () => {});
  return pipe;
}

describe('register touches per packet', () => {
  it('names exactly the registers some packet touched more than once, with how many packets did', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 30 }), (hows) => {
        const pipe = run(hows);
        const expected = [
          { register: 'twice', repeatedPasses: hows.filter((h) => h & 2).length, maxPerPass: 2 },
          // how 8 reads cell 8 and writes cell 0 (lane 0 twice); with 4 too, lane 0 was written first
          { register: 'lanes', repeatedPasses: hows.filter((h) => h & 8).length, maxPerPass: hows.some((h) => (h & 12) === 12) ? 3 : 2 },
        ].filter((t) => t.repeatedPasses > 0);
        expect(pipe.registerTouches()).toEqual(expected);
        expect(pipe.registers.get('once')!.read(0)).toBe(hows.filter((h) => h & 1).length);
      }),
    );
  });

  it('does not count the control plane, which reads and writes between packets', () => {
    const pipe = run([1]);
    pipe.controlPlane.write([{ type: 'MODIFY', entity: { kind: 'registerEntry', register: 'once', index: 0, value: 5 } }]);
    expect(pipe.controlPlane.readRegister('once', 0)).toBe(5);
    expect(pipe.controlPlane.readRegister('once', 0)).toBe(5);
    expect(pipe.registerTouches()).toEqual([]);
  });
});
