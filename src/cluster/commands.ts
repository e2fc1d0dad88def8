import { InvalidArgumentError, Option, type Command } from 'commander';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadScenario } from '../scenario/load.js';
import { buildTopology } from '../topology/from-spec.js';
import { loadWorkload } from '../run/registry.js';
import { variantNumbers } from '../run/runner.js';

import { linkConfigFor, linkIsDown } from '../run/fabric.js';
import { deliverReport } from '../report/deliver.js';
import { checkOutputFile, OutputPathError } from '../output-path.js';
import type { Report } from '../report/types.js';
import { connectControl, parseControlAddress, type ControlAddress } from './control-channel.js';
import { runUp } from './coordinator.js';
import { runNode, NodeError } from './node.js';
import { attachLauncher, netnsLauncher, processLauncher, type NodeLauncher } from './launchers.js';
import { checkNetnsAllowed, listNamespaces, NeedsRootError, removeNamespaces } from './netns.js';
import { planDown } from './down-plan.js';
import { markerIsAlive, readRunMarkers, removeRunMarker } from './run-markers.js';
import { needsShaping } from './kernel-shaping.js';
import { addressMapOf } from './address-map.js';
import { loopbackRangeProblem, type Addressing } from './link-addresses.js';

/** What the cluster commands borrow from the CLI (kept there, shared with `ina run`). */
export interface CliHelpers {
  writeJson(out: string, value: unknown): void;
  progressBar(enabled: boolean): { update(label: string, f: number): void; stop(): void };
  setCode(code: number): void;
  parseSeed(v: string): number;
  readonly EXIT_WRONG: number;
  readonly EXIT_USAGE: number;
}

/** Where `ina up` keeps its control socket (one folder per run, in the temp folder). */
const CONTROL_DIR_PREFIX = 'ina-up-';

/** A bad command line or an environment that cannot run it: exit 2 with this message. */
export class UsageError extends Error {}

function parseAddress(v: string): ControlAddress {
  try {
    return parseControlAddress(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function parseAddressing(v: string): Addressing | { kind: 'map-file'; file: string } {
  if (v === 'links') return { kind: 'links' };
  if (v.startsWith('map:') && v.length > 4) return { kind: 'map-file', file: v.slice(4) };
  const m = /^loopback:(\d+)$/.exec(v);
  if (m && Number(m[1]) > 0 && Number(m[1]) < 65536) return { kind: 'loopback', basePort: Number(m[1]) };
  throw new InvalidArgumentError('expected links, loopback:BASEPORT or map:FILE');
}

/** --addressing, its default shown as what one would type ("links"), not as the parsed object. */
function addressingOption(description: string): Option {
  return new Option('--addressing <plan>', description).argParser(parseAddressing).default(parseAddressing('links'), 'links');
}

function parseChoice<T extends string>(choices: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected ${choices.join(' or ')}`);
    return v as T;
  };
}

/** Every workload must be written for several processes (checked once, before any node starts). */
async function checkDistributable(file: string, scenario: ReturnType<typeof loadScenario>): Promise<void> {
  for (const [i, w] of scenario.workloads.entries()) {
    const mod = await loadWorkload(w.kind);
    if (!mod.distributed) throw new UsageError(`${file}: workloads.${i} (${w.kind}) cannot run across processes yet; run this scenario with ina run`);
  }
}

/** Loopback ports from `basePort` hold every fabric the scenario's run builds (a compared scheme gets its own block). */
function checkLoopbackRange(file: string, basePort: number): void {
  let scenario;
  try {
    scenario = loadScenario(file);
  } catch {
    return; // the command reports a bad scenario its own way
  }
  const links = buildTopology(scenario.topology).links.length;
  const problem = loopbackRangeProblem(basePort, links, variantNumbers(scenario).count + 1);
  if (problem) throw new UsageError(`--addressing ${problem}`);
}

export function registerClusterCommands(program: Command, h: CliHelpers): void {
  program
    .command('node')
    .description('run one switch or host of a scenario in this process (started by ina up, a container or by hand)')
    .requiredOption('--scenario <file>', 'scenario YAML file (the same file every node and the coordinator read)')
    .requiredOption('--node <name>', 'the node to run (s0, leaf1, h3, ...)')
    .requiredOption('--control <addr>', "the coordinator's control channel: unix:/path or tcp:host:port", parseAddress)
    .addOption(addressingOption('where link ends live: links (one subnet per link), loopback:BASEPORT, or map:FILE (node:port -> host:port, see ina addresses)'))
    .option('--shaping <how>', 'software (the emulator shapes links) or kernel (tc on this node\'s interfaces)', parseChoice(['software', 'kernel'] as const), 'software')
    .option('--ready-file <path>', 'written once the node is up (for container healthchecks)')
    .action(async (o: { scenario: string; node: string; control: ControlAddress; addressing: Addressing | { kind: 'map-file'; file: string }; shaping: 'software' | 'kernel'; readyFile?: string }) => {
      checkOutputFile('--ready-file', o.readyFile);
      if (o.addressing.kind === 'loopback') checkLoopbackRange(o.scenario, o.addressing.basePort);
      try {
        await runNode({ scenarioFile: o.scenario, node: o.node, control: o.control, addressing: o.addressing, shaping: o.shaping, readyFile: o.readyFile });
      } catch (e) {
        if (!(e instanceof NodeError)) throw e;
        process.stderr.write(`ina node ${o.node}: ${e.message}\n`);
        h.setCode(e.usage ? h.EXIT_USAGE : h.EXIT_WRONG);
      }
    });

  program
    .command('up')
    .description('run a scenario with every switch and host its own process, and make the report ina run makes')
    .argument('<file>', 'scenario YAML file')
    .option('--mode <mode>', 'process (processes on loopback), netns (a network namespace per node, links veth pairs shaped by tc; root), attach (nodes started elsewhere connect to --listen)', parseChoice(['process', 'netns', 'attach'] as const), 'process')
    .option('--listen <addr>', 'control channel address (attach: default tcp:0.0.0.0:7000; otherwise a Unix socket)', parseAddress)
    .option('--seed <n>', 'seed (overrides the file)', h.parseSeed)
    .option('--json <out>', 'write the JSON report to a file, or - for stdout (the table then goes to stderr)')
    .option('--quiet', 'no progress bar')
    .option('--verbose', "echo the nodes' logs on stderr")
    .action(async (file: string, o: { mode: 'process' | 'netns' | 'attach'; listen?: ControlAddress; seed?: number; json?: string; quiet?: boolean; verbose?: boolean }) => {
      const scenario = loadScenario(file);
      checkOutputFile('--json', o.json); // before any node starts
      await checkDistributable(file, scenario);
      const topology = buildTopology(scenario.topology);
      const abs = resolve(file);
      if (o.mode === 'netns') checkNetnsAllowed();
      const run = Math.random().toString(36).slice(2, 6);
      const shaped = topology.links.some((l) => !linkIsDown(scenario.links, l.a, l.b) && needsShaping(linkConfigFor(scenario.links, l.a, l.b)));
      const down = (i: number): boolean => linkIsDown(scenario.links, topology.links[i]!.a, topology.links[i]!.b);
      const launcher: NodeLauncher =
        o.mode === 'process'
          ? await processLauncher(abs, topology, variantNumbers(scenario).count, o.verbose)
          : o.mode === 'netns'
            ? netnsLauncher(abs, topology, run, shaped, down, o.verbose)
            : attachLauncher();
      // made after the launcher, which may refuse (no free ports), so nothing is left behind
      const dir = o.mode === 'attach' ? null : mkdtempSync(join(tmpdir(), CONTROL_DIR_PREFIX));
      const listen = o.listen ?? (dir ? parseControlAddress(`unix:${join(dir, 'control.sock')}`) : parseControlAddress('tcp:0.0.0.0:7000'));
      const cleanup = (): void => {
        if (dir) rmSync(dir, { recursive: true, force: true });
        else if (listen.kind === 'unix') rmSync(listen.path, { force: true });
      };
      // Ctrl-C or a kill: stop the nodes and remove the namespaces before going.
      const onSignal = (sig: NodeJS.Signals): void => {
        process.stderr.write(`ina up: ${sig}, stopping the nodes\n`);
        void launcher.stop().finally(() => {
          cleanup();
          process.exit(130);
        });
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      // Whatever happens to this process, the nodes and namespaces go with it: a reader that
      // went away (EPIPE) is not a reason to crash, and a crash still cleans up.
      const ignore = (): void => {};
      process.stdout.on('error', ignore);
      process.stderr.on('error', ignore);
      const onCrash = (e: unknown): void => {
        launcher.stopNow();
        cleanup();
        try {
          process.stderr.write(`ina up: ${e instanceof Error ? e.message : String(e)}\n`);
        } finally {
          process.exit(h.EXIT_WRONG);
        }
      };
      process.once('uncaughtException', onCrash);
      process.once('unhandledRejection', onCrash);
      const bar = h.progressBar(!o.quiet && !o.verbose && process.stderr.isTTY === true);
      const log = o.verbose ? (l: string) => process.stderr.write(`[coordinator] ${l}\n`) : undefined;
      const emit = (report: Report): void => {
        bar.stop();
        h.setCode(report.runs.every((r) => r.correct) ? 0 : h.EXIT_WRONG);
        try {
          deliverReport(report, o.json); // the table first, then the file
        } catch (e) {
          if (!(e instanceof OutputPathError)) throw e;
          process.stderr.write(`ina up: ${e.message}\n`);
          h.setCode(h.EXIT_USAGE);
        }
      };
      try {
        await runUp({ scenario, seed: o.seed, launcher, listen, log, onProgress: (l, f) => bar.update(l, f), onReport: emit });
      } catch (e) {
        bar.stop();
        process.stderr.write(`ina up: ${(e as Error).message}\n`);
        h.setCode(h.EXIT_WRONG);
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        process.removeListener('uncaughtException', onCrash);
        process.removeListener('unhandledRejection', onCrash);
        cleanup();
      }
    });

  program
    .command('addresses')
    .description('print where every link end of a scenario lives under an addressing plan, as an address map to edit (for ina node --addressing map:FILE)')
    .argument('<file>', 'scenario YAML file')
    .addOption(addressingOption('links or loopback:BASEPORT'))
    .action((file: string, o: { addressing: Addressing | { kind: 'map-file' } }) => {
      if (o.addressing.kind === 'map-file') throw new UsageError('ina addresses prints a map for a plan (links or loopback:BASEPORT); a map file is already one');
      const scenario = loadScenario(file);
      const topology = buildTopology(scenario.topology);
      if (o.addressing.kind === 'loopback') checkLoopbackRange(file, o.addressing.basePort);
      const map = addressMapOf(topology, o.addressing);
      process.stdout.write(`# ${file}: link end (node:port) -> host:port; ports of a compared scheme's fabric are 2 x ${topology.links.length} x n higher\n`);
      for (const [k, v] of Object.entries(map)) process.stdout.write(`${k}: "${v}"\n`);
    });

  program
    .command('down')
    .description('remove the network namespaces (and their processes) that a killed ina up --mode netns left behind; a live run\'s stay')
    .option('--all', 'remove every ina namespace, live runs and untagged ones included')
    .action(async (o: { all?: boolean }) => {
      try {
        checkNetnsAllowed();
      } catch (e) {
        if (e instanceof NeedsRootError) throw new UsageError(e.message.replace('ina up --mode netns creates', 'ina down removes'));
        throw e;
      }
      const plan = planDown(listNamespaces(), readRunMarkers(), markerIsAlive, o.all === true);
      const removed = removeNamespaces(plan.remove);
      for (const run of plan.markers) removeRunMarker(run);
      // and the control-socket folders of coordinators that were killed outright (a live
      // coordinator still answers on its socket: its folder stays)
      const dirs: string[] = [];
      for (const d of readdirSync(tmpdir()).filter((x) => x.startsWith(CONTROL_DIR_PREFIX))) {
        const sock = join(tmpdir(), d, 'control.sock');
        if (!existsSync(sock)) continue; // not a coordinator's folder (or already clean)
        const live = await connectControl({ kind: 'unix', path: sock }, 0).then(
          (c) => (c.close(), true),
          () => false,
        );
        if (!live) {
          rmSync(join(tmpdir(), d), { recursive: true, force: true });
          dirs.push(d);
        }
      }
      process.stderr.write(removed.length ? `ina down: removed ${removed.length} namespaces: ${removed.join(', ')}\n` : 'ina down: no namespaces to remove\n');
      for (const l of plan.live) {
        process.stderr.write(`ina down: left the ${l.namespaces.length} namespaces of run ${l.run} alone: its coordinator (pid ${l.pid}) is running; ina down --all removes them too\n`);
      }
      if (plan.untagged.length) {
        process.stderr.write(`ina down: left ${plan.untagged.length} namespaces no run claims alone (${plan.untagged.join(', ')}): made by hand or by an older ina; ina down --all removes them\n`);
      }
      if (dirs.length) process.stderr.write(`ina down: removed ${dirs.length} control-socket folders from ${tmpdir()}\n`);
    });
}
