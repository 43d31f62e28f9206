/**
 * A scratch database for replaying migrations (verify, drift, squash, lint
 * --trace): the embedded database (`pglite:memory`, the default), or a
 * temporary `strata_scratch_*` database made on a server and dropped after.
 * Both go through the one session lifecycle (`session.ts`). `replayOn` is
 * the one way the commands replay migrations there.
 *
 * @module
 */

import { type DatabaseTarget, isEmbedded, parseDatabaseTarget } from "../core/database_url.ts";
import { isDbServerError } from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";
import type { Db, Migration, Plan } from "../core/types.ts";
import { type RunOptions, runPlan } from "../db/runner.ts";
import { ensureTables } from "../db/store.ts";
import { type CommandContext, tableContext } from "./context.ts";
import { withSession } from "./session.ts";

/** The scratch database a run used, for reports. */
export interface Scratch {
  readonly db: Db;
  /** `pglite:memory`, or the server URL (redacted) with the scratch database's name. */
  readonly display: string;
  /** Where it is (for tools that connect on their own, such as pg_dump). */
  readonly target: DatabaseTarget;
}

/**
 * Run `fn` on a fresh scratch database made from `url` (`--scratch-url`;
 * default `pglite:memory`), dropped afterwards whatever happens. Throws
 * `BAD_DATABASE_URL`, or `CONNECTION_FAILED` when the server will not make
 * the database (the role needs CREATEDB).
 */
export async function withScratch<T>(
  ctx: CommandContext,
  url: string | undefined,
  fn: (scratch: Scratch) => Promise<T>,
): Promise<T> {
  const target = parseDatabaseTarget(url ?? "pglite:memory", "--scratch-url", ctx.io.env);
  if (isEmbedded(target)) {
    return await withSession(
      ctx,
      { writable: true, lock: false, target },
      (db) => fn({ db, display: target.display, target }),
    );
  }
  if (target.password) ctx.addSecret(target.password);
  return await withSession(ctx, { writable: true, lock: false, target }, async (admin) => {
    const name = `strata_scratch_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await createDatabase(admin, name, target.display);
    try {
      const scratch: DatabaseTarget = {
        ...target,
        database: name,
        display: `${target.display} (scratch database ${name})`,
      };
      return await withSession(
        ctx,
        { writable: true, lock: false, target: scratch },
        (db) => fn({ db, display: scratch.display, target: scratch }),
      );
    } finally {
      await admin.runScript(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });
}

async function createDatabase(admin: Db, name: string, display: string): Promise<void> {
  try {
    await admin.runScript(`CREATE DATABASE ${name}`);
  } catch (err) {
    if (!isDbServerError(err)) throw err;
    throw new StrataError(
      "CONNECTION_FAILED",
      `Cannot create a scratch database on ${display}: ${err.message}`,
      {
        hint: "The --scratch-url role needs CREATEDB; strata creates and drops a " +
          "strata_scratch_* database there",
        cause: err,
      },
    );
  }
}

/** How to replay on a scratch database, and what to do when a migration fails. */
export interface Replay {
  readonly migrations: readonly Migration[];
  /**
   * Called with each migration whose up fails (`StrataError`), the replay
   * then going on with the next; without it the first failure is thrown.
   */
  readonly onFailure?: (migration: Migration, err: StrataError) => void;
}

/**
 * Make the version tables on the scratch database `db` and run the up files
 * of `replay.migrations` in order. Throws what `runPlan` throws (with what
 * was and was not applied in `partial`) unless `replay.onFailure` is given;
 * errors that are not `StrataError` are always thrown.
 */
export async function replayOn(ctx: CommandContext, db: Db, replay: Replay): Promise<void> {
  await ensureTables(db, tableContext(ctx));
  const { migrations, onFailure } = replay;
  if (!onFailure) {
    await runPlan(db, planOf("up", migrations), scratchRunOptions(ctx));
    return;
  }
  for (const m of migrations) {
    try {
      await runPlan(db, planOf("up", [m]), scratchRunOptions(ctx));
    } catch (err) {
      if (!(err instanceof StrataError)) throw err;
      onFailure(m, err);
    }
  }
}

/** A plan of `migrations` in one direction, in the order given, with no bounds. */
export function planOf(kind: "up" | "down", migrations: readonly Migration[]): Plan {
  return {
    direction: kind,
    steps: migrations.map((migration) => ({ kind, migration })),
    from: null,
    to: null,
  };
}

/** `runPlan`'s options on a scratch database: no lock to wait for, so no retries. */
export function scratchRunOptions(ctx: CommandContext): RunOptions {
  return { ...tableContext(ctx), dir: ctx.dir, lockRetries: 0 };
}
