/**
 * The programs and workloads ina ships: the one list of them. Adding a scheme or a workload is
 * its descriptor file (next to its code) and its line here; everything else (the scenario
 * schema and reference, checks, the choice of program, the table, `ina bench`) follows.
 * Order matters only for what is printed: the schema and the README list kinds in this order.
 *
 * This is the one module under src/ that names files of pipelines/ and hosts/; it imports only
 * their descriptors (light), and their code is loaded when a run asks for it.
 */
import { l3 } from '../../pipelines/l3.descriptor.js';
import { ecmp } from '../../pipelines/ecmp.descriptor.js';
import { flowlet } from '../../pipelines/flowlet.descriptor.js';
import { drill } from '../../pipelines/drill.descriptor.js';
import { conga } from '../../pipelines/conga.descriptor.js';
import { switchml } from '../../pipelines/switchml.descriptor.js';
import { sharp } from '../../pipelines/sharp.descriptor.js';
import { pingall } from '../../hosts/pingall/descriptor.js';
import { allreduce } from '../../hosts/allreduce/descriptor.js';
import { moe } from '../../hosts/moe/descriptor.js';
import { flows } from '../../hosts/flows/descriptor.js';
import { manifestOf } from './manifest.js';

export const BUILTIN_PROGRAMS = [l3, ecmp, flowlet, drill, conga, switchml, sharp] as const;
export const BUILTIN_WORKLOADS = [pingall, allreduce, moe, flows] as const;

export const MANIFEST = manifestOf(BUILTIN_PROGRAMS, BUILTIN_WORKLOADS);
