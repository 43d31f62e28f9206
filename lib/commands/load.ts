/**
 * What commands load: the migrations directory (every problem at once) and,
 * for the read-only commands, the stored state checked against the files.
 *
 * @module
 */

import { type BaselineView, resolveBaseline } from "../core/baseline.ts";
import { findEdited } from "../core/checksum.ts";
import { attachEnv } from "../core/env_subst.ts";
import { StrataError } from "../core/errors.ts";
import { type FileEntry, loadMigrations } from "../core/files.ts";
import type { AppliedRow, Migration, Step } from "../core/types.ts";
import { renderBaselineRecord } from "../core/version_rows.ts";
import { readState, renderEnsureTables, type StoredState } from "../db/store.ts";
import { sessionRestore } from "../db/session.ts";
import { readMigrationDir } from "../fs/source.ts";
import { type CommandContext, tableContext } from "./context.ts";
import { serverMajor, withSession } from "./session.ts";

/**
 * What to do with the values of the variables files declare (`env` header):
 * `attach` them for running and keep them out of output (the default),
 * `reveal` them (`--dry-run --resolve-env`), or attach `none` (the file as written).
 */
export type EnvUse = "attach" | "reveal" | "none";

/**
 * Read and load the migrations directory (or the in-memory files), with the
 * environment's values attached as `env` says. Throws `FILES_INVALID`
 * listing every problem, the directory error, or `NO_MIGRATIONS` for a
 * missing or empty directory unless `--allow-empty`.
 */
export async function loadDir(
  ctx: CommandContext,
  options: { env?: EnvUse; lazy?: boolean } = {},
): Promise<readonly Migration[]> {
  const entries = readEntries(ctx);
  const { migrations, problems } = await loadMigrations(entries, { lazy: options.lazy });
  // A lazy load that fails anyway lists every problem, as an eager one would.
  if (problems.length > 0 && options.lazy) {
    throwProblems(ctx, (await loadMigrations(entries)).problems);
  }
  throwProblems(ctx, problems);
  refuseEmpty(ctx, migrations);
  const use = options.env ?? "attach";
  if (use === "none") return migrations;
  // Values are kept out of output as each file is parsed (files load lazily).
  return attachEnv(migrations, ctx.io.env, use === "attach" ? (v) => ctx.addSecret(v) : undefined);
}

/** Throw `NO_MIGRATIONS` for a directory without migrations, unless `--allow-empty`. */
export function refuseEmpty(ctx: CommandContext, migrations: readonly Migration[]): void {
  if (migrations.length === 0 && !ctx.allowEmpty) {
    throw new StrataError(
      "NO_MIGRATIONS",
      `Cannot load migrations from "${ctx.dir}": it holds no migration files`,
      {
        hint: "Point --dir (or STRATA_DIR) at your migrations (in a container: mount them at " +
          "/migrations, or copy them into a derived image), or pass --allow-empty if an empty " +
          "set is what you mean; nothing was run",
      },
    );
  }
}

function throwProblems(ctx: CommandContext, problems: readonly StrataError[]): void {
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
}

/**
 * Parse every file the steps will run (and the checksums they will record),
 * after a lazy load, so that one bad file stops the run before anything runs.
 * Throws the file's StrataError, or `FILES_INVALID` listing every problem.
 */
export function requireStepFiles(ctx: CommandContext, steps: readonly Step[]): void {
  const problems: StrataError[] = [];
  for (const step of steps) {
    try {
      void (step.kind === "up"
        ? [step.migration.up, step.migration.checksum]
        : step.migration.down);
    } catch (err) {
      if (!(err instanceof StrataError)) throw err;
      problems.push(err);
    }
  }
  throwProblems(ctx, problems);
}

/** The migration files: in memory (library API), or the directory's (missing: none with --allow-empty). */
export function readEntries(ctx: CommandContext): readonly FileEntry[] {
  if (ctx.files) return ctx.files;
  try {
    return readMigrationDir(ctx.dir);
  } catch (err) {
    if (ctx.allowEmpty && err instanceof StrataError && err.code === "DIR_NOT_FOUND") return [];
    throw err;
  }
}

/** The applied rows as planning reads them, and the versions whose applied file was edited since. */
export interface PlanState {
  /** The stored rows through a squash baseline (`resolveBaseline`): what to record, if anything. */
  readonly view: BaselineView;
  /** `view.rows`: what every command plans and reports with. */
  readonly rows: readonly AppliedRow[];
  readonly edited: ReadonlySet<bigint>;
}

/**
 * The one way commands read stored rows: a baseline stands for the rows it
 * replaced (a database migrated before a squash), then edits are found. Every
 * command that plans, reports or writes goes through here, so none of them
 * sees a squashed database differently.
 */
export function planState(
  migrations: readonly Migration[],
  rows: readonly AppliedRow[],
): PlanState {
  const view = resolveBaseline(migrations, rows);
  return { view, rows: view.rows, edited: findEdited(migrations, view.rows) };
}

/** The stored state as planning reads it (`planState`). */
export type CheckedState = Omit<StoredState, "rows"> & PlanState;

/** `CheckedState` and the SQL a `--dry-run` script starts with to make the tables ready. */
export interface DryRunState extends CheckedState {
  /** Creation or format upgrade of the tables, and the baseline's record if it is due. */
  readonly prepareTables: string;
  /** The server's major version, when the state was read from one. */
  readonly serverMajor?: number;
  /** The session restore for that server (what a real run sends after each file). */
  readonly restore?: string;
}

/**
 * Read the version table in a read-only session with no lock (creates
 * nothing) and check it against `migrations` (nothing is checked, and
 * `edited` is empty, without them).
 */
export async function readStateOnly(
  ctx: CommandContext,
  migrations: readonly Migration[] = [],
): Promise<CheckedState> {
  const state = await withSession(
    ctx,
    { writable: false, lock: false },
    (db) => readState(db, ctx.table),
  );
  return { ...state, ...planState(migrations, state.rows) };
}

/** `readStateOnly` and, for a `--dry-run` script, the SQL that prepares the tables. */
export async function readDryRunState(
  ctx: CommandContext,
  migrations: readonly Migration[],
): Promise<DryRunState> {
  const tables = tableContext(ctx);
  return await withSession(ctx, { writable: false, lock: false }, async (db) => {
    const stored = await readState(db, ctx.table);
    const state = { ...stored, ...planState(migrations, stored.rows) };
    // A database migrated before a squash is printed as its next write records it.
    const { baseline, replaced } = state.view;
    const record = baseline && replaced.length
      ? renderBaselineRecord(baseline, replaced, tables)
      : "";
    return {
      ...state,
      prepareTables: (await renderEnsureTables(db, tables)) + record,
      serverMajor: serverMajor(db),
      restore: sessionRestore(db),
    };
  });
}
