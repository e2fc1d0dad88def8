/** `ina export <file> --format compose|containerlab --out <dir>`, for the CLI to register. */
import { InvalidArgumentError, type Command } from 'commander';
import { EXPORT_FORMATS, exportScenario, type ExportFormat } from './export.js';
import { checkOutputDir, OutputPathError, writeFailure } from '../output-path.js';

export interface ExportHelpers {
  /** where the one-line summary goes; stdout by default */
  log?: (line: string) => void;
}

function parseFormat(v: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected ${EXPORT_FORMATS.join(' or ')}`);
  return v as ExportFormat;
}

export function registerExport(program: Command, helpers: ExportHelpers = {}): Command {
  const log = helpers.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  return program
    .command('export')
    .description('write a Docker Compose or containerlab lab for a scenario: every node its own container')
    .argument('<file>', 'scenario YAML file')
    .requiredOption('--format <format>', `${EXPORT_FORMATS.join(' | ')}`, parseFormat)
    .requiredOption('--out <dir>', 'directory to write (created if missing; files of the same name are replaced)')
    .action((file: string, o: { format: ExportFormat; out: string }) => {
      checkOutputDir('--out', o.out);
      let r;
      try {
        r = exportScenario(file, o.format, o.out);
      } catch (e) {
        // a disk that fills up or changes between the check and the writes
        if ((e as NodeJS.ErrnoException).code && (e as NodeJS.ErrnoException).syscall) throw new OutputPathError(`--out ${o.out}: cannot write the lab: ${writeFailure(e)}`);
        throw e;
      }
      log(`wrote ${r.dir}: ${r.files.join(', ')} (see README.md there)`);
    });
}
