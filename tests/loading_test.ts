/**
 * Loading less (issue 14): unchanged applied files are not lexed, down files
 * are read only when a downgrade needs them, and checksums still catch every
 * real edit, including one that keeps the file's size and mtime.
 */

import assert from "node:assert/strict";
import { findBaseline } from "../lib/core/baseline.ts";
import { loadMigrations } from "../lib/core/files.ts";
import { runCli, serverTest, tempMigrations, type TestDb } from "./_helpers.ts";

const enc = new TextEncoder();

function cli(db: TestDb, dir: string, args: string[]) {
  return runCli(["--dir", dir, ...args], { env: { DATABASE_URL: db.url } });
}

serverTest(
  "an edit that keeps the size and mtime of an applied file is still caught",
  async (db) => {
    const dir = await tempMigrations({
      "1_a.up.sql": "CREATE TABLE a (id int, note text DEFAULT 'abc');",
      "2_b.up.sql": "CREATE TABLE b (id int);",
    });
    try {
      assert.equal((await cli(db, dir, ["upgrade"])).code, 0);
      const path = `${dir}/1_a.up.sql`;
      const { mtime, atime } = await Deno.stat(path);
      await Deno.writeTextFile(path, "CREATE TABLE a (id int, note text DEFAULT 'abd');");
      await Deno.utime(path, atime!, mtime!);
      assert.equal((await Deno.stat(path)).mtime?.getTime(), mtime?.getTime());
      const status = await cli(db, dir, ["status", "--exit-code"]);
      assert.equal(status.code, 4, status.stdout);
      assert.match(status.stdout, /"1_a\.up\.sql" was edited after it was applied/);
      const up = await cli(db, dir, ["upgrade"]);
      assert.equal(up.code, 4);
      assert.match(up.stderr, /DRIFT/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest("a cosmetic edit of an applied file (CRLF, comments) is not an edit", async (db) => {
  const dir = await tempMigrations({ "1_a.up.sql": "CREATE TABLE a (id int);\n" });
  try {
    assert.equal((await cli(db, dir, ["upgrade"])).code, 0);
    await Deno.writeTextFile(
      `${dir}/1_a.up.sql`,
      "-- a licence\r\nCREATE TABLE a (id\r\n  int);\r\n",
    );
    const status = await cli(db, dir, ["status", "--exit-code"]);
    assert.equal(status.code, 0, status.stdout);
    // A no-op upgrade records the new bytes' hash (no log row): later runs skip the lexing.
    const [before] = await db.sql`SELECT file_hash, checksum FROM strata_migrations`;
    const logRows = (await db.sql`SELECT count(*)::int AS n FROM strata_migrations_log`)[0].n;
    assert.equal((await cli(db, dir, ["upgrade"])).code, 0);
    const [after] = await db.sql`SELECT file_hash, checksum FROM strata_migrations`;
    assert.notEqual(after.file_hash, before.file_hash);
    assert.equal(after.checksum, before.checksum, "the checksum stays as recorded");
    const bytes = await Deno.readFile(`${dir}/1_a.up.sql`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(after.file_hash, `sha256:${hex}`);
    const logAfter = (await db.sql`SELECT count(*)::int AS n FROM strata_migrations_log`)[0].n;
    assert.equal(logAfter, logRows, "not a change of state: no log row");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest(
  "upgrade never reads down files; a downgrade through a broken one refuses",
  async (db) => {
    const dir = await tempMigrations({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "1_a.down.sql": "DROP TABLE a; SELECT $$ unterminated",
      "2_b.up.sql": "CREATE TABLE b (id int);",
      "2_b.down.sql": "DROP TABLE b;",
    });
    try {
      const up = await cli(db, dir, ["upgrade"]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal((await cli(db, dir, ["downgrade", "-1"])).code, 0);
      const down = await cli(db, dir, ["downgrade", "base"]);
      assert.equal(down.code, 2, down.stderr);
      assert.match(down.stderr, /SQL_UNTERMINATED.*"1_a\.down\.sql"/);
      const rows = await db.sql`SELECT version::int AS v FROM strata_migrations`;
      assert.deepEqual(rows.map((r) => r.v), [1], "nothing was reverted");
      const validate = await runCli(["--dir", dir, "validate"]);
      assert.equal(validate.code, 2, "validate still checks every file");
      assert.match(validate.stdout + validate.stderr, /SQL_UNTERMINATED.*"1_a\.down\.sql"/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("loadMigrations() lazy parses a file only when it is used", async () => {
  let downReads = 0;
  const entries = [
    { name: "1_a.up.sql", bytes: enc.encode("CREATE TABLE a (id int);") },
    {
      name: "1_a.down.sql",
      get bytes() {
        downReads++;
        return enc.encode("DROP TABLE a;");
      },
    },
    { name: "2_b.up.sql", bytes: enc.encode("-- message: bee\nSELECT $$ unterminated") },
  ];
  const { migrations, problems } = await loadMigrations(entries, { lazy: true });
  assert.deepEqual(problems, []);
  assert.deepEqual(migrations.map((m) => m.message), ["a", "bee"]);
  assert.equal(downReads, 0, "the down file was not read");
  assert.match(migrations[0].fileHash!, /^sha256:[0-9a-f]{64}$/);
  assert.throws(() => migrations[1].up, /unterminated dollar/);
  assert.equal(migrations[0].down?.fileName, "1_a.down.sql");
  assert.equal(downReads, 1);
  const eager = await loadMigrations(entries);
  assert.equal(eager.problems.length, 1, "an eager load lists the problem at once");
});

Deno.test("findBaseline() reads headers only: no up file is lexed to find it", async () => {
  const entries = [
    { name: "1_a.up.sql", bytes: enc.encode("-- baseline: true\nCREATE TABLE a (id int);") },
    { name: "2_b.up.sql", bytes: enc.encode("SELECT $$ unterminated") },
  ];
  const { migrations } = await loadMigrations(entries, { lazy: true });
  assert.equal(findBaseline(migrations)?.versionText, "1", "found without lexing 2_b");
  assert.throws(() => migrations[1].up, /unterminated dollar/, "2_b would fail to lex");
  const none = await loadMigrations(entries.slice(1), { lazy: true });
  assert.equal(findBaseline(none.migrations), undefined);
});
