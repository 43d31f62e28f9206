/**
 * Reading another tool's files: every visible file of one directory (not
 * its subdirectories), as `{name, bytes}` entries for the pure converters.
 *
 * @module
 */

import type { StrataError } from "../core/errors.ts";
import type { FileEntry } from "../core/files.ts";
import { readDirFile, readError } from "../fs/source.ts";

/**
 * The visible files of `dir`, sorted by name. Throws `DIR_NOT_FOUND` or
 * `DIR_UNREADABLE` naming the directory and `option`.
 */
export function readSourceDir(dir: string, option = "--source"): FileEntry[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && !e.name.startsWith(".")) names.push(e.name);
    }
  } catch (err) {
    throw sourceError(err, dir, option);
  }
  return names.sort().map((name) => ({ name, bytes: readDirFile(dir, name) }));
}

/** The text of one file (for `alembic.ini`); throws like `readSourceDir`. */
export function readSourceFile(path: string, option = "--source"): string {
  try {
    return new TextDecoder().decode(Deno.readFileSync(path));
  } catch (err) {
    throw sourceError(err, path, option);
  }
}

function sourceError(err: unknown, path: string, option: string): StrataError {
  return readError(err, `"${path}"`, {
    notFound: `Point ${option} at the other tool's migrations`,
    unreadable: `Check that ${option} names a readable directory`,
  });
}
