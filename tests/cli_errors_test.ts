/**
 * Honest messages at the trust boundary, black-box: string settings, secrets,
 * the embedded database's one-process rule, permissions, partial
 * statement-by-statement failures, interrupted downs, misplaced header keys,
 * suggestions. Each asserts the exit code, the message and what the database
 * holds afterwards.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { lockKey } from "../lib/db/session.ts";
import {
  finishCli,
  runCli,
  schemaFingerprint,
  serverTest,
  spawnCli,
  tempMigrations,
  type TestDb,
  waitFor,
} from "./_helpers.ts";

const TABLE = { schema: "public", name: "strata_migrations" };

async function withDir<T>(
  files: Record<string, string>,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await tempMigrations(files);
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function cli(db: TestDb, args: string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { DATABASE_URL: db.url, ...env } });
}

async function versions(db: TestDb): Promise<string[]> {
  const rows = await db.sql`SELECT version::text AS v FROM strata_migrations ORDER BY version`;
  return rows.map((r) => r.v);
}

serverTest(
  "a database whose default is standard_conforming_strings = off migrates correctly",
  async (db) => {
    await db.sql.unsafe(`ALTER DATABASE ${db.name} SET standard_conforming_strings = off`);
    await withDir({
      "1_back\\slash.up.sql": "CREATE TABLE t (v text);\nINSERT INTO t VALUES ('a\\b');",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 0, r.stderr);
      const [row] = await db.sql`SELECT name FROM strata_migrations`;
      assert.equal(row.name, "back\\slash");
      const [t] = await db.sql`SELECT v FROM t`;
      assert.equal(t.v, "a\\b", "the file's '' string is read with standard_conforming_strings on");
    });
  },
);

serverTest(
  "a database whose DateStyle is SQL, DMY: strata reads its dates (history, log, lock holder), files keep DMY",
  async (db) => {
    await db.sql.unsafe(`ALTER DATABASE ${db.name} SET datestyle = 'SQL, DMY'`);
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      // A file may set it for its own session too; the restore puts strata's back.
      "2_b.up.sql": "SET datestyle = 'German';\nCREATE TABLE b (id int);",
      // strata sets only the output style: a file's dates still read day first, as without it.
      "3_c.up.sql": "CREATE TABLE c (day date);\nINSERT INTO c VALUES ('25/12/2024');",
    }, async (dir) => {
      const up = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(up.code, 0, up.stderr);
      const [{ day }] = await db.sql`SELECT day::text AS day FROM c`;
      assert.equal(day, "2024-12-25");
      const history = await cli(db, ["--dir", dir, "history", "--json"]);
      assert.equal(history.code, 0, history.stderr);
      const dates = JSON.parse(history.stdout).migrations.map((m: { appliedAt: string }) =>
        m.appliedAt
      );
      assert.equal(dates.length, 3);
      for (const d of dates) assert.match(d, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const log = await cli(db, ["--dir", dir, "log"]);
      assert.equal(log.code, 0, log.stderr);
      assert.match(log.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}up {4}1 /m);
      const holder = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
      try {
        await holder`SELECT pg_advisory_lock(${String(await lockKey(TABLE))})`;
        const r = await cli(db, ["--dir", dir, "--lock-wait", "0s", "upgrade"]);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /LOCK_TIMEOUT[\s\S]*held by pid \d+/);
      } finally {
        await holder.end({ timeout: 1 });
      }
    });
  },
);

/** `2_b.up.sql` with `second` after a plain first file: exit 2, `stderr` matching each, nothing ran. */
async function assertRefused(db: TestDb, second: string, stderr: RegExp[]): Promise<void> {
  await withDir({ "1_a.up.sql": "CREATE TABLE a (id int);", "2_b.up.sql": second }, async (dir) => {
    const before = await schemaFingerprint(db.sql);
    const r = await cli(db, ["--dir", dir, "upgrade"]);
    assert.equal(r.code, 2, second);
    for (const re of stderr) assert.match(r.stderr, re);
    assert.equal(await schemaFingerprint(db.sql), before, `${second}: nothing ran`);
  });
}

serverTest(
  "a file that would drop strata's migration lock (DISCARD ALL, pg_advisory_unlock_all) is refused",
  async (db) => {
    for (
      const stmt of [
        "DISCARD ALL;",
        "discard all;",
        "SELECT pg_advisory_unlock_all();",
        "SELECT pg_catalog.pg_advisory_unlock_all();",
      ]
    ) {
      await assertRefused(db, `-- transaction: false\nCREATE TABLE b (id int);\n${stmt}`, [
        /SETTING_REFUSED.*"2_b\.up\.sql" line 3: it releases strata's migration lock/,
        /DISCARD PLANS, SEQUENCES or TEMP are fine/,
      ]);
    }
    await withDir(
      { "1_a.up.sql": "DISCARD PLANS;\nDISCARD TEMP;\nCREATE TABLE a (id int);" },
      async (dir) => {
        const r = await cli(db, ["--dir", dir, "upgrade"]);
        assert.equal(r.code, 0, r.stderr);
      },
    );
  },
);

serverTest(
  "a file that deallocates strata's prepared record statements is refused; its own statements are fine",
  async (db) => {
    for (
      const stmt of [
        "DEALLOCATE ALL;",
        "deallocate prepare all;",
        "DEALLOCATE strata_record_up;",
        'DEALLOCATE PREPARE "strata_record_down";',
        "PREPARE strata_record_up AS SELECT 1;",
      ]
    ) {
      await assertRefused(db, `CREATE TABLE b (id int);\n${stmt}`, [
        /SETTING_REFUSED.*"2_b\.up\.sql" line 2: it deallocates or redefines strata's prepared statements/,
        /deallocate only your own statements, by name/,
      ]);
    }
    // Inside a DO block the check cannot see it: the file is rolled back and the failure is
    // strata's write, with what to do.
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": "CREATE TABLE b (id int);\nDO $$BEGIN EXECUTE 'DEALLOCATE ALL'; END$$;",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /BOOKKEEPING_FAILED.*Cannot record "2_b\.up\.sql" in the version table: prepared statement "strata_record_up" does not exist/,
      );
      assert.match(r.stderr, /DEALLOCATE ALL inside a function or DO block/);
      const rows = await db.sql`SELECT version::int AS v FROM strata_migrations ORDER BY 1`;
      assert.deepEqual(rows.map((row) => row.v), [1]);
      const b = await db.sql`SELECT to_regclass('public.b') AS b`;
      assert.equal(b[0].b, null, "2_b rolled back");
      await db.sql.unsafe("DROP TABLE a, strata_migrations, strata_migrations_log");
    });
    // A statement-by-statement file that deallocates them: the next file's record prepares again.
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": "-- transaction: false\nDO $$BEGIN EXECUTE 'DEALLOCATE ALL'; END$$;",
      "3_c.up.sql": "CREATE TABLE c (id int);",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 0, r.stderr);
      await db.sql.unsafe("DROP TABLE a, c, strata_migrations, strata_migrations_log");
    });
    // The file's own EXECUTE of a statement that does not exist is the file's error.
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);\nEXECUTE insert_a(2);",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /MIGRATION_FAILED.*"1_a\.up\.sql" failed: prepared statement "insert_a" does not exist/,
      );
      await db.sql.unsafe("DROP TABLE strata_migrations, strata_migrations_log");
    });
    // A file that alters the version table: strata's write fails as strata's, with no caret in
    // the file (its record is one statement of its own, not the prepared one planned again).
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": Array.from({ length: 30 }, (_, i) => `CREATE TABLE b${i} (id int);`)
        .join("\n") + "\nALTER TABLE strata_migrations DROP COLUMN file_hash;",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /BOOKKEEPING_FAILED.*Cannot record "2_b\.up\.sql"/);
      assert.match(r.stderr, /column "file_hash" .*does not exist/);
      assert.doesNotMatch(r.stderr, /2_b\.up\.sql:\d+:\d+/, "no position in the file");
      await db.sql.unsafe("DROP TABLE a, strata_migrations, strata_migrations_log");
    });
    // A file's own prepared statement, DISCARD PLANS, and the files after it are recorded.
    await withDir({
      "1_a.up.sql": "PREPARE mine AS SELECT 1;\nEXECUTE mine;\nDEALLOCATE mine;\nDISCARD PLANS;",
      "2_b.up.sql": "CREATE TABLE b (id int);",
      "3_c.up.sql": "CREATE TABLE c (id int);",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 0, r.stderr);
      const rows = await db.sql`SELECT version::int AS v FROM strata_migrations ORDER BY 1`;
      assert.deepEqual(rows.map((row) => row.v), [1, 2, 3]);
    });
  },
);

serverTest(
  "strata's record statements that cannot be prepared: strata's failure before the file ran, nothing changed",
  async (db) => {
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": "CREATE TABLE b (id int);",
    }, async (dir) => {
      assert.equal((await cli(db, ["--dir", dir, "upgrade", "1"])).code, 0);
      // Another session holds the log table: preparing the write that names it waits, then
      // gives up at the role's lock_timeout.
      const before = await schemaFingerprint(db.sql);
      const holder = postgres(db.url, { max: 1, onnotice: () => {} });
      const held = await holder.reserve();
      try {
        await held.unsafe("BEGIN; LOCK TABLE strata_migrations_log IN ACCESS EXCLUSIVE MODE");
        const url = `${db.url}?options=-c%20lock_timeout%3D500`;
        const r = await cli(db, ["--dir", dir, "--database-url", url, "upgrade"]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(
          r.stderr,
          /BOOKKEEPING_FAILED.*Cannot record "2_b\.up\.sql" in the version table: canceling statement due to lock timeout/,
        );
        assert.match(
          r.stderr,
          /strata could not prepare the statements that record each file, so "2_b\.up\.sql" was not run/,
        );
        await held.unsafe("ROLLBACK");
        assert.equal(await schemaFingerprint(db.sql), before, "2_b did not run");
        assert.deepEqual(await versions(db), ["1"]);
      } finally {
        held.release();
        await holder.end({ timeout: 1 });
      }
    });
  },
);

serverTest(
  "a statement-by-statement file that makes its session read-only by default: strata's marks still write",
  async (db) => {
    const files = {
      "1_ro.up.sql": "-- transaction: false\nSET default_transaction_read_only = on;\n" +
        "SELECT 1;\nSET default_transaction_read_only = off;\nCREATE TABLE t (id int);",
      "2_after.up.sql": "CREATE TABLE after_ro (id int);",
    };
    await withDir(files, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await versions(db), ["1", "2"]);
    });
    await withDir({
      ...files,
      "3_ro.up.sql": "-- transaction: false\nCREATE TABLE kept (id int);\n" +
        "SET default_transaction_read_only = on;\nCREATE TABLE refused (id int);",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /MIGRATION_FAILED.*"3_ro\.up\.sql" failed: cannot execute CREATE TABLE in a read-only transaction/,
      );
      assert.match(r.stderr, /3_ro\.up\.sql:4:1/);
      const [{ state, statement_index }] = await db.sql`SELECT state, statement_index
        FROM strata_migrations WHERE version = 3`;
      assert.deepEqual([state, statement_index], ["started", 2]);
    });
    // A mark that fails (here: a constraint the file put on strata's table) is strata's failure,
    // reported as such, with the session recovered and the failure logged.
    await db.sql`UPDATE strata_migrations SET state = 'applied', statement_index = NULL
      WHERE version = 3`;
    await withDir({
      ...files,
      "3_ro.up.sql": "SELECT 1;",
      "4_mark.up.sql": "-- transaction: false\nALTER TABLE strata_migrations ADD CONSTRAINT " +
        "no_marks CHECK (statement_index IS NULL OR statement_index < 1);\nSELECT 2;",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "--allow-drift", "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /BOOKKEEPING_FAILED.*Cannot record "4_mark\.up\.sql" in the version table/,
      );
      const log = await db.sql`SELECT outcome FROM strata_migrations_log WHERE version = 4`;
      assert.deepEqual(log.map((l) => l.outcome), ["failed"]);
    });
  },
);

serverTest(
  "a failure at COMMIT (a deferred constraint) prints no stray warning; a file's own warnings show",
  async (db) => {
    await withDir({
      "1_deferred.up.sql": "CREATE TABLE parent (id int PRIMARY KEY);\n" +
        "CREATE TABLE child (p int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\n" +
        "INSERT INTO child VALUES (1);",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /MIGRATION_FAILED.*violates foreign key constraint/);
      assert.doesNotMatch(r.stderr, /WARNING/);
      const [{ t }] = await db.sql`SELECT to_regclass('public.parent')::text AS t`;
      assert.equal(t, null, "rolled back");
    });
    await withDir(
      { "1_commit.up.sql": "-- transaction: false\nCOMMIT;\nCREATE TABLE c (id int);" },
      async (dir) => {
        const r = await cli(db, ["--dir", dir, "upgrade"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /WARNING: there is no transaction in progress/);
      },
    );
  },
);

serverTest(
  "a file that turns standard_conforming_strings off is refused before anything runs",
  async (db) => {
    for (
      const stmt of [
        "SET standard_conforming_strings = off;",
        "SET SESSION standard_conforming_strings TO 'off';",
        "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);",
        "RESET standard_conforming_strings;",
      ]
    ) {
      await withDir({
        "1_a.up.sql": "CREATE TABLE a (id int);",
        "2_b.up.sql": `CREATE TABLE b (id int);\n${stmt}\nSELECT 'x\\';`,
      }, async (dir) => {
        const before = await schemaFingerprint(db.sql);
        const r = await cli(db, ["--dir", dir, "upgrade"]);
        assert.equal(r.code, 2, stmt);
        assert.match(
          r.stderr,
          /SETTING_REFUSED.*"2_b.up.sql" line 2: it turns standard_conforming_strings off/,
        );
        assert.equal(await schemaFingerprint(db.sql), before, "nothing ran");
      });
    }
  },
);

serverTest(
  "a hidden COMMIT behind an E'' string continued on the next line is refused, not run",
  async (db) => {
    await withDir({
      "1_a.up.sql": "CREATE TABLE half (id int);\nSELECT E'x'\n'\\''; COMMIT; SELECT 'y';\n" +
        "CREATE TABLE other (id int);",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /RUN_MODE_REFUSED.*transaction control "COMMIT"/);
      assert.equal(await schemaFingerprint(db.sql), "");
    });
  },
);

serverTest("passwords never appear in errors, whatever their form", async (db) => {
  const cases = [
    ["postgres://u@127.0.0.1:55499/db?password=abc%21defgh", ["abc!defgh", "abc%21defgh"]],
    ["postgres://u@127.0.0.1:55499/db?password=my+secret+pw", ["my+secret+pw", "secret"]],
    ["postgres://u@127.0.0.1:55499/db?password=xyz", ["xyz"]],
    [
      "postgres://nobody_here:%70%61%73%73%77%6f%72%64%31%32%33%34%35%36%37%38%39%30%2d%2d@" +
      "127.0.0.1:5432/postgres",
      ["password1234567890", "%70%61%73%73"],
    ],
  ] as const;
  for (const [url, secrets] of cases) {
    for (const args of [["current"], ["--json", "current"]]) {
      const r = await runCli(["--dir", "/nonexistent-is-fine-for-current", ...args], {
        env: { DATABASE_URL: url },
      });
      assert.notEqual(r.code, 0);
      for (const s of secrets) {
        assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `${s} leaked: ${r.stderr}`);
      }
    }
  }
  const bad = await runCli(["current"], {
    env: { DATABASE_URL: "postgres://u:abc%zzdef@127.0.0.1/db" },
  });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /BAD_DATABASE_URL.*malformed %-escape/);
  assert.ok(!bad.stderr.includes("abc"), bad.stderr);
  void db;
});

serverTest(
  "a password from PGPASSWORD, a URL file or .env never reaches the output",
  async (db) => {
    await withDir({ "1_a.up.sql": "SELECT 1;" }, async (dir) => {
      const secret = "s3cr3t-Pa55";
      const file = `${dir}/url`;
      await Deno.writeTextFile(file, `postgres://u:${secret}@127.0.0.1:55499/db\n`);
      await Deno.writeTextFile(
        `${dir}/.env`,
        `DATABASE_URL=postgres://u:${secret}@127.0.0.1:55499/x\n`,
      );
      for (
        const [args, env] of [
          [["current"], { PGHOST: "127.0.0.1", PGPORT: "55499", PGPASSWORD: secret }],
          [["--database-url-file", file, "current"], {}],
          [["--env-file", `${dir}/.env`, "--json", "current"], {}],
        ] as const
      ) {
        const r = await runCli(["--dir", dir, ...args], { env: { ...env } });
        assert.equal(r.code, 3, r.stderr);
        assert.ok(!`${r.stdout}${r.stderr}`.includes(secret), r.stderr);
      }
    });
    void db;
  },
);

serverTest(
  "two processes on one pglite: data directory: the second waits, or exits 3",
  async (db) => {
    void db;
    const dir = await tempMigrations({
      "1_slow.up.sql": "CREATE TABLE slow (id int);\nSELECT pg_sleep(10);",
    });
    const data = await Deno.makeTempDir({ prefix: "strata_test_pglite_" });
    const url = `pglite:${data}/db`;
    try {
      const first = spawnCli(["--dir", dir, "upgrade"], { env: { DATABASE_URL: url } });
      await waitFor("the first process to hold the data directory", async () => {
        try {
          return (await Deno.readTextFile(`${data}/db.strata-lock`)).includes('"pid"');
        } catch {
          return false;
        }
      }, 60_000);
      const refused = await runCli(["--dir", dir, "--lock-wait", "0s", "upgrade"], {
        env: { DATABASE_URL: url },
      });
      assert.equal(refused.code, 3, refused.stderr);
      assert.match(
        refused.stderr,
        /LOCK_TIMEOUT.*another strata process has it open \(pid \d+ on /,
      );
      let told = "";
      const waiting = runCli(["--dir", dir, "--lock-wait", "120s", "upgrade"], {
        env: { DATABASE_URL: url },
        onStderr: (text) => void (told += text),
      });
      const done = await finishCli(first);
      const waited = await waiting;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /up {4}1 {2}slow/);
      assert.equal(waited.code, 0, waited.stderr);
      // It waited for the first (told so at once), then found the work done.
      assert.match(told, /Waiting for pglite:.*: another strata process has it open/);
      assert.match(waited.stdout, /Nothing to do: the database is at 1/);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(data, { recursive: true });
    }
  },
);

serverTest("a lock file left by a killed process is taken over at once", async (db) => {
  void db;
  const dir = await tempMigrations({ "1_a.up.sql": "CREATE TABLE a (id int);" });
  const data = await Deno.makeTempDir({ prefix: "strata_test_pglite_" });
  try {
    await Deno.writeTextFile(
      `${data}/db.strata-lock`,
      JSON.stringify({ pid: 999999, host: "gone", since: "2026-01-01T00:00:00Z" }),
    );
    const r = await runCli(["--dir", dir, "--lock-wait", "0s", "upgrade"], {
      env: { DATABASE_URL: `pglite:${data}/db` },
    });
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});

serverTest("strata log orders numerically: with 12 entries the newest come first", async (db) => {
  const files: Record<string, string> = {};
  for (let i = 1; i <= 6; i++) files[`${i}_m${i}.up.sql`] = `CREATE TABLE m${i} (id int);`;
  for (let i = 1; i <= 6; i++) files[`${i}_m${i}.down.sql`] = `DROP TABLE m${i};`;
  files["7_bad.up.sql"] = "SELECT 1/0;";
  await withDir(files, async (dir) => {
    assert.equal((await cli(db, ["--dir", dir, "upgrade", "6"])).code, 0);
    assert.equal((await cli(db, ["--dir", dir, "downgrade", "base"])).code, 0);
    assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 1);
    const r = await cli(db, ["--dir", dir, "log", "--limit", "3"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0], /up {4}7 {2}bad {2}failed/);
    assert.match(lines[1], /up {4}6 {2}m6 {2}ok/);
    assert.match(lines[2], /up {4}5 {2}m5 {2}ok/);
  });
});

serverTest("permission problems are environment errors (exit 3) naming the fix", async (db) => {
  const role = `${db.name}_weak`;
  await db.sql.unsafe(`CREATE ROLE ${role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
  const weak = db.url.replace("postgres@", `${role}@`);
  try {
    await withDir({ "1_a.up.sql": "SELECT 1;" }, async (dir) => {
      const create = await runCli(["--dir", dir, "upgrade"], { env: { DATABASE_URL: weak } });
      assert.equal(create.code, 3, create.stderr);
      assert.match(create.stderr, /PERMISSION_DENIED.*Cannot create or upgrade the version table/);
      assert.match(create.stderr, /hint: Grant the role CREATE on schema "public"/);
      assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
      for (const args of [["current"], ["status"], ["history"], ["upgrade"], ["log"]]) {
        const r = await runCli(["--dir", dir, ...args], { env: { DATABASE_URL: weak } });
        assert.equal(r.code, 3, `${args}: ${r.stderr}`);
        assert.match(r.stderr, /PERMISSION_DENIED.*permission denied for table strata_migrations/);
        assert.match(r.stderr, /hint: GRANT SELECT/);
      }
      const temp = await cli(db, ["--dir", dir, "--table", "pg_temp.x", "current"]);
      assert.equal(temp.code, 2, temp.stderr);
      assert.match(temp.stderr, /BAD_TABLE_NAME.*"pg_temp" is PostgreSQL's own/);
    });
  } finally {
    await db.sql.unsafe(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
  }
});

serverTest(
  "a statement-by-statement file failing inside its own BEGIN says nothing of it remains",
  async (db) => {
    await withDir({
      "1_nt.up.sql":
        "-- transaction: false\nBEGIN;\nCREATE TABLE w1 (id int);\nSELECT 1/0;\nCOMMIT;",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /statement 3 of 4 failed inside the file's own transaction \(opened by statement 1\), which was rolled back: no statement of it remains/,
      );
      assert.doesNotMatch(r.stderr, /statements 1 to 0/);
      const [t] = await db.sql`SELECT to_regclass('w1') IS NULL AS gone`;
      assert.ok(t.gone);
      const log = await db.sql`SELECT outcome, detail FROM strata_migrations_log`;
      assert.deepEqual(log.map((l) => l.outcome), ["failed"]);
      assert.match(log[0].detail, /22012 division by zero/);
      const [row] = await db.sql`SELECT state, statement_index FROM strata_migrations`;
      assert.deepEqual({ ...row }, { state: "started", statement_index: 0 });
    });
  },
);

serverTest(
  "an interrupted down step says it was a downgrade and gives the stamps for a down",
  async (db) => {
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": "CREATE TABLE b (id int);",
      "2_b.down.sql": "-- transaction: false\nDROP TABLE b;\nSELECT 1/0;",
    }, async (dir) => {
      assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
      const down = await cli(db, ["--dir", dir, "downgrade", "-1"]);
      assert.equal(down.code, 1);
      assert.match(down.stderr, /MIGRATION_FAILED.*"2_b\.down\.sql".*division by zero/s);
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /interrupted while being reverted \(downgrade\)/);
      assert.match(r.stderr, /"strata stamp 1" if its down file finished \(2 is reverted\)/);
      assert.match(r.stderr, /"strata stamp 2" if you restored what it had undone/);
      const stamp = await cli(db, ["--dir", dir, "stamp", "1"]);
      assert.equal(stamp.code, 0, stamp.stderr);
      assert.deepEqual(await versions(db), ["1"]);
    });
  },
);

serverTest(
  "header keys after a licence block apply; after the first statement they are refused",
  async (db) => {
    await withDir({
      "1_slow.up.sql": "/* Licence: MIT\n * (c) 2026 */\n-- statement-timeout: 200ms\n" +
        "SELECT pg_sleep(1.5);",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /canceling statement due to statement timeout/);
    });
    await withDir({
      "1_late.up.sql": "SELECT 1;\n-- statement-timeout: 200ms\nSELECT 2;",
    }, async (dir) => {
      const r = await cli(db, ["--dir", dir, "validate"]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(
        r.stdout,
        /HEADER_MISPLACED.*"1_late.up.sql" line 2: "statement-timeout" comes after/,
      );
      const before = await schemaFingerprint(db.sql);
      const up = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(up.code, 2);
      assert.match(up.stderr, /HEADER_MISPLACED/);
      assert.equal(await schemaFingerprint(db.sql), before);
    });
    await withDir({ "1_x.up.sql": "-- lock-timeout: 9999h\nSELECT 1;" }, async (dir) => {
      const r = await runCli(["--dir", dir, "validate"]);
      assert.equal(r.code, 2);
      assert.match(r.stdout, /HEADER_BAD_VALUE.*"9999h" for "lock-timeout"/);
    });
  },
);

Deno.test("typos suggest the closest command, a read-only one before a writing one", async () => {
  for (const typo of ["statu", "stats", "staus"]) {
    const r = await runCli([typo]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Did you mean "status"\?/, typo);
  }
  const options: Array<[string[], string]> = [
    [["upgrade", "--dryrun"], "--dry-run"],
    [["upgrade", "--alow-drift"], "--allow-drift"],
  ];
  for (const [args, near] of options) {
    const r = await runCli(args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`Did you mean "${near}"\\?`));
  }
});

Deno.test("a directory named like a migration file is an error naming it", async () => {
  await withDir({ "0001_a.up.sql": "SELECT 1;" }, async (dir) => {
    await Deno.mkdir(`${dir}/0002_b.up.sql`);
    const r = await runCli(["--dir", dir, "validate"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /BAD_FILE_NAME.*"[^"]*\/0002_b.up.sql\/": it is a directory/);
  });
});

Deno.test("an invisible U+FEFF in the middle of a file is named with its line", async () => {
  await withDir({ "0001_a.up.sql": "SELECT 1;\n\uFEFFCREATE TABLE t (id int);" }, async (dir) => {
    const r = await runCli(["--dir", dir, "validate"]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /INVALID_TEXT.*line 2, column 1: invisible U\+FEFF/);
  });
});

serverTest(
  "a statement-by-statement file's marks that the role may not write are PERMISSION_DENIED (exit 3)",
  async (db) => {
    const role = `${db.name}_marks`;
    const weak = db.url.replace("postgres@", `${role}@`);
    await withDir({
      "1_a.up.sql": "SELECT 1;",
      // One statement: no statement mark between (a failed mark is reported as strata's own).
      "2_b.up.sql": "-- transaction: false\nCREATE TABLE w2 (id int);",
    }, async (dir) => {
      assert.equal((await cli(db, ["--dir", dir, "upgrade", "1"])).code, 0);
      await db.sql.unsafe(
        `CREATE ROLE ${role} LOGIN; GRANT CREATE ON SCHEMA public TO ${role}; ` +
          `GRANT SELECT ON strata_migrations, strata_migrations_log TO ${role}`,
      );
      try {
        const env = { DATABASE_URL: weak };
        const start = await runCli(["--dir", dir, "upgrade"], { env });
        assert.equal(start.code, 3, start.stderr);
        assert.match(
          start.stderr,
          /^error\[PERMISSION_DENIED\]: Cannot record that "2_b\.up\.sql" is starting: permission denied for table strata_migrations\n/,
        );
        assert.match(
          start.stderr,
          /hint: GRANT SELECT, INSERT, UPDATE, DELETE ON .*nothing was changed/,
        );
        const [none] = await db.sql`SELECT to_regclass('w2') IS NULL AS gone`;
        assert.ok(none.gone, "no statement ran");
        await db.sql.unsafe(`GRANT INSERT ON strata_migrations TO ${role}`);
        const finish = await runCli(["--dir", dir, "upgrade"], { env });
        assert.equal(finish.code, 3, finish.stderr);
        assert.match(
          finish.stderr,
          /^error\[PERMISSION_DENIED\]: Cannot record "2_b\.up\.sql" as done: permission denied/,
        );
        assert.match(finish.stderr, /all ran and are committed.*"strata stamp 2"/s);
        const [row] = await db.sql`SELECT state FROM strata_migrations WHERE version = 2`;
        assert.equal(row.state, "started");
        const [made] = await db.sql`SELECT to_regclass('w2') IS NOT NULL AS made`;
        assert.ok(made.made, "the statement ran");
        await db.sql.unsafe(`GRANT UPDATE, DELETE ON strata_migrations TO ${role}`);
        await db.sql.unsafe(`GRANT INSERT ON strata_migrations_log TO ${role}`);
        const stamp = await runCli(["--dir", dir, "stamp", "2"], { env });
        assert.equal(stamp.code, 0, stamp.stderr);
      } finally {
        await db.sql.unsafe(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
      }
    });
  },
);
