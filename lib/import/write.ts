/**
 * Writing converted files into the migrations directory: only into a
 * directory without `.sql` files (created when missing), never over a file,
 * and all or nothing.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { isSqlFileName } from "../core/files.ts";
import type { ConvertedFile } from "../core/import_common.ts";
import { describeFsError } from "../fs/source.ts";

/**
 * Throw `FILE_EXISTS` when `dir` already holds `.sql` files (an import
 * never mixes with or overwrites migrations). A missing directory is fine.
 */
export function checkTargetDir(dir: string): void {
  let existing: string[] = [];
  try {
    existing = [...Deno.readDirSync(dir)].map((e) => e.name).filter(isSqlFileName).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new StrataError(
      "DIR_NOT_WRITABLE",
      `Cannot import into "${dir}": ${describeFsError(err)}`,
      {
        hint: "Point --dir (or STRATA_DIR) at a new or empty directory",
        cause: err,
      },
    );
  }
  if (existing.length === 0) return;
  throw new StrataError(
    "FILE_EXISTS",
    `Cannot import into "${dir}": it already holds ${existing.length} .sql file` +
      `${existing.length > 1 ? "s" : ""} ("${existing[0]}"${existing.length > 1 ? ", …" : ""})`,
    { hint: "Import into a new or empty directory with --dir; nothing was written" },
  );
}

/**
 * Write `files` into `dir` (created when missing). Each is created new; on
 * any failure the files written so far are removed and `DIR_NOT_WRITABLE`
 * (or `FILE_EXISTS`) is thrown, leaving the directory as it was.
 */
export function writeConverted(dir: string, files: readonly ConvertedFile[]): string[] {
  const written: string[] = [];
  try {
    Deno.mkdirSync(dir, { recursive: true });
    for (const f of files) {
      const path = `${dir.replace(/\/+$/, "")}/${f.name}`;
      Deno.writeTextFileSync(path, f.text, { createNew: true });
      written.push(path);
    }
    return written;
  } catch (err) {
    for (const path of written) Deno.removeSync(path);
    const exists = err instanceof Deno.errors.AlreadyExists;
    const why = exists ? "a file of that name appeared" : describeFsError(err);
    throw new StrataError(
      exists ? "FILE_EXISTS" : "DIR_NOT_WRITABLE",
      `Cannot import into "${dir}": ${why}`,
      { hint: "Nothing was written; point --dir at a directory you can write", cause: err },
    );
  }
}
