import { InvalidArgumentError, type Command } from 'commander';

/** What the fuzz command needs from src/cli.ts. */
export interface FuzzCommandDeps {
  writeJson(out: string, value: unknown): void;
  setCode(code: number): void;
  parseSeed(v: string): number;
  progressBar(enabled: boolean): { update(label: string, f: number): void; stop(): void };
  readonly EXIT_WRONG: number;
}

function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 1e9) throw new InvalidArgumentError('expected an integer 0..1000000000');
  return n;
}

/**
 * `ina fuzz`: random and mutated frames of every protocol through every program, in-process
 * and optionally through a switch over UDP; exit 1 when a program threw or a frame was not
 * accounted for (src/fuzz).
 */
export function registerFuzz(program: Command, deps: FuzzCommandDeps): void {
  program
    .command('fuzz')
    .description('drive random and mutated frames of every protocol through every program; report outcomes by reason and exceptions (exit 1 if any)')
    .option('--frames <n>', 'frames per program, in-process', count, 100_000)
    .option('--seed <n>', 'seed of the frames (same seed, same counts)', deps.parseSeed, 1)
    .option('--programs <list>', 'comma-separated programs (default: all)')
    .option('--udp <n>', 'also send n frames per program as datagrams through a switch on loopback sockets', count, 0)
    .option('--json <out>', 'write the result as JSON (- for stdout)')
    .option('--quiet', 'no progress bar')
    .action(async (o: { frames: number; seed: number; programs?: string; udp: number; json?: string; quiet?: boolean }) => {
      const { runFuzz, fuzzPassed } = await import('../fuzz/run.js');
      const { renderFuzz } = await import('../fuzz/render.js');
      const bar = deps.progressBar(!o.quiet && process.stderr.isTTY === true);
      let r;
      try {
        r = await runFuzz({
          frames: o.frames,
          seed: o.seed,
          udpFrames: o.udp,
          ...(o.programs ? { programs: o.programs.split(',').map((s) => s.trim()).filter((s) => s.length > 0) } : {}),
          onProgress: (l, f) => bar.update(l, f),
        });
      } finally {
        bar.stop();
      }
      if (o.json && o.json !== '-') deps.writeJson(o.json, r);
      const text = renderFuzz(r) + '\n';
      if (o.json === '-') {
        process.stderr.write(text);
        deps.writeJson('-', r);
      } else process.stdout.write(text);
      if (!fuzzPassed(r)) deps.setCode(deps.EXIT_WRONG);
    });
}
