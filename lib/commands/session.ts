/**
 * The one lifecycle of a database session, for every command that connects:
 * resolve the target, connect (retrying with `--wait`), prepare the session,
 * handle SIGINT / SIGTERM, take the migration lock where asked, run the
 * command's work, then release and close whatever happens.
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
} from "../core/database_url.ts";
import { StrataError } from "../core/errors.ts";
import type { Signal } from "../core/failure.ts";
import type { Db } from "../core/types.ts";
import { acquireLock, prepareSession, releaseLock } from "../db/session.ts";
import type { CommandContext } from "./context.ts";

/** The signal a run received, if any. */
export type StopSignal = () => Signal | null;

/** How to open a session. */
export interface SessionOptions {
  /** Refuse a read-only server, and cancel the running statement on SIGINT / SIGTERM. */
  readonly writable: boolean;
  /** Hold the migration lock while `fn` runs. */
  readonly lock: boolean;
  /** A session already being opened by `openEarly`. */
  readonly opened?: Promise<Db>;
  /** Connect here instead of the configured database (verify's scratch database). */
  readonly target?: DatabaseTarget;
}

/** Resolve the configured database from flags and environment; throws `NO_DATABASE`. */
export async function resolveConnection(ctx: CommandContext): Promise<DatabaseTarget> {
  const source = chooseDatabaseSource({
    databaseUrl: ctx.databaseUrl,
    databaseUrlFile: ctx.databaseUrlFile,
  }, ctx.io.env);
  let conn: DatabaseTarget;
  if (source.kind === "none") throw noDatabaseError();
  if (source.kind === "env") {
    conn = connectionFromEnv(ctx.io.env);
  } else {
    const url = source.kind === "url"
      ? source.url
      : await readUrlFile(ctx, source.path, source.origin);
    conn = parseDatabaseTarget(url, source.origin, ctx.io.env);
  }
  if (!isEmbedded(conn) && conn.password) ctx.addSecret(conn.password);
  return conn;
}

/** Whether any database is configured (by flag or environment). */
export function hasDatabase(ctx: CommandContext): boolean {
  return chooseDatabaseSource({
    databaseUrl: ctx.databaseUrl,
    databaseUrlFile: ctx.databaseUrlFile,
  }, ctx.io.env).kind !== "none";
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

/**
 * Open a session, prepare it, optionally take the migration lock, run `fn`,
 * then release and close whatever happens. In a writable session SIGINT and
 * SIGTERM cancel the running statement and are reported to `fn` through
 * `stop`.
 */
export async function withSession<T>(
  ctx: CommandContext,
  options: SessionOptions,
  fn: (db: Db, stop: StopSignal) => Promise<T>,
): Promise<T> {
  const db = await (options.opened ?? connectWithWait(ctx, options));
  let received: Signal | null = null;
  const stop: StopSignal = () => received;
  const remove = options.writable
    ? listenForSignals((sig) => {
      received ??= sig;
      ctx.io.stderr(`Received ${sig}: cancelling the running statement and rolling back\n`);
      db.cancel();
    })
    : () => {};
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
    remove();
    await db.close();
  }
}

function listenForSignals(onSignal: (sig: Signal) => void): () => void {
  const removers = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const handler = () => onSignal(sig);
    Deno.addSignalListener(sig, handler);
    return () => Deno.removeSignalListener(sig, handler);
  });
  return () => removers.forEach((r) => r());
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
  const opened = connectWithWait(ctx, { writable, lock: false });
  opened.catch(() => {});
  return { opened, abandon: () => void opened.then((db) => db.close(), () => {}) };
}

export { serverMajor } from "../db/session.ts";

async function connectWithWait(ctx: CommandContext, options: SessionOptions): Promise<Db> {
  if (ctx.connect && !options.target) {
    const db = await ctx.connect();
    await prepareSession(db, { writable: options.writable });
    return db;
  }
  const conn = options.target ?? await resolveConnection(ctx);
  const { openDb } = await import("../db/open.ts");
  const deadline = Date.now() + ctx.connectWaitMs;
  let delay = 250;
  for (let attempt = 1;; attempt++) {
    const db = await openDb(conn, {
      onNotice: (m) => printNotice(ctx, m),
      lockWaitMs: ctx.lockWaitMs,
      onWait: (m) => ctx.io.stderr(`${m}\n`),
      driver: ctx.driver,
      cacheDir: ctx.cacheDir,
    });
    try {
      await prepareSession(db, { writable: options.writable });
      return db;
    } catch (err) {
      await db.close();
      const retryable = err instanceof StrataError && err.code === "CONNECTION_FAILED";
      const left = deadline - Date.now();
      if (!retryable || left <= 0) throw err;
      ctx.io.stderr(`Waiting for the database (attempt ${attempt}): ${err.message}\n`);
      // The last wait ends at the deadline, for one more attempt then.
      await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/** Print a server notice (a migration's NOTICE or WARNING) on stderr. */
function printNotice(ctx: CommandContext, message: string): void {
  ctx.io.stderr(`${message}\n`);
}
