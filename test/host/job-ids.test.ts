/**
 * One job-id allocator per fabric (src/host/job-ids.ts): each kind numbers its jobs from 1 in
 * its own space, fabrics do not share numbering, and ids stay within the 16 bits a frame has.
 */
import { describe, expect, it } from 'vitest';
import { JobIds, MAX_JOB_ID } from '../../src/host/job-ids.js';
import { Fabric } from '../../src/run/fabric.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import { loadProgram } from '../../src/run/registry.js';

describe('JobIds', () => {
  it('numbers each kind 1, 2, ... on its own', () => {
    const ids = new JobIds();
    expect([ids.next('allreduce'), ids.next('flows'), ids.next('allreduce'), ids.next('moe'), ids.next('flows')]).toEqual([1, 1, 2, 1, 2]);
  });

  it('starts again at 1 after the largest 16-bit id, never handing out 0', () => {
    const ids = new JobIds();
    let last = 0;
    for (let i = 1; i <= MAX_JOB_ID; i++) last = ids.next('flows');
    expect(last).toBe(MAX_JOB_ID);
    expect(ids.next('flows')).toBe(1);
  });

  it('belongs to its fabric: two fabrics number their jobs apart', async () => {
    const spec = { topology: buildTopology({ kind: 'star', hosts: 2 }), mode: 'sim' as const, seed: 1, links: {}, program: await loadProgram('l3') };
    const a = await Fabric.build(spec);
    const b = await Fabric.build(spec);
    try {
      expect(a.jobIds.next('allreduce')).toBe(1);
      expect(a.jobIds.next('allreduce')).toBe(2);
      expect(b.jobIds.next('allreduce')).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
