/**
 * mod.ts, the library API, used as an application would: from its test
 * suite against an in-process PGlite it owns, against a server, and with
 * migrations given in memory. Real databases only.
 */

import assert from "node:assert/strict";
import type { PGlite } from "@electric-sql/pglite";
import { startPglite } from "../lib/db/pglite_start.ts";
import {
  downgrade,
  dryRun,
  migrate,
  type MigrationText,
  status,
  StrataError,
  verify,
  type VerifyReport,
} from "../mod.ts";
import { PGLITE_CACHE, runCli, serverTest } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;

const APP_MIGRATIONS: MigrationText[] = [
  { name: "0001_users.up.sql", sql: "CREATE TABLE users (id int PRIMARY KEY, email text);" },
  { name: "0001_users.down.sql", sql: "DROP TABLE users;" },
  {
    name: "0002_unique_email.up.sql",
    sql: "CREATE UNIQUE INDEX users_email ON users (email);",
  },
  { name: "0002_unique_email.down.sql", sql: "DROP INDEX users_email;" },
];

/**
 * An application's own in-process PGlite (default parsers, nothing of strata's
 * session), started from strata's cached seed instead of paying initdb in
 * every test.
 */
function appPglite(): Promise<PGlite> {
  return startPglite({
    dataDir: null,
    cacheDir: PGLITE_CACHE,
    parsers: undefined,
  });
}

/** What an application's test suite does: one embedded database, migrated in its setup. */
async function appTestSetup(): Promise<PGlite> {
  const pg = await appPglite();
  await migrate({ database: pg, migrations: APP_MIGRATIONS });
  return pg;
}

Deno.test("migrate() migrates an application's own in-process PGlite in its test setup", async () => {
  const pg = await appTestSetup();
  try {
    await pg.query("INSERT INTO users VALUES (1, 'a@example.com')");
    await assert.rejects(
      () => pg.query("INSERT INTO users VALUES (2, 'a@example.com')"),
      /duplicate key value violates unique constraint "users_email"/,
    );
    const s = await status({ database: pg, migrations: APP_MIGRATIONS });
    assert.deepEqual(s, { current: "0002", head: "0002", applied: 2, pending: [], problems: [] });
    const again = await migrate({ database: pg, migrations: APP_MIGRATIONS });
    assert.deepEqual(again.steps, []);
    assert.equal(again.to, "0002");
    // One session, a new call each time: strata's prepared record statements are found, not
    // prepared twice.
    const down = await downgrade({ database: pg, migrations: APP_MIGRATIONS, target: "-1" });
    assert.equal(down.to, "0001");
    const up = await migrate({ database: pg, migrations: APP_MIGRATIONS });
    assert.equal(up.steps.length, 1);
    assert.equal(up.to, "0002");
    assert.equal(pg.closed, false, "strata must leave the application's database open");
  } finally {
    await pg.close();
  }
});

Deno.test("migrate(), downgrade(), status() and dryRun() on a pglite: URL return plain data", async () => {
  const data = await Deno.makeTempDir({ prefix: "strata_test_lib_" });
  const databaseUrl = `pglite:${data}/db`;
  try {
    const up = await migrate({ databaseUrl, dir: EXAMPLES, target: "0003" });
    assert.equal(up.direction, "up");
    assert.equal(up.from, null);
    assert.equal(up.to, "0003");
    assert.deepEqual(up.steps.map((s) => s.version), ["0001", "0002", "0003"]);
    assert.equal(up.steps[0].file, "0001_create_projects.up.sql");
    assert.ok(up.steps.every((s) => typeof s.ms === "number"));
    const s = await status({ databaseUrl, dir: EXAMPLES });
    assert.deepEqual(s.pending, ["0004", "0005"]);
    assert.equal(s.current, "0003");
    const down = await downgrade({ databaseUrl, dir: EXAMPLES, target: "-2" });
    assert.deepEqual(down.steps.map((x) => x.version), ["0003", "0002"]);
    assert.equal(down.to, "0001");
    const { script } = await dryRun({ databaseUrl, dir: EXAMPLES });
    assert.match(script, /^-- strata upgrade head: 0001 -> 0005 \(4 migrations\)/);
    assert.equal((await status({ databaseUrl, dir: EXAMPLES })).current, "0001");
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("dryRun() with from makes no connection and needs no database", async () => {
  const { script } = await dryRun({ dir: EXAMPLES, from: "base", target: "0002" });
  assert.match(script, /^-- strata upgrade 0002: base -> 0002 \(2 migrations\)/);
  assert.match(script, /CREATE TABLE projects/);
  const down = await dryRun({ dir: EXAMPLES, command: "downgrade", target: "base", from: "0005" });
  assert.match(down.script, /^-- strata downgrade base: 0005 -> base \(5 migrations\)/);
});

Deno.test("verify() returns the verify document for in-memory migrations", async () => {
  const broken: MigrationText[] = [
    ...APP_MIGRATIONS.slice(0, 2),
    { name: "0002_note.up.sql", sql: "ALTER TABLE users ADD COLUMN note text;" },
    { name: "0002_note.down.sql", sql: "SELECT 1;" },
  ];
  const good = await verify({ migrations: APP_MIGRATIONS });
  assert.equal(good.ok, true);
  assert.deepEqual(good.migrations.map((m) => m.status), ["ok", "ok"]);
  const bad = await verify({ migrations: broken });
  assert.equal(bad.ok, false);
  assert.equal(bad.migrations[1].status, "differs");
  assert.match(bad.migrations[1].differences.join("\n"), /users\.note/);
  const upFails: MigrationText[] = [
    { name: "0001_bad.up.sql", sql: "CREATE TABLE t (id int);\nSELEC 1;" },
    { name: "0001_bad.down.sql", sql: "DROP TABLE t;" },
    { name: "0002_users.up.sql", sql: APP_MIGRATIONS[0].sql },
    { name: "0002_users.down.sql", sql: APP_MIGRATIONS[1].sql },
  ];
  const stopped: VerifyReport = await verify({ migrations: upFails });
  const statuses: VerifyReport["migrations"][number]["status"][] = ["up-failed", "not-verified"];
  assert.deepEqual(stopped.migrations.map((m) => m.status), statuses);
  assert.equal(stopped.ok, false);
  assert.equal(stopped.final, null);
  assert.equal(stopped.restarts, 0);
});

Deno.test("verify() returns exactly the document verify --json prints", async () => {
  const lib = await verify({ dir: EXAMPLES });
  const cli = await runCli(["--dir", EXAMPLES, "--json", "verify"]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(lib, JSON.parse(cli.stdout));
  assert.deepEqual(Object.keys(lib), ["scratch", "ok", "migrations", "final", "restarts"]);
});

Deno.test("the library throws StrataError with the CLI's codes and changes nothing", async () => {
  // No database given: a USAGE error naming the call, never a fallback to DATABASE_URL.
  const calls = [
    ["migrate", () => migrate({ dir: EXAMPLES, env: { DATABASE_URL: "pglite:memory" } })],
    ["downgrade", () => downgrade({ dir: EXAMPLES, target: "base" })],
    ["status", () => status({ dir: EXAMPLES })],
    ["dryRun", () => dryRun({ dir: EXAMPLES })],
  ] as const;
  for (const [call, fn] of calls) {
    await assert.rejects(fn, (e) => {
      assert.ok(e instanceof StrataError, String(e));
      assert.equal(e.code, "USAGE");
      assert.equal(e.message, `Cannot ${call}: no database given`);
      assert.match(e.hint ?? "", /Pass databaseUrl .* or database \(a PGlite instance\)/);
      return true;
    });
  }
  await assert.rejects(
    () => migrate({ databaseUrl: "pglite:memory", migrations: [] }),
    (e) => e instanceof StrataError && e.code === "NO_MIGRATIONS",
  );
  const empty = await migrate({ databaseUrl: "pglite:memory", migrations: [], allowEmpty: true });
  assert.deepEqual(empty.steps, []);
  await assert.rejects(
    () =>
      migrate({
        databaseUrl: "pglite:memory",
        migrations: [{ name: "0001_a.up.sql", sql: "-- transactoin: false\nSELECT 1;" }],
      }),
    (e) => e instanceof StrataError && e.code === "HEADER_UNKNOWN_KEY",
  );
  const pg = await appPglite();
  try {
    const failing = [
      ...APP_MIGRATIONS.slice(0, 2),
      { name: "0002_bad.up.sql", sql: "CREATE TABLE t (id int);\nSELEC 1;" },
    ];
    await assert.rejects(
      () => migrate({ database: pg, migrations: failing }),
      (e) => {
        assert.ok(e instanceof StrataError);
        assert.equal(e.code, "MIGRATION_FAILED");
        assert.equal(e.line, 2);
        assert.deepEqual(e.partial?.applied, ["0001"]);
        assert.equal(e.partial?.failed, "0002");
        return true;
      },
    );
    const tables = await pg.query<{ n: string }>(
      "SELECT string_agg(tablename, ',' ORDER BY tablename) AS n FROM pg_tables WHERE schemaname = 'public'",
    );
    assert.equal(tables.rows[0].n, "strata_migrations,strata_migrations_log,users");
  } finally {
    await pg.close();
  }
});

Deno.test("every call refuses both dir and migrations with USAGE, touching no database", async () => {
  const pg = await appPglite();
  try {
    const both = { dir: EXAMPLES, migrations: APP_MIGRATIONS };
    const calls = [
      ["migrate", () => migrate({ ...both, database: pg })],
      ["downgrade", () => downgrade({ ...both, database: pg, target: "base" })],
      ["status", () => status({ ...both, database: pg })],
      ["dryRun", () => dryRun({ ...both, database: pg })],
      ["verify", () => verify(both)],
    ] as const;
    for (const [call, fn] of calls) {
      await assert.rejects(fn, (e) => {
        assert.ok(e instanceof StrataError, String(e));
        assert.equal(e.code, "USAGE");
        assert.equal(e.message, `Cannot ${call}: both dir and migrations given`);
        assert.equal(e.hint, "Give the directory, or the migrations in memory, not both");
        return true;
      });
    }
    const tables = await pg.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public'");
    assert.deepEqual(tables.rows, [], "no version table, no migration");
  } finally {
    await pg.close();
  }
});

serverTest(
  "migrate() and downgrade() on a server URL, with ${NAME} values from env",
  async (db) => {
    const files: MigrationText[] = [
      {
        name: "0001_role.up.sql",
        sql:
          "-- env: APP_SCHEMA\nCREATE SCHEMA ${APP_SCHEMA};\nCREATE TABLE ${APP_SCHEMA}.t (x int);",
      },
      { name: "0001_role.down.sql", sql: "-- env: APP_SCHEMA\nDROP SCHEMA ${APP_SCHEMA} CASCADE;" },
    ];
    await assert.rejects(
      () => migrate({ databaseUrl: db.url, migrations: files, env: {} }),
      (e) => e instanceof StrataError && e.code === "ENV_UNSET" && /APP_SCHEMA/.test(e.details[0]),
    );
    const up = await migrate({
      databaseUrl: db.url,
      migrations: files,
      env: { APP_SCHEMA: "lib_app" },
    });
    assert.deepEqual(up.steps.map((s) => s.version), ["0001"]);
    const [{ n }] = await db
      .sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'lib_app'`;
    assert.equal(n, 1);
    const down = await downgrade({
      databaseUrl: db.url,
      migrations: files,
      env: { APP_SCHEMA: "lib_app" },
      target: "base",
    });
    assert.equal(down.to, null);
  },
);

Deno.test("mod.ts exports exactly the surface README lists", async () => {
  const exported = Object.keys(await import("../mod.ts")).sort();
  assert.deepEqual(exported, ["StrataError", "downgrade", "dryRun", "migrate", "status", "verify"]);
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Library API"), readme.indexOf("## Switching"));
  for (const name of exported) assert.match(section, new RegExp(`\\| \`${name}(\\(|\`)`), name);
});
