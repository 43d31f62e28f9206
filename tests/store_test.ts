import assert from "node:assert/strict";
import postgres from "postgres";
import { parseDatabaseUrl } from "../lib/core/database_url.ts";
import { createPostgresDb } from "../lib/db/postgres.ts";
import { StrataError } from "../lib/core/errors.ts";
import { loadMigrations } from "../lib/core/files.ts";
import { planUpgrade } from "../lib/core/plan.ts";
import { type RunEvent, runPlan } from "../lib/db/runner.ts";
import { acquireLock, lockKey, prepareSession, releaseLock } from "../lib/db/session.ts";
import { ensureTables, readState } from "../lib/db/store.ts";
import type { Db } from "../lib/core/types.ts";
import { runCli, serverTest } from "./_helpers.ts";

const table = { schema: "public", name: "strata_migrations" };

async function withDb(url: string, fn: (db: Db) => Promise<void>): Promise<void> {
  const db = createPostgresDb(parseDatabaseUrl(url, "test"));
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

serverTest(
  "readState() creates nothing; ensureTables() creates both tables once",
  async (t) => {
    await withDb(t.url, async (db) => {
      assert.deepEqual(await readState(db, table), { exists: false, format: null, rows: [] });
      assert.equal((await t.sql`SELECT to_regclass('strata_migrations') AS r`)[0].r, null);
      await ensureTables(db, { table, strataVersion: "test" });
      await ensureTables(db, { table, strataVersion: "test" });
      assert.deepEqual(await readState(db, table), { exists: true, format: 2, rows: [] });
      const custom = { schema: "new_schema", name: "versions" };
      await ensureTables(db, { table: custom, strataVersion: "test" });
      assert.deepEqual((await readState(db, custom)).rows, []);
    });
  },
);

serverTest(
  "runPlan() applies steps with events and records rows readState() returns",
  async (t) => {
    const enc = new TextEncoder();
    const { migrations } = await loadMigrations([
      { name: "1_a.up.sql", bytes: enc.encode("-- lock-timeout: 2s\nCREATE TABLE a (id int)") },
      { name: "2_b.up.sql", bytes: enc.encode("CREATE TABLE b (id int); -- trailing comment") },
    ]);
    await withDb(t.url, async (db) => {
      await ensureTables(db, { table, strataVersion: "test" });
      const events: RunEvent[] = [];
      const plan = planUpgrade(migrations, [], { kind: "head" });
      await runPlan(db, plan, {
        table,
        strataVersion: "test",
        dir: "m",
        lockRetries: 3,
        onEvent: (e) => events.push(e),
      });
      assert.deepEqual(events.map((e) => `${e.type} ${e.step.migration.versionText}`), [
        "start 1",
        "done 1",
        "start 2",
        "done 2",
      ]);
      const { rows } = await readState(db, table);
      assert.deepEqual(
        rows.map((r) => [r.version, r.state, r.checksum, r.appliedBy, r.strataVersion]),
        [
          [1n, "applied", migrations[0].checksum, "postgres", "test"],
          [2n, "applied", migrations[1].checksum, "postgres", "test"],
        ],
      );
      assert.ok(rows[0].appliedOrder < rows[1].appliedOrder);
    });
  },
);

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

serverTest(
  "readState() refuses a version table of a newer format or without its log table (exit 4)",
  async (t) => {
    await withDb(t.url, async (db) => {
      await ensureTables(db, { table, strataVersion: "test" });
      await t.sql.unsafe(`COMMENT ON TABLE strata_migrations IS 'strata version table, format 9'`);
      await assert.rejects(readState(db, table), /format 9, written by a newer strata/);
      await t.sql.unsafe(`COMMENT ON TABLE strata_migrations IS 'strata version table, format 1'`);
      await t.sql.unsafe(`DROP TABLE strata_migrations_log`);
      await assert.rejects(
        readState(db, table),
        /its log table "public.strata_migrations_log" is missing/,
      );
    });
    const r = await runCli(["upgrade"], { env: { DATABASE_URL: t.url } });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /TABLE_FORMAT/);
  },
);
