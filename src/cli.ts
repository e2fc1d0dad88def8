import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { loadScenario, ScenarioError } from './scenario/load.js';
import { runScenario } from './run/runner.js';
import { deliverReport } from './report/deliver.js';
import { checkOutputFile, OutputPathError, writeOutputFile } from './output-path.js';
import { registerClusterCommands, UsageError } from './cluster/commands.js';
import { NeedsRootError } from './cluster/netns.js';
import { registerExport } from './deploy/export-command.js';
import { registerFuzz } from './cli/fuzz.js';

/** The package's version, for `ina --version`: package.json is the one place it is written. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Where a newcomer goes after `ina --help`: paths of this installation, wherever it is. */
const HELP_AFTER = `
Examples:
  ina run ${fileURLToPath(new URL('../scenarios/quickstart.yaml', import.meta.url))}
  ina run FILE.yaml --mode sim --json report.json   virtual time, and the JSON report

Scenarios to start from: ${fileURLToPath(new URL('../scenarios/', import.meta.url))}
Every scenario key with its default and range, the report fields and the library API:
  ${fileURLToPath(new URL('../README.md', import.meta.url))}`;

/** Exit codes of the contract: 0 all correct, 1 some run wrong, 2 bad arguments or scenario. */
export const EXIT_OK = 0;
export const EXIT_WRONG = 1;
export const EXIT_USAGE = 2;

/** Writes JSON to a file, or to stdout for "-". */
function writeJson(out: string, value: unknown): void {
  const text = JSON.stringify(value, null, 2) + '\n';
  if (out === '-') process.stdout.write(text);
  else writeOutputFile('--json', out, text);
}

function parseMode(v: string): 'sim' | 'udp' {
  if (v !== 'sim' && v !== 'udp') throw new InvalidArgumentError('expected sim or udp');
  return v;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('expected an integer 0..4294967295');
  return n;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function progressBar(enabled: boolean): { update(label: string, f: number): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: ' {bar} {percentage}% | {label}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(label, f) {
      if (!started) {
        bar.start(100, 0, { label });
        started = true;
      }
      bar.update(Math.round(f * 100), { label });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = new Command('ina')
    .description('A programmable-switch emulator for in-network aggregation and load balancing')
    .version(VERSION, '-V, --version', 'print the version')
    .addHelpText('after', HELP_AFTER)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('run')
    .description('run every workload of a scenario and print a table (and a JSON report)')
    .argument('<file>', 'scenario YAML file')
    .option('--mode <mode>', 'sim | udp (overrides the file)', parseMode)
    .option('--seed <n>', 'seed (overrides the file)', parseSeed)
    .option('--json <out>', 'write the JSON report to a file, or - for stdout (the table then goes to stderr)')
    .option('--quiet', 'no progress bar')
    .action(async (file: string, o: { mode?: 'sim' | 'udp'; seed?: number; json?: string; quiet?: boolean }) => {
      const scenario = loadScenario(file);
      checkOutputFile('--json', o.json); // before the run, not after it
      const bar = progressBar(!o.quiet && process.stderr.isTTY === true);
      let report;
      try {
        report = await runScenario(scenario, { mode: o.mode, seed: o.seed, onProgress: (l, f) => bar.update(l, f) });
      } finally {
        bar.stop();
      }
      code = report.runs.every((r) => r.correct) ? EXIT_OK : EXIT_WRONG;
      deliverReport(report, o.json);
    });

  program
    .command('schema')
    .description('print the JSON Schema of scenario files (for editors; the README has the same as a reference)')
    .action(async () => {
      const { schemaFileText } = await import('./scenario/json-schema.js');
      process.stdout.write(schemaFileText());
    });

  registerClusterCommands(program, { writeJson, progressBar, setCode: (c) => (code = c), parseSeed, EXIT_WRONG, EXIT_USAGE });
  registerExport(program);
  registerFuzz(program, { writeJson, setCode: (c) => (code = c), parseSeed, progressBar, EXIT_WRONG });

  const bench = program.command('bench').description('measure the emulator');
  bench
    .command('forwarding')
    .description('kpps of a bare datagram relay and of a switch running pipelines/l3, same frames, one run')
    .option('--json <out>', 'write the result as JSON (- for stdout)')
    .option('--seconds <s>', 'duration of each trial', positiveNumber, 3)
    .option('--trials <n>', 'trials of each (the medians are reported)', positiveInt, 3)
    .action(async (o: { json?: string; seconds: number; trials: number }) => {
      checkOutputFile('--json', o.json);
      const { benchForwarding } = await import('./bench/forwarding.js');
      const r = await benchForwarding({ seconds: o.seconds, trials: o.trials });
      process.stderr.write(`forwarding: relay ${r.relayKpps} kpps, switch (l3) ${r.switchKpps} kpps, ratio ${r.ratio} (${r.frameBytes}-byte frames)\n`);
      if (o.json) writeJson(o.json, r);
    });
  bench
    .command('pipeline')
    .description('Mpps of the match-action engine in-process, no sockets')
    .option('--json <out>', 'write the result as JSON (- for stdout)')
    .option('--packets <n>', 'packets per program', positiveInt, 2_000_000)
    .action(async (o: { json?: string; packets: number }) => {
      checkOutputFile('--json', o.json);
      const { benchPipeline } = await import('./bench/pipeline.js');
      const rs = await benchPipeline({ packets: o.packets });
      for (const r of rs) process.stderr.write(`pipeline ${r.program}: ${r.mpps} Mpps\n`);
      if (o.json) writeJson(o.json, rs.length === 1 ? rs[0] : rs);
    });

  bench
    .command('allreduce')
    .description('ring vs switchml on the same fabric in one run (sim: 64 MiB on 10 Gbit/s links; udp: 4 MiB on loopback)')
    .option('--json <out>', 'write the result as JSON (- for stdout)')
    .option('--mode <mode>', 'only this mode (sim | udp)', parseMode)
    .option('--sim-bytes <n>', 'tensor bytes in sim', positiveInt)
    .option('--udp-bytes <n>', 'tensor bytes over udp', positiveInt)
    .action(async (o: { json?: string; mode?: 'sim' | 'udp'; simBytes?: number; udpBytes?: number }) => {
      checkOutputFile('--json', o.json);
      const { benchAllreduce } = await import('./bench/allreduce.js');
      const rs = await benchAllreduce({ modes: o.mode ? [o.mode] : undefined, simBytes: o.simBytes, udpBytes: o.udpBytes });
      for (const r of rs) {
        process.stderr.write(
          `allreduce ${r.mode}: ${r.workers} workers, ${r.bytes} B: ring ${r.ringSec.toFixed(4)} s, switchml ${r.switchmlSec.toFixed(4)} s, ` +
            `speedup x${r.speedup} (theory ${r.theory})` +
            (r.switchmlGoodputOfLink !== null ? `, switchml goodput ${(r.switchmlGoodputOfLink * 100).toFixed(1)} % of link, ${(r.switchmlGoodputOfMax! * 100).toFixed(1)} % of max` : '') +
            `${r.correct ? '' : ' (NOT correct)'}\n`,
        );
      }
      if (o.json) writeJson(o.json, rs.length === 1 ? rs[0] : rs);
      if (!rs.every((r) => r.correct)) code = EXIT_WRONG;
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof ScenarioError || e instanceof UsageError || e instanceof NeedsRootError || e instanceof OutputPathError) {
      process.stderr.write(`ina: ${e.message}\n`);
      return EXIT_USAGE;
    }
    // A clear line, not a stack trace; INA_DEBUG=1 shows where it came from.
    process.stderr.write(`ina: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.INA_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return EXIT_USAGE;
  }
  return code;
}
