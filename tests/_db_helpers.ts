/**
 * Shared by the driver tests (db_conformance_test, db_wire_test): expecting
 * a rejection of one kind, a port nothing listens on, waiting for a backend
 * to sleep or to end.
 */

import assert from "node:assert/strict";
import { type DbServerError, isDbServerError } from "../lib/core/db_error.ts";
import { StrataError } from "../lib/core/errors.ts";
import { type TestDb, waitFor } from "./_helpers.ts";

/** The error `pending` rejects with (fails the test if it resolves). */
export async function failure(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

/**
 * Assert a server error in strata's one shape: a `DbServerError` with the
 * SQLSTATE, a plain `Error` underneath, and nothing of the library's own error
 * on it (no `code`, no `PostgresError` name, no extra fields).
 */
export async function serverFailure(
  pending: Promise<unknown>,
  sqlstate: string,
): Promise<DbServerError> {
  const err = await failure(pending);
  assert.ok(isDbServerError(err), `expected a DbServerError, got ${err}`);
  assert.equal(err.sqlstate, sqlstate, err.message);
  assert.equal(err.name, "DbServerError");
  assert.equal(Object.getPrototypeOf(err), Error.prototype);
  assert.ok(!("code" in err), "no library field such as `code`");
  const allowed = [
    "name",
    "sqlstate",
    "detail",
    "hint",
    "position",
    "where",
    "severity",
    "stack",
    "cause",
  ];
  const extra = Object.getOwnPropertyNames(err).filter((k) =>
    k !== "message" && !allowed.includes(k)
  );
  assert.deepEqual(extra, [], "only DbServerError's own fields");
  return err;
}

export async function strataFailure(pending: Promise<unknown>, code: string): Promise<StrataError> {
  const err = await failure(pending);
  assert.ok(err instanceof StrataError, `expected a StrataError, got ${err}`);
  assert.equal(err.code, code, err.message);
  assert.ok(!isDbServerError(err), "a StrataError is not a server error");
  return err;
}

/** A TCP port nothing listens on (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Wait (generously) until the session `pid` sleeps in pg_sleep. */
export async function waitForSleep(admin: TestDb["sql"], pid: number): Promise<void> {
  await waitFor(
    `pid ${pid} in pg_sleep`,
    async () =>
      (await admin`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid} AND wait_event = 'PgSleep'`)
        .length === 1,
    30_000,
  );
}

/** Wait (generously) until the session `pid` no longer exists. */
export async function waitForGone(admin: TestDb["sql"], pid: number): Promise<void> {
  await waitFor(
    `pid ${pid} to end`,
    async () => (await admin`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`).length === 0,
    30_000,
  );
}
