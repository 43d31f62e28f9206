/**
 * A scratch database for replaying migrations (verify, drift, squash, lint
 * --trace): the embedded database (`pglite:memory`, the default), or a
 * temporary `strata_scratch_*` database made on a server and dropped after.
 * Both go through the one session lifecycle (`session.ts`).
 *
 * @module
 */

import { type DatabaseTarget, isEmbedded, parseDatabaseTarget } from "../core/database_url.ts";
import { isDbServerError } from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";
import type { Db } from "../core/types.ts";
import type { CommandContext } from "./context.ts";
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
