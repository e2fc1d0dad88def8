/**
 * Output paths (`--json OUT`, `--out DIR`, `--ready-file`) are checked before the work they
 * record, so a typo in a directory costs a second, not a finished run: the check really creates
 * (and removes) a file or directory there, because permission bits alone miss read-only and
 * pseudo file systems (as root, access() says yes to /sys; /proc answers ENOENT to a create,
 * on which a recursive mkdir never returns).
 *
 * Errors are OutputPathError (exit 2), naming the option, the path and the reason in words.
 */
import { closeSync, mkdtempSync, openSync, rmdirSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

/** Why a write failed, in words (callers have checked that the directory exists, so ENOENT is a refusal). */
export function writeFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'ENOENT':
      return 'the file system refuses to create files there';
    default:
      return (e as Error).message;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

/** `path` can be written as a file ("-", stdout, always can). Creates nothing that stays. */
export function checkOutputFile(option: string, path: string | undefined): void {
  if (path === undefined || path === '-') return;
  const where = `${option} ${path}`;
  const st = statOrNull(path);
  if (st?.isDirectory()) throw new OutputPathError(`${where}: is a directory; expected a file path, e.g. ${join(path, 'report.json')}`);
  if (st) {
    try {
      closeSync(openSync(path, 'a')); // opens for writing without changing a byte
    } catch (e) {
      throw new OutputPathError(`${where}: cannot write it: ${writeFailure(e)}`);
    }
    return;
  }
  const parent = dirname(resolve(path));
  const ps = statOrNull(parent);
  if (!ps) throw new OutputPathError(`${where}: the directory ${parent} does not exist`);
  if (!ps.isDirectory()) throw new OutputPathError(`${where}: ${parent} is not a directory`);
  try {
    closeSync(openSync(path, 'wx'));
    unlinkSync(path);
  } catch (e) {
    throw new OutputPathError(`${where}: cannot create it in ${parent}: ${writeFailure(e)}`);
  }
}

/** `dir` exists as a writable directory, or can be created (in its nearest existing ancestor). */
export function checkOutputDir(option: string, dir: string): void {
  const where = `${option} ${dir}`;
  let existing = resolve(dir);
  let st = statOrNull(existing);
  while (!st && dirname(existing) !== existing) {
    existing = dirname(existing);
    st = statOrNull(existing);
  }
  if (!st || !st.isDirectory()) throw new OutputPathError(`${where}: ${existing} is not a directory`);
  try {
    rmdirSync(mkdtempSync(join(existing, '.ina-write-check-')));
  } catch (e) {
    const what = existing === resolve(dir) ? 'cannot write in it' : `cannot create it in ${existing}`;
    throw new OutputPathError(`${where}: ${what}: ${writeFailure(e)}`);
  }
}

/** Writes `text` to `path`; a failure is an OutputPathError naming the option and the reason. */
export function writeOutputFile(option: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new OutputPathError(`${option} ${path}: cannot write it: ${writeFailure(e)}`);
  }
}
