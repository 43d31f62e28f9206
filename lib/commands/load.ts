/**
 * What commands load: the migrations directory (every problem at once) and,
 * for the read-only commands, the stored state checked against the files.
 *
 * @module
 */

import { findEdited } from "../core/checksum.ts";
import { StrataError } from "../core/errors.ts";
import { loadMigrations } from "../core/files.ts";
import type { Migration } from "../core/types.ts";
import { STRATA_VERSION } from "../core/version.ts";
import { readState, renderEnsureTables, type StoredState } from "../db/store.ts";
import { readMigrationDir } from "../fs/source.ts";
import type { CommandContext } from "./context.ts";
import { withSession } from "./session.ts";

/**
 * Read and load the migrations directory. Throws `FILES_INVALID` listing
 * every problem, or the directory error.
 */
export async function loadDir(ctx: CommandContext): Promise<readonly Migration[]> {
  const entries = readMigrationDir(ctx.dir);
  const { migrations, problems } = await loadMigrations(entries);
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) {
    throw new StrataError(
      "FILES_INVALID",
      `Cannot load migrations from "${ctx.dir}": ${problems.length} problems`,
      {
        details: problems.flatMap((p) => [`- ${p.message}`, ...(p.hint ? [`  (${p.hint})`] : [])]),
        hint: "Fix each file; nothing was run",
      },
    );
  }
  return migrations;
}

/** The stored state, the versions whose applied file was edited since, and the table SQL. */
export interface CheckedState extends StoredState {
  readonly edited: ReadonlySet<bigint>;
  /** The SQL that would make the tables ready for writing (creation or a format upgrade). */
  readonly prepareTables: string;
}

/**
 * Read the version table in a read-only session with no lock (creates
 * nothing), and check the applied checksums against `migrations` (none are
 * checked, and `edited` is empty, without them).
 */
export async function readStateOnly(
  ctx: CommandContext,
  migrations: readonly Migration[] = [],
): Promise<CheckedState> {
  const state = await withSession(ctx, { writable: false, lock: false }, async (db) => ({
    ...await readState(db, ctx.table),
    prepareTables: await renderEnsureTables(db, {
      table: ctx.table,
      strataVersion: STRATA_VERSION,
    }),
  }));
  return { ...state, edited: await findEdited(migrations, state.rows) };
}
