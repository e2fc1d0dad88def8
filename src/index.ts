/**
 * ina as a library (`import { ... } from 'ina-emulator'`): what the `ina` command does, one call
 * at a time. The README's "Library" section shows each use. Everything here is a stable name;
 * anything else under src/ may move.
 *
 * The sources are TypeScript run through tsx (no build step): a script using the package runs
 * with `node --import tsx script.ts`, and vitest or tsx load it as they are.
 */

// ---- scenarios: load, validate, describe ---------------------------------------------------
export { loadScenario, parseScenario, validateScenario, ScenarioError, type ScenarioProblem } from './scenario/load.js';
export {
  ScenarioSchema,
  type Scenario,
  type ScenarioInput,
  type Workload,
  type WorkloadKind,
  type PingallWorkload,
  type AllreduceWorkload,
  type MoeWorkload,
  type FlowsWorkload,
  type LinkSettings,
  type SwitchSettings,
} from './scenario/schema.js';
/** the scenario format as a JSON Schema (draft-07), as `ina schema` prints it */
export { scenarioJsonSchema } from './scenario/json-schema.js';

// ---- topology and fabric -------------------------------------------------------------------
export { buildTopology } from './topology/from-spec.js';
export { nodeByName, attachmentOf, type Topology, type TopologySpec, type NodeSpec, type LinkSpec } from './topology/types.js';
/** switches and hosts wired by shaped links, routes installed; `.switches`, `.hosts`, `.clock` */
export { Fabric, type FabricSpec } from './run/fabric.js';
export { HostStack } from './host/host-stack.js';
export { SimClock } from './net/sim-clock.js';

// ---- running workloads ---------------------------------------------------------------------
/** every workload of a scenario on a fresh fabric: the report `ina run` prints */
export { runScenario, buildScenarioFabric, type RunOptions } from './run/runner.js';

// ---- switch programs -----------------------------------------------------------------------
export { defineProgram, ProgramBuilder, type ProgramFactory, type PipelineEnv, type Controls } from './pipeline/program.js';
export type { Packet } from './pipeline/packet.js';
export { declareCommonHeader, verifyCommonHeader } from './pipeline/common-header.js';
/** the `ipv4_lpm` stage the routing controller fills; a program that forwards applies it */
export { declareForwarding, type ForwardingKind } from '../pipelines/lib/forwarding.js';
/** the programs of pipelines/ by name (l3, ecmp, flowlet, drill, conga, switchml, sharp) */
export { loadProgram, PROGRAM_NAMES } from './run/registry.js';
export { makeFrame, frameSrc, frameDst, frameSeq, payloadOf, HEADER_BYTES, OFF_PROTOCOL, OFF_DST, type FrameInit } from './wire/common-header.js';

// ---- reports -------------------------------------------------------------------------------
export type { Report, RunResult, PingallResult, AllreduceResult, GenericResult, LinkReport, SwitchReport, Percentiles } from './report/types.js';
/** the human table of `ina run` */
export { renderReport } from './report/table.js';
