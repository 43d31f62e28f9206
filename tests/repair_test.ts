import assert from "node:assert/strict";
import { runCli, serverTest, tempMigrations, type TestDb } from "./_helpers.ts";

function cli(args: string[], dir: string, db: TestDb) {
  return runCli(["--dir", dir, ...args], { env: { DATABASE_URL: db.url } });
}

serverTest(
  "repair re-records the named edited checksums, logged, then upgrade runs",
  async (db) => {
    const dir = await tempMigrations({
      "0001_a.up.sql": "CREATE TABLE a (x int);",
      "0002_b.up.sql": "INSERT INTO a VALUES (1);",
      "0003_c.up.sql": "INSERT INTO a VALUES (2);",
    });
    try {
      assert.equal((await cli(["upgrade", "0002"], dir, db)).code, 0);
      const [before] = await db.sql`SELECT checksum FROM strata_migrations WHERE version = 2`;
      await Deno.writeTextFile(`${dir}/0001_a.up.sql`, "CREATE TABLE a (x bigint);");
      await Deno.writeTextFile(`${dir}/0002_b.up.sql`, "INSERT INTO a VALUES (10);");
      const drift = await cli(["upgrade"], dir, db);
      assert.equal(drift.code, 4);
      assert.match(drift.stderr, /DRIFT/);

      const r = await cli(["repair", "2"], dir, db);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`~  0002  b\\n     was ${before.checksum}\\n     now t2:`));
      assert.match(r.stdout, /Repaired 1 checksum\n$/);
      const log = await db.sql`SELECT version::int, direction, detail FROM strata_migrations_log
                              WHERE direction = 'repair'`;
      assert.equal(log.length, 1);
      assert.equal(log[0].version, 2);
      assert.match(log[0].detail, new RegExp(`^checksum ${before.checksum} -> t2:sha256:`));

      const still = await cli(["upgrade"], dir, db);
      assert.equal(still.code, 4, "0001 was not named, so it still drifts");
      assert.match(still.stderr, /0001_a\.up\.sql/);
      assert.doesNotMatch(still.stderr, /0002_b\.up\.sql/);
      const both = await cli(["repair", "0001", "0002"], dir, db);
      assert.equal(both.code, 0, both.stderr);
      assert.match(both.stdout, /= {2}0002 {2}b {2}\(unchanged: its file matches the record\)/);
      const up = await cli(["upgrade"], dir, db);
      assert.equal(up.code, 0, up.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest("repair refuses without versions, and pending or unknown ones", async (db) => {
  const dir = await tempMigrations({ "0001_a.up.sql": "SELECT 1;", "0002_b.up.sql": "SELECT 2;" });
  try {
    assert.equal((await cli(["upgrade", "1"], dir, db)).code, 0);
    const rows = async () => JSON.stringify(await db.sql`SELECT * FROM strata_migrations_log`);
    const before = await rows();
    const none = await cli(["repair"], dir, db);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^error\[USAGE\]: Cannot repair: no versions given\n/);
    assert.match(none.stderr, /never accepts every edit at once/);
    const pending = await cli(["repair", "2"], dir, db);
    assert.equal(pending.code, 2);
    assert.match(pending.stderr, /UNKNOWN_TARGET.*Cannot repair 0002: it is not applied/);
    const unknown = await cli(["repair", "7"], dir, db);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error\[UNKNOWN_TARGET\]: Cannot repair 7: no such version\n/);
    assert.match(unknown.stderr, /hint: Known versions: 0001, 0002/);
    assert.equal(await rows(), before, "nothing was written");
    assert.equal((await cli(["upgrade"], dir, db)).code, 0);
    await Deno.remove(`${dir}/0002_b.up.sql`);
    const applied = await rows();
    const gone = await cli(["repair", "2"], dir, db);
    assert.equal(gone.code, 2, gone.stderr);
    assert.match(gone.stderr, /^error\[UNKNOWN_TARGET\]: Cannot repair 2: no such version\n/);
    assert.match(gone.stderr, /hint: Its file is gone: restore it/);
    assert.equal(await rows(), applied, "nothing was written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
