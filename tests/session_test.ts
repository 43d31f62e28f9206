import assert from "node:assert/strict";
import postgres from "postgres";
import { StrataError } from "../lib/core/errors.ts";
import { RESTORE_SESSION, restoreSessionFor } from "../lib/core/session_sql.ts";
import {
  acquireLock,
  lockKey,
  prepareSession,
  releaseLock,
  sessionRestore,
} from "../lib/db/session.ts";
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

/** Everything a file can change for the session that strata puts back, as one row of text. */
const SESSION_STATE = `SELECT current_user::text || ' ' || session_user::text || ' ' ||
  string_agg(name || '=' || setting, ' ' ORDER BY name) AS state
  FROM pg_settings WHERE name IN ('idle_in_transaction_session_timeout',
  'standard_conforming_strings', 'DateStyle', 'idle_session_timeout',
  'client_connection_check_interval', 'search_path', 'statement_timeout', 'work_mem')`;

/** What a hostile or careless file leaves behind: every setting strata relies on changed, a role. */
const leftBehind = (role: string) =>
  `SET idle_in_transaction_session_timeout = '1h';
  SELECT set_config('DateStyle', 'SQL, DMY', false);
  SET idle_session_timeout = '2h'; SET client_connection_check_interval = '0';
  SET search_path = evil; SET statement_timeout = '1h'; SET work_mem = '77kB';
  SET SESSION AUTHORIZATION ${role};`;

serverTest(
  "the session restore for a known server puts back exactly what the portable one does",
  async (t) => {
    const role = `${t.name}_restore`; // roles are the server's: one of this test's own
    await t.sql.unsafe(`CREATE ROLE ${role}`);
    try {
      await withDb(t.url, async (db) => {
        assert.equal(
          sessionRestore(db),
          RESTORE_SESSION,
          "before prepareSession: the portable form",
        );
        await prepareSession(db, { writable: true });
        const restore = sessionRestore(db);
        assert.doesNotMatch(restore, /SELECT|set_config|CASE/, "plain SET statements only");
        const [{ state: prepared }] = await db.query<{ state: string }>(SESSION_STATE);
        for (const text of [restore, RESTORE_SESSION]) {
          await db.runScript(leftBehind(role));
          const [{ state: changed }] = await db.query<{ state: string }>(SESSION_STATE);
          assert.notEqual(changed, prepared, "the file changed the session");
          await db.runScript(text);
          const [{ state }] = await db.query<{ state: string }>(SESSION_STATE);
          assert.equal(state, prepared, text);
        }
      });
    } finally {
      await t.sql.unsafe(`DROP ROLE ${role}`);
    }
  },
);

Deno.test("restoreSessionFor() sets only what the server took", () => {
  const all = restoreSessionFor({ s1: "0", s2: "on", s3: "ISO, MDY", s4: "0", s5: "2000" });
  assert.match(all, /^RESET ALL;\nRESET SESSION AUTHORIZATION;\n/);
  assert.match(
    all,
    /SET idle_session_timeout = '0';\nSET client_connection_check_interval = '2000';/,
  );
  const old = restoreSessionFor({ s1: "0", s2: "on", s3: "ISO, MDY", s4: null, s5: null });
  assert.doesNotMatch(old, /idle_session_timeout|client_connection_check_interval/);
  assert.match(old, /SET datestyle = 'ISO';\n$/);
});
