/**
 * A database migrated by strata 0.1.0 (version table format 1, t1 checksums)
 * keeps working: read-only commands read it as it is, it shows no drift, and
 * the first write upgrades the tables in place, logged.
 */

import assert from "node:assert/strict";
import { applyWithPsql, runCli, serverTest, type TestDb } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const FIXTURE = new URL("./fixtures/format1/strata_tables.sql", import.meta.url).pathname;

/** The schema of migrations/ 0001–0005 and the version tables strata 0.1.0 left for it. */
async function restoreFormat1(db: TestDb): Promise<void> {
  for (const v of ["0001", "0002", "0003", "0004", "0005"]) {
    const name = [...Deno.readDirSync(EXAMPLES)].find((e) =>
      e.name.startsWith(`${v}_`) &&
      e.name.endsWith(".up.sql")
    )!.name;
    await db.sql.unsafe(await Deno.readTextFile(`${EXAMPLES}${name}`));
  }
  await db.sql.unsafe(await Deno.readTextFile(FIXTURE));
}

async function comment(db: TestDb): Promise<string> {
  const [r] = await db.sql`SELECT obj_description('strata_migrations'::regclass, 'pg_class') AS c`;
  return r.c;
}

const cli = (db: TestDb, args: string[]) =>
  runCli(["--dir", EXAMPLES, ...args], { env: { DATABASE_URL: db.url } });

serverTest("a format-1 database shows no drift and is read without being changed", async (db) => {
  await restoreFormat1(db);
  const status = await cli(db, ["status", "--exit-code"]);
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /problems: none/);
  for (const args of [["history"], ["current"], ["log"], ["validate"], ["upgrade"]]) {
    const r = await cli(db, args);
    assert.equal(r.code, 0, `${args}: ${r.stderr}`);
  }
  assert.equal(await comment(db), "strata version table, format 1");
});

serverTest(
  "the first write upgrades format 1 in place, logged, and everything works after",
  async (db) => {
    await restoreFormat1(db);
    const down = await cli(db, ["downgrade", "-1"]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await comment(db), "strata version table, format 2");
    const log = await db.sql`SELECT direction, version::text AS v, detail
    FROM strata_migrations_log ORDER BY id DESC LIMIT 2`;
    assert.deepEqual(log.map((l) => [l.direction, l.v]), [["down", "5"], ["format", null]]);
    assert.equal(log[1].detail, "format 1 upgraded to format 2");
    const up = await cli(db, ["upgrade"]);
    assert.equal(up.code, 0, up.stderr);
    const rows = await db
      .sql`SELECT version::int AS v, left(checksum, 3) AS tag FROM strata_migrations
    ORDER BY version`;
    assert.deepEqual(rows.map((r) => [r.v, r.tag]), [
      [1, "t1:"],
      [2, "t1:"],
      [3, "t1:"],
      [4, "t1:"],
      [
        5,
        "t2:",
      ],
    ]);
    // The rows of 0.1.0 get their files' byte hashes once the table is in the new format, so
    // later runs need not lex those files; their t1 checksums stay as recorded.
    const hashes = await db.sql`SELECT version::int AS v FROM strata_migrations
      WHERE file_hash IS NULL OR file_hash NOT LIKE 'sha256:%'`;
    assert.deepEqual([...hashes], []);
    const status = await cli(db, ["status", "--exit-code"]);
    assert.equal(status.code, 0, status.stdout);
    const interrupted = await db.sql`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint
    WHERE conrelid = 'strata_migrations'::regclass AND contype = 'c' AND conname LIKE '%state%'`;
    assert.equal(interrupted.length, 1);
    assert.match(interrupted[0].d, /reverting/);
  },
);

serverTest(
  "--dry-run on a format-1 database prints the upgrade; psql applying it agrees",
  async (db) => {
    await restoreFormat1(db);
    const script = await cli(db, ["downgrade", "-1", "--dry-run"]);
    assert.equal(script.code, 0, script.stderr);
    assert.match(
      script.stdout,
      /COMMENT ON TABLE "public"\."strata_migrations" IS 'strata version table, format 2'/,
    );
    assert.equal(await comment(db), "strata version table, format 1", "a dry run changes nothing");
    await applyWithPsql(db.url, script.stdout);
    assert.equal(await comment(db), "strata version table, format 2");
    const status = await cli(db, ["status"]);
    assert.match(status.stdout, /current: {2}0004/);
  },
);
