import assert from "node:assert/strict";
import {
  announceServerSkip,
  runCli,
  schemaFingerprint,
  serverTest,
  tempMigrations,
  type TestDb,
} from "./_helpers.ts";

announceServerSkip();

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;

function cli(db: TestDb | { url: string }, args: string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { DATABASE_URL: db.url, ...env } });
}

async function versions(db: TestDb, table = `"public"."strata_migrations"`): Promise<string[]> {
  const rows = await db.sql.unsafe(`SELECT version::text AS v FROM ${table} ORDER BY version`);
  return rows.map((r) => r.v);
}

async function hasTable(db: TestDb, name: string): Promise<boolean> {
  const [r] = await db.sql`SELECT to_regclass(${name}) IS NOT NULL AS ok`;
  return r.ok;
}

async function userTables(db: TestDb): Promise<string[]> {
  const rows = await db.sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
  return rows.map((r) => r.tablename);
}

serverTest(
  "upgrade applies migrations/ one line each; current, history, downgrade base",
  async (db) => {
    const up = await cli(db, ["--dir", EXAMPLES, "upgrade"]);
    assert.equal(up.code, 0, up.stderr);
    const lines = up.stdout.trim().split("\n");
    assert.equal(lines.length, 6);
    for (const l of lines.slice(0, 5)) assert.match(l, /^up {4}000\d {2}.+ \.+ \d+ ms$/);
    assert.match(lines[5], /^Applied 5 migrations in .*: base -> 0005$/);
    assert.equal(up.stderr, "");
    assert.deepEqual(await versions(db), ["1", "2", "3", "4", "5"]);

    const current = await cli(db, ["--dir", EXAMPLES, "current"]);
    assert.equal(current.code, 0);
    assert.equal(current.stdout, "0005  archive projects (head)\n");

    const history = await cli(db, ["--dir", EXAMPLES, "history"]);
    assert.equal(history.code, 0);
    assert.equal(history.stdout.split("\n").filter((l) => / applied /.test(l)).length, 5);
    assert.match(history.stdout, /5 applied, 0 pending/);

    const again = await cli(db, ["--dir", EXAMPLES, "upgrade"]);
    assert.equal(again.stdout, "Nothing to do: the database is at 0005\n");

    const down = await cli(db, ["--dir", EXAMPLES, "downgrade", "base"]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /Reverted 5 migrations .*0005 -> base/);
    assert.deepEqual(await userTables(db), ["strata_migrations", "strata_migrations_log"]);
    const [{ n }] = await db
      .sql`SELECT count(*)::int AS n FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace
    WHERE s.nspname = 'public' AND t.typtype = 'e'`;
    assert.equal(n, 0);
    const log = await db
      .sql`SELECT direction, count(*)::int AS n FROM strata_migrations_log GROUP BY 1 ORDER BY 1`;
    assert.deepEqual(log.map((r) => [r.direction, r.n]), [["down", 5], ["up", 5]]);
  },
);

serverTest("upgrade +1 and downgrade -1 step exactly one migration", async (db) => {
  assert.equal((await cli(db, ["--dir", EXAMPLES, "upgrade", "+1"])).code, 0);
  assert.deepEqual(await versions(db), ["1"]);
  assert.equal((await cli(db, ["--dir", EXAMPLES, "upgrade", "+1"])).code, 0);
  assert.deepEqual(await versions(db), ["1", "2"]);
  const down = await cli(db, ["--dir", EXAMPLES, "downgrade", "-1"]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /^down {2}0002 /);
  assert.deepEqual(await versions(db), ["1"]);
  assert.equal((await cli(db, ["--dir", EXAMPLES, "upgrade", "3"])).code, 0);
  assert.deepEqual(await versions(db), ["1", "2", "3"]);
});

serverTest(
  "a failing migration leaves the previous version, nothing of it, exit 1, file:line:col",
  async (db) => {
    const dir = await tempMigrations({
      "0001_a.up.sql": "CREATE TABLE a (id int);",
      "0001_a.down.sql": "DROP TABLE a;",
      "0002_b.up.sql": "-- message: b\nCREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n\n" +
        "SELECT 'é';\n  SELEC oops;\nCREATE TABLE c (id int);\n",
      "0002_b.down.sql": "DROP TABLE b;",
      "0003_c.up.sql": "CREATE TABLE d (id int);",
    });
    try {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^up {4}0001 {2}a/);
      assert.match(
        r.stderr,
        /error\[MIGRATION_FAILED\]: Migration "0002_b.up.sql" failed: syntax error at or near "SELEC"/,
      );
      assert.match(r.stderr, new RegExp(`at ${dir}/0002_b.up.sql:6:3`));
      assert.match(r.stderr, /6 \| {3}SELEC oops;\n\s+\| {3}\^/);
      assert.match(r.stderr, /applied before the failure: 0001/);
      assert.match(r.stderr, /0002 was rolled back/);
      assert.match(r.stderr, /not run: 0003/);
      assert.deepEqual(await versions(db), ["1"]);
      assert.deepEqual(await userTables(db), ["a", "strata_migrations", "strata_migrations_log"]);
      const [failed] = await db
        .sql`SELECT version::int AS v, outcome FROM strata_migrations_log WHERE outcome = 'failed'`;
      assert.deepEqual({ ...failed }, { v: 2, outcome: "failed" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "a BEGIN/COMMIT-wrapped golang-migrate file runs atomically with its version row",
  async (db) => {
    const dir = await tempMigrations({
      "1_w.up.sql": "BEGIN;\nCREATE TABLE w (id int);\nCOMMIT;\n",
      "1_w.down.sql": "BEGIN;\nDROP TABLE w;\nCOMMIT;\n",
    });
    try {
      assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
      assert.ok(await hasTable(db, "w"));
      assert.equal((await cli(db, ["--dir", dir, "downgrade", "base"])).code, 0);
      assert.ok(!(await hasTable(db, "w")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest("--table with quotes and semicolons is quoted, not injected", async (db) => {
  const table = `odd"; DROP TABLE victim; --`;
  await db.sql`CREATE TABLE victim (id int)`;
  const r = await cli(db, ["--dir", EXAMPLES, "--table", `ops.${table}`, "upgrade", "+1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(await hasTable(db, "victim"));
  const quoted = `"ops"."${table.replaceAll('"', '""')}"`;
  assert.deepEqual(await versions(db, quoted), ["1"]);
  assert.ok(await hasTable(db, `"ops"."${table.replaceAll('"', '""')}_log"`));
  const cur = await cli(db, ["--dir", EXAMPLES, "current"], { STRATA_TABLE: `ops.${table}` });
  assert.match(cur.stdout, /^0001/);
});

serverTest("a table of that name that strata did not make is refused with exit 4", async (db) => {
  await db.sql`CREATE TABLE strata_migrations (id int)`;
  const r = await cli(db, ["--dir", EXAMPLES, "upgrade"]);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /TABLE_FORMAT.*"public.strata_migrations".*not made by strata/);
  assert.deepEqual(await userTables(db), ["strata_migrations"]);
});

/** Run `args` expecting `code` and a stderr matching `pattern`, and check nothing changed. */
async function refused(
  db: TestDb,
  args: string[],
  code: number,
  pattern: RegExp,
  env: Record<string, string> = {},
) {
  const before = await schemaFingerprint(db.sql);
  const tables = await userTables(db);
  const r = await runCli(args, { env: { DATABASE_URL: db.url, ...env } });
  assert.equal(r.code, code, `exit code of ${args.join(" ")}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.split("\n").length < 25, true, "the error fits on one screen");
  assert.equal(await schemaFingerprint(db.sql), before);
  assert.deepEqual(await userTables(db), tables);
  return r;
}

serverTest(
  "bad directories are refused with exit 2 naming the option, database unchanged",
  async (db) => {
    await refused(
      db,
      ["--dir", "/no/such/dir", "upgrade"],
      2,
      /DIR_NOT_FOUND.*"\/no\/such\/dir": not found[\s\S]*--dir/,
    );
    const file = await Deno.makeTempFile();
    try {
      await refused(db, ["--dir", file, "upgrade"], 2, /DIR_UNREADABLE.*not a directory/);
    } finally {
      await Deno.remove(file);
    }
  },
);

serverTest(
  "bad migration files are refused with exit 2 naming file and line, database unchanged",
  async (db) => {
    const cases: Array<[Record<string, string | Uint8Array>, RegExp]> = [
      [
        { "0001_a.up.sql": "SELECT 1;", "0003_add.sql": "SELECT 1;" },
        /BAD_FILE_NAME.*"0003_add.sql": not a migration name/,
      ],
      [
        { "0001_a.up.sql": "SELECT 1;", "1_b.up.sql": "SELECT 1;" },
        /DUPLICATE_VERSION.*"0001_a.up.sql" and "1_b.up.sql"/,
      ],
      [
        { "0001_a.up.sql": new Uint8Array([0x53, 0x45, 0xff, 0x3b]) },
        /INVALID_TEXT.*"0001_a.up.sql": invalid UTF-8 at byte offset 2/,
      ],
      [
        { "0001_a.up.sql": new Uint8Array([0x53, 0x3b, 0x00]) },
        /INVALID_TEXT.*NUL byte at byte offset 2/,
      ],
      [
        { "0001_a.up.sql": "-- transactoin: false\nSELECT 1;" },
        /HEADER_UNKNOWN_KEY.*"0001_a.up.sql" line 1: unknown key "transactoin"[\s\S]*Did you mean "transaction"/,
      ],
      [
        { "0001_a.up.sql": "-- message: x\n-- lock-timeout: soon\nSELECT 1;" },
        /HEADER_BAD_VALUE.*line 2: bad value "soon" for "lock-timeout"/,
      ],
      [
        { "0001_a.up.sql": "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);" },
        /RUN_MODE_REFUSED.*line 2[\s\S]*-- transaction: false/,
      ],
      [
        { "0001_a.up.sql": "SELECT 'unterminated;" },
        /SQL_UNTERMINATED.*"0001_a.up.sql" line 1: unterminated string/,
      ],
    ];
    for (const [files, pattern] of cases) {
      const dir = await tempMigrations(files);
      try {
        await refused(db, ["--dir", dir, "upgrade"], 2, pattern);
        assert.ok(!(await hasTable(db, "strata_migrations")), "nothing was created");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
);

serverTest("several bad files are all listed at once", async (db) => {
  const dir = await tempMigrations({
    "1_a.up.sql": "-- transactoin: x\n",
    "2_b.sql": "",
    "3_c.up.sql": "SELECT $$;",
  });
  try {
    const r = await refused(db, ["--dir", dir, "upgrade"], 2, /FILES_INVALID.*3 problems/);
    assert.match(r.stderr, /transactoin/);
    assert.match(r.stderr, /2_b\.sql/);
    assert.match(r.stderr, /unterminated dollar/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest("bad targets are refused with exit 2 naming the right verb", async (db) => {
  assert.equal((await cli(db, ["--dir", EXAMPLES, "upgrade", "0003"])).code, 0);
  await refused(
    db,
    ["--dir", EXAMPLES, "upgrade", "0042"],
    2,
    /UNKNOWN_TARGET.*0042: no such version/,
  );
  await refused(
    db,
    ["--dir", EXAMPLES, "upgrade", "1"],
    2,
    /WRONG_DIRECTION[\s\S]*strata downgrade 0001/,
  );
  await refused(
    db,
    ["--dir", EXAMPLES, "downgrade", "5"],
    2,
    /WRONG_DIRECTION[\s\S]*strata upgrade 5/,
  );
  await refused(
    db,
    ["--dir", EXAMPLES, "downgrade"],
    2,
    /USAGE.*no target given[\s\S]*downgrade base/,
  );
  await refused(
    db,
    ["--dir", EXAMPLES, "upgrade", "sideways"],
    2,
    /USAGE.*"sideways": not a target/,
  );
  assert.deepEqual(await versions(db), ["1", "2", "3"]);
});

serverTest(
  "downgrade across an irreversible migration refuses before running anything",
  async (db) => {
    const dir = await tempMigrations({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "1_a.down.sql": "DROP TABLE a;",
      "2_b.up.sql": "CREATE TABLE b (id int);",
      "3_c.up.sql": "CREATE TABLE c (id int);",
      "3_c.down.sql": "DROP TABLE c;",
    });
    try {
      assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
      await refused(
        db,
        ["--dir", dir, "downgrade", "base"],
        2,
        /IRREVERSIBLE.*"2_b.up.sql": it has no down file/,
      );
      assert.deepEqual(await versions(db), ["1", "2", "3"]);
      assert.ok(await hasTable(db, "c"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest("drift and out-of-order are refused with exit 4 unless allowed", async (db) => {
  const dir = await tempMigrations({
    "1_a.up.sql": "CREATE TABLE a (id int);",
    "3_c.up.sql": "CREATE TABLE c (id int);",
  });
  try {
    assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
    await Deno.writeTextFile(`${dir}/2_b.up.sql`, "CREATE TABLE b (id int);");
    await refused(db, ["--dir", dir, "upgrade"], 4, /OUT_OF_ORDER[\s\S]*"2_b.up.sql" is pending/);
    await Deno.writeTextFile(`${dir}/1_a.up.sql`, "CREATE TABLE a (id bigint);");
    await refused(
      db,
      ["--dir", dir, "upgrade", "--allow-out-of-order"],
      4,
      /DRIFT[\s\S]*"1_a.up.sql" was edited/,
    );
    const ok = await cli(db, ["--dir", dir, "upgrade", "--allow-out-of-order", "--allow-drift"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await versions(db), ["1", "2", "3"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest(
  "connection problems exit 3 (or 2 when nothing is configured), never showing the password",
  async (db) => {
    const none = await runCli(["--dir", EXAMPLES, "upgrade"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /NO_DATABASE[\s\S]*--database-url/);
    const cases: Array<[string, RegExp]> = [
      [
        "postgres://postgres:hunter22@nosuchhost.invalid:5432/x",
        /CONNECTION_FAILED.*host (not found|name lookup failed)/,
      ],
      ["postgres://postgres:hunter22@127.0.0.1:1/x", /CONNECTION_FAILED.*connection refused/],
      [
        "postgres://nosuchuser:hunter22@127.0.0.1:5432/postgres",
        /AUTH_FAILED.*role "nosuchuser" does not exist/,
      ],
      [
        `postgres://postgres:hunter22@127.0.0.1:5432/${db.name}_missing`,
        /CONNECTION_FAILED.*does not exist/,
      ],
    ];
    for (const [url, pattern] of cases) {
      const r = await runCli(["--dir", EXAMPLES, "upgrade"], { env: { DATABASE_URL: url } });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, pattern);
      assert.ok(!(r.stdout + r.stderr).includes("hunter22"), r.stderr);
      assert.match(r.stderr, /postgres:\/\/[a-z]+:\*\*\*@/);
    }
    const file = await Deno.makeTempFile();
    await Deno.writeTextFile(file, db.url + "\n");
    try {
      const viaFile = await runCli(["--dir", EXAMPLES, "current"], {
        env: { DATABASE_URL_FILE: file },
      });
      assert.equal(viaFile.code, 0, viaFile.stderr);
      const u = new URL(db.url);
      const viaPg = await runCli(["--dir", EXAMPLES, "current"], {
        env: { PGHOST: u.hostname, PGPORT: u.port, PGUSER: "postgres", PGDATABASE: db.name },
      });
      assert.equal(viaPg.stdout, "base (no migrations applied)\n");
    } finally {
      await Deno.remove(file);
    }
  },
);

serverTest(
  "sslmode=require against a server without SSL fails clearly, never in plaintext",
  async (db) => {
    const [{ ssl }] = await db.sql`SELECT current_setting('ssl') AS ssl`;
    if (ssl === "on") {
      console.log("server has SSL on: the no-SSL refusal cannot be exercised here");
      return;
    }
    const r = await cli({ url: `${db.url}?sslmode=require` }, ["--dir", EXAMPLES, "upgrade"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /SSL_UNAVAILABLE.*sslmode=require/);
    assert.ok(!(await hasTable(db, "strata_migrations")));
  },
);
