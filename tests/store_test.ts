import assert from "node:assert/strict";
import { ensureTables, readState } from "../lib/db/store.ts";
import { runCli, serverTest, withDb } from "./_helpers.ts";

const table = { schema: "public", name: "strata_migrations" };

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
