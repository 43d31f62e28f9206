import assert from "node:assert/strict";
import postgres from "postgres";
import { StrataError } from "../lib/core/errors.ts";
import { acquireLock, lockKey, prepareSession, releaseLock } from "../lib/db/session.ts";
import { runCli, serverTest, withDb } from "./_helpers.ts";

const table = { schema: "public", name: "strata_migrations" };

serverTest("acquireLock() waits, then names the holder with LOCK_TIMEOUT", async (t) => {
  const key = await lockKey(table);
  const holder = postgres(t.url, { max: 1, connection: { application_name: "holder-app" } });
  try {
    await holder`SELECT pg_advisory_lock(${String(key)})`;
    await withDb(t.url, async (db) => {
      const started = Date.now();
      await assert.rejects(acquireLock(db, table, { waitMs: 300 }), (err: unknown) => {
        assert.ok(err instanceof StrataError);
        assert.equal(err.code, "LOCK_TIMEOUT");
        assert.match(
          err.details.join("\n"),
          /pid \d+, application_name "holder-app", client 127\.0\.0\.1/,
        );
        return true;
      });
      assert.ok(Date.now() - started >= 300);
    });
    await holder`SELECT pg_advisory_unlock(${String(key)})`;
    await withDb(t.url, async (db) => {
      const k = await acquireLock(db, table, { waitMs: 300 });
      await releaseLock(db, k);
    });
  } finally {
    await holder.end();
  }
});

serverTest(
  "prepareSession() refuses a read-only database before locking (exit 3 from the CLI)",
  async (t) => {
    await t.sql.unsafe(`ALTER DATABASE ${t.name} SET default_transaction_read_only = on`);
    await withDb(t.url, async (db) => {
      await assert.rejects(prepareSession(db, { writable: true }), /READ_ONLY|read-only/);
      assert.ok(await prepareSession(db, { writable: false }) >= 90000);
    });
    const r = await runCli(["upgrade"], { env: { DATABASE_URL: t.url } });
    assert.equal(r.code, 3);
    assert.match(
      r.stderr,
      /READ_ONLY.*the server is read-only: default_transaction_read_only is on/,
    );
    const [{ n }] = await t
      .sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    assert.equal(n, 0);
  },
);

serverTest("the CLI session identifies itself as application_name strata", async (t) => {
  await withDb(t.url, async (db) => {
    await prepareSession(db, { writable: false });
    const [{ name }] = await db.query<{ name: string }>(
      "SELECT current_setting('application_name') AS name",
    );
    assert.equal(name, "strata");
    const [{ v }] = await db.query<{ v: string }>(
      "SELECT current_setting('idle_in_transaction_session_timeout') AS v",
    );
    assert.equal(v, "0");
  });
});
