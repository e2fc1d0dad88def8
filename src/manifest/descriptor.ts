/**
 * What a switch program (pipelines/) or a workload (hosts/) says about itself, so that nothing
 * else has to: the scenario schema, the checks, the runner's choice of program, the table and
 * the loaders all read these descriptors (through a Manifest, src/manifest/manifest.ts) instead
 * of keeping per-kind lists and switches of their own.
 *
 * A descriptor is light (zod and a few constants): the scenario schema is built from it
 * synchronously for `ina schema` and the README reference. The heavy code (the program's
 * stages, the workload's agents) is behind `load`, imported only when a run needs it.
 */
import type { z } from 'zod';
import type { ProgramFactory } from '../pipeline/program.js';
import type { WorkloadModule } from '../run/workload.js';
import type { RunResult } from '../report/types.js';
import type { Topology } from '../topology/types.js';

/** keys a descriptor adds to a section of the scenario file, each with its default and meaning */
export type OptionFragment = Readonly<Record<string, z.ZodType>>;

export interface ProgramDescriptor {
  /** the name a scenario and `loadProgram` use */
  readonly name: string;
  /**
   * How it spreads traffic over equal-cost paths, said in a few words (`per flowlet`): a
   * program with this is a `switches.loadBalancing` choice; one without it (l3, the
   * aggregation programs) is chosen otherwise.
   */
  readonly spreads?: string;
  /**
   * Keys of the scenario's `switches` section this program reads, with their defaults (the one
   * place they are written). Two programs reading one key share the same fragment object.
   */
  readonly switchOptions?: OptionFragment;
  /**
   * In-network services the program offers beyond forwarding (an all-reduce algorithm's name):
   * a fabric whose workloads need services runs the program serving all of them (the one
   * serving fewest, when several do).
   */
  readonly serves?: readonly string[];
  load(): Promise<ProgramFactory>;
}

/** A topology-aware problem with a workload entry, its path relative to the entry. */
export interface WorkloadProblem {
  readonly path: readonly (string | number)[];
  readonly expected: string;
  readonly input?: unknown;
  readonly hint?: string;
}

/** The fields every workload schema may use that depend on the other descriptors. */
export interface SharedFields {
  /** one of the load-balancing schemes of the manifest's programs */
  readonly loadBalancing: z.ZodType<string>;
  /** their names, in manifest order */
  readonly loadBalancers: readonly string[];
  /** the `loadBalancing` key of a workload that compares schemes (see comparesSchemes) */
  readonly schemeList: z.ZodOptional<z.ZodArray<z.ZodType<string>>>;
}

/** How a workload's results are shown in `ina run`'s table. */
export interface WorkloadTable {
  /** this result is a row of the workload's table (a failed run without its figures is not) */
  isRow(r: RunResult): boolean;
  /** consecutive rows with the same key share one table; without it, each row is alone */
  key?(r: RunResult): string;
  lines(rows: readonly RunResult[], mode: 'sim' | 'udp'): string[];
  /** printed once under the report's runs when any of them is a row here */
  footer?(mode: 'sim' | 'udp'): string[];
}

export interface WorkloadDescriptor<S extends z.ZodObject = z.ZodObject> {
  /** the workload entry's `kind` */
  readonly kind: string;
  /** the entry's schema: `kind` as a described literal first, then its keys with defaults */
  schema(fields: SharedFields): S;
  /** the key selecting the hosts taking part (checked against the topology), and how many at least */
  readonly hosts?: { readonly key: string; readonly min: number };
  /** checks that need the topology, beyond `hosts` */
  check?(w: z.output<S>, topology: Topology): WorkloadProblem[];
  /**
   * The entry's `loadBalancing` lists the schemes it compares (one fabric per scheme); left out,
   * it is filled with the scenario's `switches.loadBalancing`.
   */
  readonly comparesSchemes?: boolean;
  /** services (see ProgramDescriptor.serves) the switches must offer for this entry */
  needs?(w: z.output<S>): readonly string[];
  readonly table?: WorkloadTable;
  load(): Promise<WorkloadModule>;
}

/** Type helpers: a descriptor keeps its literal types for the scenario's static types. */
export function defineProgramDescriptor<const D extends ProgramDescriptor>(d: D): D {
  return d;
}
export function defineWorkloadDescriptor<S extends z.ZodObject>(d: WorkloadDescriptor<S>): WorkloadDescriptor<S> {
  return d;
}
