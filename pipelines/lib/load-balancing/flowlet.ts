import type { PipelineEnv, ProgramBuilder } from '../../../src/pipeline/program.js';
import type { Counter } from '../../../src/pipeline/externs/counter.js';
import type { RandomExtern } from '../../../src/pipeline/externs/random.js';
import { FlowletTable, flowletGapNs } from './flowlet-table.js';
import { LB_STAT_CHOICES, LB_STAT_MOVES, LB_STAT_NEW_FLOWLETS, memberPort, type LoadBalancer } from './scheme.js';

/**
 * flowlet (LetFlow, Vanini et al., NSDI 2017): a flowlet table in registers keyed by a hash of
 * the 5-tuple; a packet arriving more than `flowletGapUs` after the previous packet of its
 * entry starts a new flowlet on a uniformly random member.
 */
export function flowletBalancer<M>(p: ProgramBuilder<M>, env: PipelineEnv, stats: Counter): LoadBalancer<M> {
  const table = new FlowletTable(p, 'flowlet', flowletGapNs(env.options));
  const random: RandomExtern = p.random('flowlet');
  return {
    kind: 'flowlet',
    choose(pkt, g) {
      stats.count(LB_STAT_CHOICES, 0);
      let i = table.current(pkt, g);
      if (i < 0) {
        i = random.read(0, g.members.length - 1);
        const port = memberPort(g, i);
        stats.count(LB_STAT_NEW_FLOWLETS, 0);
        if (table.previousPort >= 0 && table.previousPort !== port) stats.count(LB_STAT_MOVES, 0);
        table.pin(port);
      }
      return i;
    },
  };
}
