/**
 * Bad command lines that no other test covers: each gives its code, exit
 * code, a message that names the option or file at fault, and a hint; none
 * reaches a database (and none changes one: a scratch database the role may
 * not create is not created).
 */

import assert from "node:assert/strict";
import { runCli, serverTest, tempMigrations, waitFor } from "./_helpers.ts";

const CASES: ReadonlyArray<[string[], RegExp, RegExp]> = [
  [["import"], /USAGE\]: Cannot import: --from is required/, /--from is one of alembic, dbmate/],
  [["import", "--from", "dbmat"], /USAGE\]: Cannot import from "dbmat"/, /Did you mean "dbmate"\?/],
  [
    ["import", "--from", "dbmate", "--adopt", "--source", "db"],
    /USAGE\]: Cannot use --source with --adopt/,
    /reads the converted files in --dir/,
  ],
  [
    ["import", "--from", "dbmate", "--tool-table", "x"],
    /USAGE\]: Cannot use --tool-table without --adopt/,
    /import --adopt/,
  ],
  [
    ["validate", "--format", "xml"],
    /USAGE\]: Cannot use --format "xml": no such format/,
    /Use "text" \(the default\) or "github"/,
  ],
  [
    ["validate", "--format", "github", "--json"],
    // With --json the error is JSON too.
    /"code":"USAGE","exit":2,"message":"Cannot use --format github with --json"/,
    /Choose one: --json for programs/,
  ],
  [
    ["--env-file", "/nonexistent/strata.env", "current"],
    /USAGE\]: Cannot read --env-file "\/nonexistent\/strata.env"/,
    /Check the path, or leave --env-file out/,
  ],
  [
    ["--database-url-file", "/nonexistent/url", "current"],
    /NO_DATABASE\]: Cannot read the database URL file "\/nonexistent\/url" \(--database-url-file\)/,
    /Check the path and its permissions/,
  ],
];

Deno.test("bad command lines name what is wrong and exit 2 before any connection", async () => {
  const dir = await tempMigrations({ "1_a.up.sql": "CREATE TABLE a (id int);" });
  try {
    for (const [args, message, hint] of CASES) {
      // No database is configured: none of these may get as far as trying one.
      const r = await runCli(["--dir", dir, ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.match(r.stderr, hint, args.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest(
  "a --scratch-url role without CREATEDB: CONNECTION_FAILED naming the need, nothing made",
  async (db) => {
    const role = `${db.name}_nocreate`;
    await db.sql.unsafe(`CREATE ROLE ${role} LOGIN NOCREATEDB`);
    let dir: string | null = null;
    try {
      dir = await tempMigrations({ "1_a.up.sql": "CREATE TABLE a (id int);" });
      const url = db.url.replace("postgres@", `${role}@`);
      const r = await runCli(["--dir", dir, "lint", "--all", "--trace", "--scratch-url", url]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        /CONNECTION_FAILED\]: Cannot create a scratch database on .*permission denied to create database/,
      );
      assert.match(r.stderr, /needs CREATEDB/);
      // Nothing of this run is left on the server: no database of the role (it could make
      // none), and its session closed. Only this test's role is looked at: other suites may be
      // making scratch databases on the same server at the same time.
      const owned = await db.sql`SELECT d.datname FROM pg_database d
        JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = ${role}`;
      assert.deepEqual([...owned], [], "no scratch database was left");
      await waitFor("strata's session as the role to end", async () => {
        const open = await db.sql`SELECT 1 FROM pg_stat_activity WHERE usename = ${role}`;
        return open.length === 0;
      }, 30_000);
    } finally {
      if (dir !== null) await Deno.remove(dir, { recursive: true });
      await db.sql.unsafe(`DROP ROLE ${role}`);
    }
  },
);
