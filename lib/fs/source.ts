/**
 * The one filesystem read of migrations: list a directory and read its `.sql`
 * files into `{name, bytes}` entries for `files.ts`. The file read and the
 * read errors are shared with `import/source.ts`, which reads other tools'
 * directories.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { type FileEntry, isSqlFileName } from "../core/files.ts";

/**
 * Read every visible `.sql` file of `dir` (other files are not read).
 * Throws `DIR_NOT_FOUND` or `DIR_UNREADABLE` naming the directory, or the
 * file that could not be read, and the option it came from.
 */
export function readMigrationDir(dir: string, origin = "--dir"): FileEntry[] {
  const names: string[] = [];
  const folders: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!isSqlFileName(e.name)) continue;
      if (e.isDirectory) folders.push(e.name);
      else names.push(e.name);
    }
  } catch (err) {
    throw readError(err, `migrations directory "${dir}"`, {
      notFound:
        `Create it, or point ${origin} (or STRATA_DIR) at the directory that holds the .sql files`,
      unreadable: `Check that ${origin} names a readable directory`,
    });
  }
  if (folders.length > 0) {
    const path = `${dir.replace(/\/+$/, "")}/${folders.sort()[0]}/`;
    throw new StrataError("BAD_FILE_NAME", `Cannot load "${path}": it is a directory`, {
      file: folders[0],
      hint: "A directory named like a migration file would be skipped silently; rename it or " +
        "move it out of the migrations directory",
    });
  }
  // Synchronous reads: for thousands of small files they are several times faster
  // than as many concurrent async reads, and nothing else runs meanwhile. Down files
  // are read when first used: an upgrade never needs them.
  return names.sort().map((name) => {
    if (!/\.down\.sql$/i.test(name)) return { name, bytes: readDirFile(dir, name) };
    let bytes: Uint8Array | undefined;
    return {
      name,
      get bytes() {
        return bytes ??= readDirFile(dir, name);
      },
    };
  });
}

/**
 * The bytes of `name` in `dir`. Throws `DIR_UNREADABLE` naming the file
 * (also as the error's `file`) when it cannot be read.
 */
export function readDirFile(dir: string, name: string): Uint8Array {
  try {
    return Deno.readFileSync(`${dir}/${name}`);
  } catch (err) {
    throw new StrataError(
      "DIR_UNREADABLE",
      `Cannot read "${dir}/${name}": ${describeFsError(err)}`,
      {
        file: name,
        hint: "Check the file's permissions",
        cause: err,
      },
    );
  }
}

/**
 * The error for a directory or file that cannot be read: `DIR_NOT_FOUND`
 * with `hints.notFound` when it does not exist, `DIR_UNREADABLE` with
 * `hints.unreadable` (and `err` as the cause) otherwise. `what` names it in
 * the message: `Cannot read <what>: <why>`.
 */
export function readError(
  err: unknown,
  what: string,
  hints: { readonly notFound: string; readonly unreadable: string },
): StrataError {
  if (err instanceof Deno.errors.NotFound) {
    return new StrataError("DIR_NOT_FOUND", `Cannot read ${what}: not found`, {
      hint: hints.notFound,
    });
  }
  return new StrataError("DIR_UNREADABLE", `Cannot read ${what}: ${describeFsError(err)}`, {
    hint: hints.unreadable,
    cause: err,
  });
}

/** A filesystem error as a message's detail: "permission denied", "not a directory" or its text. */
export function describeFsError(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotADirectory) return "not a directory";
  return err instanceof Error ? err.message : String(err);
}
