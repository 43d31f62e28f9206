/**
 * What every command receives, and the steps commands share: loading the
 * migrations directory, and opening a prepared (and optionally locked) session.
 *
 * @module
 */

import {
  chooseDatabaseSource,
  connectionFromEnv,
  type ConnectionOptions,
  noDatabaseError,
  parseDatabaseUrl,
} from "../config.ts";
import { StrataError } from "../errors.ts";
import { loadMigrations } from "../files.ts";
import { acquireLock, prepareSession, releaseLock } from "../session.ts";
import { readMigrationDir } from "../source.ts";
import type { Db, Migration, TableName } from "../types.ts";

/** Output and environment, as `cli.ts` hands them to commands. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTty: boolean;
  readTextFile(path: string): Promise<string>;
}

/** Everything a command needs: resolved settings, parsed flags, output. */
export interface CommandContext {
  readonly io: Io;
  readonly dir: string;
  readonly table: TableName;
  readonly lockWaitMs: number;
  readonly color: boolean;
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
  const entries = await readMigrationDir(ctx.dir);
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
export async function resolveConnection(ctx: CommandContext): Promise<ConnectionOptions> {
  const source = chooseDatabaseSource({
    databaseUrl: ctx.flags["database-url"] as string | undefined,
    databaseUrlFile: ctx.flags["database-url-file"] as string | undefined,
  }, ctx.io.env);
  let conn: ConnectionOptions;
  if (source.kind === "none") throw noDatabaseError();
  if (source.kind === "env") {
    conn = connectionFromEnv(ctx.io.env);
  } else if (source.kind === "url") {
    conn = parseDatabaseUrl(source.url, source.origin, ctx.io.env);
  } else {
    conn = parseDatabaseUrl(
      await readUrlFile(ctx, source.path, source.origin),
      source.origin,
      ctx.io.env,
    );
  }
  if (conn.password) ctx.addSecret(conn.password);
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

/**
 * Open a session, prepare it, optionally take the migration lock, run `fn`,
 * then release and close whatever happens.
 */
export async function withSession<T>(
  ctx: CommandContext,
  options: { writable: boolean; lock: boolean },
  fn: (db: Db) => Promise<T>,
): Promise<T> {
  const conn = await resolveConnection(ctx);
  const { openDb } = await import("../db.ts");
  const db = await openDb(conn, { onNotice: (m) => ctx.io.stderr(`${m}\n`) });
  try {
    await prepareSession(db, { writable: options.writable });
    if (!options.lock) return await fn(db);
    const key = await acquireLock(db, ctx.table, {
      waitMs: ctx.lockWaitMs,
      onWait: (m) => ctx.io.stderr(`${m}\n`),
    });
    try {
      return await fn(db);
    } finally {
      await releaseLock(db, key);
    }
  } finally {
    await db.close();
  }
}
