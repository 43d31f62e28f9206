/**
 * Reading another tool's files: every visible file of one directory (not
 * its subdirectories), as `{name, bytes}` entries for the pure converters.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import type { FileEntry } from "../core/files.ts";

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
  return names.sort().map((name) => {
    try {
      return { name, bytes: Deno.readFileSync(`${dir}/${name}`) };
    } catch (err) {
      throw new StrataError("DIR_UNREADABLE", `Cannot read "${dir}/${name}": ${errText(err)}`, {
        file: name,
        hint: "Check the file's permissions",
        cause: err,
      });
    }
  });
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
  if (err instanceof Deno.errors.NotFound) {
    return new StrataError("DIR_NOT_FOUND", `Cannot read "${path}": not found`, {
      hint: `Point ${option} at the other tool's migrations`,
    });
  }
  return new StrataError("DIR_UNREADABLE", `Cannot read "${path}": ${errText(err)}`, {
    hint: `Check that ${option} names a readable directory`,
    cause: err,
  });
}

function errText(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotADirectory) return "not a directory";
  return err instanceof Error ? err.message : String(err);
}
