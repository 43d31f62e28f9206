/**
 * What every command receives, and the steps commands share: loading the
 * migrations directory, and opening a prepared (and optionally locked) session.
 *
 * @module
 */

import {
  chooseDatabaseSource,
  connectionFromEnv,
  type DatabaseTarget,
  isEmbedded,
  noDatabaseError,
  parseDatabaseTarget,
} from "../core/config.ts";
import { findEdited } from "../core/checksum.ts";
import { StrataError } from "../core/errors.ts";
import { loadMigrations } from "../core/files.ts";
import { acquireLock, prepareSession, releaseLock } from "../db/session.ts";
import { readMigrationDir } from "../fs/source.ts";
import { readState, renderEnsureTables, type StoredState } from "../db/store.ts";
import { STRATA_VERSION } from "../core/version.ts";
import type { Db, Migration, TableName } from "../core/types.ts";

/** Output and environment, as `cli.ts` hands them to commands. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTty: boolean;
  readonly stderrIsTty?: boolean;
  /** Rows of the terminal, when known. */
  readonly rows?: number;
  readTextFile(path: string): Promise<string>;
}

/** Everything a command needs: resolved settings, parsed flags, output. */
export interface CommandContext {
  readonly io: Io;
  readonly dir: string;
  readonly table: TableName;
  readonly lockWaitMs: number;
  /** How long to retry the first connection (`--wait`/`--wait-timeout`); 0: do not wait. */
  readonly connectWaitMs: number;
  readonly color: boolean;
  /** Machine-readable output (`--json`). */
  readonly json: boolean;
  readonly stderrIsTty: boolean;
  readonly screenRows: number;
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  /** Register a value that must never be printed (a password). */
  addSecret(secret: string): void;
}

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

/** Resolve the connection settings from flags and environment; throws `NO_DATABASE`. */
export async function resolveConnection(ctx: CommandContext): Promise<DatabaseTarget> {
  const source = chooseDatabaseSource({
    databaseUrl: ctx.flags["database-url"] as string | undefined,
    databaseUrlFile: ctx.flags["database-url-file"] as string | undefined,
  }, ctx.io.env);
  let conn: DatabaseTarget;
  if (source.kind === "none") throw noDatabaseError();
  if (source.kind === "env") {
    conn = connectionFromEnv(ctx.io.env);
  } else if (source.kind === "url") {
    conn = parseDatabaseTarget(source.url, source.origin, ctx.io.env);
  } else {
    conn = parseDatabaseTarget(
      await readUrlFile(ctx, source.path, source.origin),
      source.origin,
      ctx.io.env,
    );
  }
  if (!isEmbedded(conn) && conn.password) ctx.addSecret(conn.password);
  return conn;
}

async function readUrlFile(ctx: CommandContext, path: string, origin: string): Promise<string> {
  try {
    return (await ctx.io.readTextFile(path)).trim();
  } catch (err) {
    throw new StrataError(
      "NO_DATABASE",
      `Cannot read the database URL file "${path}" (${origin})`,
      {
        hint: "Check the path and its permissions",
        cause: err,
      },
    );
  }
}

/** The signal a run received, if any. */
export type StopSignal = () => "SIGINT" | "SIGTERM" | null;

/**
 * Open a session (retrying the connection with `--wait`), prepare it,
 * optionally take the migration lock, run `fn`, then release and close
 * whatever happens. While the lock is held, SIGINT and SIGTERM cancel the
 * running statement and are reported to `fn` through `stop`.
 */
export async function withSession<T>(
  ctx: CommandContext,
  options: { writable: boolean; lock: boolean; opened?: Promise<Db> },
  fn: (db: Db, stop: StopSignal) => Promise<T>,
): Promise<T> {
  const db = await (options.opened ?? connectWithWait(ctx, options.writable));
  let received: "SIGINT" | "SIGTERM" | null = null;
  const stop: StopSignal = () => received;
  const handlers = options.lock
    ? (["SIGINT", "SIGTERM"] as const).map((sig) => {
      const handler = () => {
        received ??= sig;
        ctx.io.stderr(`Received ${sig}: cancelling the running statement and rolling back\n`);
        db.cancel();
      };
      Deno.addSignalListener(sig, handler);
      return () => Deno.removeSignalListener(sig, handler);
    })
    : [];
  try {
    if (!options.lock) return await fn(db, stop);
    const key = await acquireLock(db, ctx.table, {
      waitMs: ctx.lockWaitMs,
      onWait: (m) => ctx.io.stderr(`${m}\n`),
      stopSignal: stop,
    });
    try {
      return await fn(db, stop);
    } finally {
      await releaseLock(db, key);
    }
  } finally {
    for (const remove of handlers) remove();
    await db.close();
  }
}

/**
 * Start opening and preparing a session while the caller does other work
 * (loading files), so the connection's round trips overlap with it. Pass the
 * result to `withSession` as `opened`; `abandon` closes it if the caller fails
 * first, and keeps a connection error from going unhandled.
 */
export function openEarly(ctx: CommandContext, writable: boolean): {
  opened: Promise<Db>;
  abandon(): void;
} {
  const opened = connectWithWait(ctx, writable);
  opened.catch(() => {});
  return { opened, abandon: () => void opened.then((db) => db.close(), () => {}) };
}

async function connectWithWait(ctx: CommandContext, writable: boolean): Promise<Db> {
  const conn = await resolveConnection(ctx);
  const { openDb } = await import("../db/open.ts");
  const deadline = Date.now() + ctx.connectWaitMs;
  let delay = 250;
  for (let attempt = 1;; attempt++) {
    const db = await openDb(conn, {
      onNotice: (m) => printNotice(ctx, m),
      lockWaitMs: ctx.lockWaitMs,
      onWait: (m) => ctx.io.stderr(`${m}\n`),
    });
    try {
      await prepareSession(db, { writable });
      return db;
    } catch (err) {
      await db.close();
      const retryable = err instanceof StrataError && err.code === "CONNECTION_FAILED";
      if (!retryable || Date.now() + delay > deadline) throw err;
      ctx.io.stderr(`Waiting for the database (attempt ${attempt}): ${err.message}\n`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/** Print a server notice, except the one strata's own defensive ROLLBACK can cause. */
export function printNotice(ctx: CommandContext, message: string): void {
  if (/there is no transaction in progress/.test(message)) return;
  ctx.io.stderr(`${message}\n`);
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
