/**
 * The library API (`mod.ts`): `migrate`, `downgrade`, `status`, `verify` and
 * `dryRun`, each taking one options object and returning plain data. They
 * run the functions the CLI runs (`migrateDatabase`, `migrateScript`,
 * `collectStatus`, `verifyMigrations`) on a context built from the options instead
 * of flags: no output is printed, nothing exits, and failures are thrown as
 * `StrataError` with the CLI's codes.
 *
 * @module
 */

import { cacheDirFrom, parseTableName } from "../core/config.ts";
import { StrataError } from "../core/errors.ts";
import type { FileEntry } from "../core/files.ts";
import { stepFile } from "../core/script.ts";
import { versionLabel } from "../core/state.ts";
import type { PgliteLike } from "../db/pglite.ts";
import type { CommandContext } from "./context.ts";
import { migrateDatabase, type MigrateRequest, migrateScript } from "./migrate.ts";
import { DOWNGRADE_OPTIONS, pickOptions, UPGRADE_OPTIONS } from "./options.ts";
import type { StatusReport } from "./status.ts";
import type { VerifyReport } from "./verify_report.ts";

/** One migration file given in memory: its name as in a directory, and its SQL. */
export interface MigrationText {
  /** `0001_create_users.up.sql`, `0001_create_users.down.sql`. */
  readonly name: string;
  readonly sql: string;
}

/** Where the migrations come from, and the settings every call shares. */
export interface SourceOptions {
  /** The migrations directory (default `./migrations`). */
  readonly dir?: string;
  /** The migrations in memory, instead of `dir`. */
  readonly migrations?: readonly MigrationText[];
  /** The version table, `[schema.]name` (default `public.strata_migrations`). */
  readonly table?: string;
  /** Values for `${NAME}` in files with an `env` header (default: the process environment). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** An empty set of migrations is not an error. */
  readonly allowEmpty?: boolean;
}

/** The database to work on: a URL, or an embedded database the application owns. */
export interface DatabaseOptions extends SourceOptions {
  /** `postgres://…`, `pglite:memory` or `pglite:PATH`. */
  readonly databaseUrl?: string;
  /** A running PGlite instance; strata neither opens nor closes it. */
  readonly database?: PgliteLike;
  /** How long to wait for the migration lock (default 60 000). */
  readonly lockWaitMs?: number;
}

/** Options of the calls that run migrations. */
export interface RunOptions extends DatabaseOptions {
  readonly allowDrift?: boolean;
  readonly singleTransaction?: boolean;
  /** Retries of a migration that hit its lock-timeout (default 3). */
  readonly lockRetries?: number;
}

/** `migrate`: apply pending migrations up to `target` (default `head`; `VERSION`, `+N`). */
export interface MigrateOptions extends RunOptions {
  readonly target?: string;
  readonly allowOutOfOrder?: boolean;
}

/** `downgrade`: revert down to `target` (`VERSION`, `-N` or `base`; required). */
export interface DowngradeOptions extends RunOptions {
  readonly target: string;
}

/** `dryRun`: the script `upgrade` (or `downgrade`) would run. */
export interface DryRunOptions extends RunOptions {
  readonly command?: "upgrade" | "downgrade";
  readonly target?: string;
  readonly allowOutOfOrder?: boolean;
  /** Where the database is (`VERSION` or `base`): no connection is made. */
  readonly from?: string;
  /** Print the values of `${NAME}` variables instead of the names. */
  readonly resolveEnv?: boolean;
}

/** `verify`: up/down/up every migration on a scratch database (never the application's). */
export interface VerifyOptions extends SourceOptions {
  /** `pglite:memory` (default), or a server on which a temporary database is made. */
  readonly scratchUrl?: string;
}

/** What `migrate` or `downgrade` did. Versions are written as in the file names. */
export interface MigrateResult {
  readonly direction: "up" | "down";
  /** The current version before and after; null at base. */
  readonly from: string | null;
  readonly to: string | null;
  /** One entry per migration run, in order (`ms` null inside a single transaction). */
  readonly steps: readonly {
    readonly version: string;
    readonly name: string;
    readonly file: string;
    readonly ms: number | null;
  }[];
  readonly ms: number;
}

/** Apply pending migrations. Throws `StrataError` (nothing of a failed migration remains). */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  return await runMigration("upgrade", options.target ?? "head", options);
}

/** Revert applied migrations down to `options.target`. Throws `StrataError`. */
export async function downgrade(options: DowngradeOptions): Promise<MigrateResult> {
  return await runMigration("downgrade", options.target, options);
}

/** The current version, applied and pending migrations, and every problem. Throws `StrataError`. */
export async function status(options: DatabaseOptions): Promise<StatusReport> {
  const { collectStatus } = await import("./status.ts");
  return (await collectStatus(contextFor(options, "status"))).report;
}

/** The SQL script the command would run, changing nothing. Throws `StrataError`. */
export async function dryRun(options: DryRunOptions): Promise<{ readonly script: string }> {
  const verb = options.command ?? "upgrade";
  const target = options.target ?? (verb === "upgrade" ? "head" : undefined);
  const ctx = contextFor(options, "dryRun", { needsDatabase: options.from === undefined });
  const request = requestFor(verb, target, options, {
    "dry-run": true,
    from: options.from,
    "resolve-env": options.resolveEnv === true,
  });
  return { script: await migrateScript(ctx, request) };
}

/**
 * Prove every down undoes its up on a scratch database; the result is the
 * CLI's `verify --json` document (`ok` false when a down leaves a
 * difference or fails). Throws `StrataError` when it cannot run at all.
 */
export async function verify(options: VerifyOptions): Promise<VerifyReport> {
  const { verifyMigrations } = await import("./verify.ts");
  const ctx = contextFor(options, "verify", { needsDatabase: false });
  return await verifyMigrations(ctx, { "scratch-url": options.scratchUrl });
}

async function runMigration(
  verb: "upgrade" | "downgrade",
  target: string | undefined,
  options: MigrateOptions | DowngradeOptions,
): Promise<MigrateResult> {
  const ctx = contextFor(options, verb === "upgrade" ? "migrate" : "downgrade");
  const steps: MigrateResult["steps"][number][] = [];
  const request = requestFor(verb, target, options, {});
  const { plan, migrations, ms } = await migrateDatabase(ctx, request, () => (e) => {
    if (e.type !== "done") return;
    const m = e.step.migration;
    steps.push({ version: m.versionText, name: m.name, file: stepFile(e.step).fileName, ms: e.ms });
  });
  return {
    direction: plan.direction,
    from: plan.from === null ? null : versionLabel(migrations, plan.from),
    to: plan.to === null ? null : versionLabel(migrations, plan.to),
    steps,
    ms: Math.round(ms),
  };
}

function requestFor(
  verb: "upgrade" | "downgrade",
  target: string | undefined,
  options: RunOptions & { allowOutOfOrder?: boolean },
  extra: Record<string, string | boolean | undefined>,
): MigrateRequest {
  const values = {
    "allow-drift": options.allowDrift === true,
    "allow-out-of-order": options.allowOutOfOrder === true,
    "single-transaction": options.singleTransaction === true,
    "lock-retries": options.lockRetries === undefined ? undefined : String(options.lockRetries),
    ...extra,
  };
  const table = verb === "upgrade" ? UPGRADE_OPTIONS : DOWNGRADE_OPTIONS;
  return {
    verb,
    options: { ...pickOptions(table, values), "allow-out-of-order": values["allow-out-of-order"] },
    args: target === undefined ? [] : [target],
  };
}

/** A command context from library options: silent output, the process environment by default. */
function contextFor(
  options: DatabaseOptions,
  call: string,
  how: { needsDatabase?: boolean } = {},
): CommandContext {
  checkSource(options, call);
  if ((how.needsDatabase ?? true) && !options.databaseUrl && !options.database) {
    throw new StrataError("USAGE", `Cannot ${call}: no database given`, {
      hint: 'Pass databaseUrl ("postgres://…", "pglite:memory", "pglite:PATH") or database ' +
        "(a PGlite instance)",
    });
  }
  const processEnv = readProcessEnv();
  const database = options.database;
  return {
    dir: options.migrations ? "(in memory)" : options.dir ?? "./migrations",
    table: parseTableName(options.table ?? "strata_migrations", "the table option"),
    lockWaitMs: options.lockWaitMs ?? 60_000,
    connectWaitMs: 0,
    databaseUrl: database ? undefined : options.databaseUrl,
    cacheDir: cacheDirFrom(processEnv),
    json: false,
    allowEmpty: options.allowEmpty === true,
    color: false,
    stderrIsTty: false,
    screenRows: 24,
    io: {
      stdout: () => {},
      stderr: () => {},
      env: options.env ?? processEnv,
      isTty: false,
      readTextFile: (path) => Deno.readTextFile(path),
    },
    addSecret: () => {},
    files: options.migrations ? toEntries(options.migrations) : undefined,
    connect: database
      ? async () => (await import("../db/pglite.ts")).pgliteDb(database, { display: "PGlite" })
      : undefined,
  };
}

function checkSource(options: SourceOptions, call: string): void {
  if (options.dir !== undefined && options.migrations !== undefined) {
    throw new StrataError("USAGE", `Cannot ${call}: both dir and migrations given`, {
      hint: "Give the directory, or the migrations in memory, not both",
    });
  }
}

function toEntries(files: readonly MigrationText[]): FileEntry[] {
  const enc = new TextEncoder();
  return files.map((f) => ({ name: f.name, bytes: enc.encode(f.sql) }));
}

/** The process environment, or nothing when reading it is not permitted. */
function readProcessEnv(): Record<string, string> {
  try {
    return Deno.env.toObject();
  } catch {
    return {};
  }
}
