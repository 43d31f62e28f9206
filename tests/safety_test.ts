import assert from "node:assert/strict";
import postgres from "postgres";
import { lockKey } from "../lib/db/session.ts";
import {
  finishCli,
  migrationLockFree,
  runCli,
  serverTest,
  spawnCli,
  tempMigrations,
  type TestDb,
  waitFor,
  watchCli,
} from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const TABLE = { schema: "public", name: "strata_migrations" };

// The sleeping statement reads its duration from a control table the test owns,
// so the same (unchanged) file sleeps on the first run and not on the rerun.
const SLEEP = "SELECT pg_sleep((SELECT seconds FROM sleep_control));";

async function withDir<T>(files: Record<string, string>, fn: (dir: string) => Promise<T>) {
  const dir = await tempMigrations(files);
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function setSleep(db: TestDb, seconds: number): Promise<void> {
  await db.sql`CREATE TABLE IF NOT EXISTS sleep_control (seconds float8)`;
  await db.sql`DELETE FROM sleep_control`;
  await db.sql`INSERT INTO sleep_control VALUES (${seconds})`;
}

async function sleepingBackend(db: TestDb): Promise<number | undefined> {
  const rows = await db.sql`SELECT pid FROM pg_stat_activity
    WHERE datname = ${db.name} AND application_name = 'strata' AND state = 'active'
      AND query LIKE '%pg_sleep%'`;
  return rows[0]?.pid;
}

async function waitForSleep(db: TestDb): Promise<number> {
  let pid: number | undefined;
  await waitFor(
    "strata to reach pg_sleep",
    async () => (pid = await sleepingBackend(db)) !== undefined,
  );
  return pid!;
}

async function versions(db: TestDb): Promise<string[]> {
  const rows = await db.sql`SELECT version::text AS v FROM strata_migrations ORDER BY version`;
  return rows.map((r) => r.v);
}

async function exists(db: TestDb, name: string): Promise<boolean> {
  const [r] = await db.sql`SELECT to_regclass(${name}) IS NOT NULL AS ok`;
  return r.ok;
}

const env = (db: TestDb) => ({ DATABASE_URL: db.url });

serverTest(
  "8 processes upgrading one fresh database at once: each migration applied once",
  async (db) => {
    const runs = await Promise.all(
      Array.from(
        { length: 8 },
        () => finishCli(spawnCli(["--dir", EXAMPLES, "upgrade"], { env: env(db) })),
      ),
    );
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
    }
    assert.ok(!runs.some((r) => /duplicate key/.test(r.stderr)));
    assert.deepEqual(await versions(db), ["1", "2", "3", "4", "5"]);
    const log = await db.sql`SELECT version::int AS v, count(*)::int AS n FROM strata_migrations_log
    WHERE direction = 'up' GROUP BY 1 ORDER BY 1`;
    assert.deepEqual(log.map((r) => [r.v, r.n]), [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]]);
    assert.equal(runs.filter((r) => /^Applied 5 migrations/m.test(r.stdout)).length, 1);
  },
);

serverTest(
  "SIGKILL during a transactional migration leaves nothing of it; a rerun finishes",
  async (db) => {
    await setSleep(db, 30);
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": `CREATE TABLE b (id int);\n${SLEEP}`,
    }, async (dir) => {
      const child = spawnCli(["--dir", dir, "upgrade"], { env: env(db) });
      await waitForSleep(db);
      child.kill("SIGKILL");
      await child.output();
      assert.ok(!(await exists(db, "b")));
      assert.deepEqual(await versions(db), ["1"]);
      await waitFor(
        "the server to free the dead session's lock",
        () => migrationLockFree(db, TABLE),
      );
      await setSleep(db, 0);
      const rerun = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(await versions(db), ["1", "2"]);
    });
  },
);

serverTest(
  "SIGKILL during a non-transactional migration: interrupted, exit 4, stamp resolves",
  async (db) => {
    await setSleep(db, 30);
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_nt.up.sql":
        `-- transaction: false\nCREATE TABLE b (id int);\n${SLEEP}\nCREATE TABLE c (id int);`,
      "3_d.up.sql": "CREATE TABLE d (id int);",
    }, async (dir) => {
      const child = spawnCli(["--dir", dir, "upgrade"], { env: env(db) });
      await waitForSleep(db);
      child.kill("SIGKILL");
      await child.output();
      const [row] = await db
        .sql`SELECT state, statement_index FROM strata_migrations WHERE version = 2`;
      assert.deepEqual({ ...row }, { state: "started", statement_index: 1 });
      assert.ok(await exists(db, "b"));
      assert.ok(!(await exists(db, "c")));
      await waitFor("the lock to be freed", () => migrationLockFree(db, TABLE));
      const refused = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
      assert.equal(refused.code, 4);
      assert.match(
        refused.stderr,
        /INTERRUPTED_MIGRATION[\s\S]*"2_nt.up.sql" was interrupted while being applied, at statement 2 of its up file/,
      );
      assert.match(refused.stderr, /strata stamp 2/);
      await db.sql`CREATE TABLE c (id int)`;
      const stamp = await runCli(["--dir", dir, "stamp", "2"], { env: env(db) });
      assert.equal(stamp.code, 0, stamp.stderr);
      assert.match(stamp.stdout, /^~ {2}2 {2}nt {2}\(interrupted -> applied; no SQL run\)$/m);
      const rerun = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(await versions(db), ["1", "2", "3"]);
    });
  },
);

serverTest(
  "pg_terminate_backend mid-migration: clear error, non-zero exit, nothing half-applied",
  async (db) => {
    await setSleep(db, 30);
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": `CREATE TABLE b (id int);\n${SLEEP}`,
    }, async (dir) => {
      const child = spawnCli(["--dir", dir, "upgrade"], { env: env(db) });
      const pid = await waitForSleep(db);
      await db.sql`SELECT pg_terminate_backend(${pid})`;
      const r = await finishCli(child);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /terminating connection due to administrator command/);
      assert.match(r.stderr, /2_b.up.sql/);
      assert.ok(!(await exists(db, "b")));
      assert.deepEqual(await versions(db), ["1"]);
    });
  },
);

serverTest(
  "SIGTERM during a transactional migration: exit 143, rolled back, lock released",
  async (db) => {
    await setSleep(db, 30);
    await withDir({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "2_b.up.sql": `CREATE TABLE b (id int);\n${SLEEP}`,
    }, async (dir) => {
      const child = spawnCli(["--dir", dir, "upgrade"], { env: env(db) });
      await waitForSleep(db);
      child.kill("SIGTERM");
      const r = await finishCli(child);
      assert.equal(r.code, 143, r.stderr);
      assert.match(r.stderr, /INTERRUPTED_BY_SIGTERM.*"2_b.up.sql"/);
      assert.ok(!(await exists(db, "b")));
      assert.deepEqual(await versions(db), ["1"]);
      // strata unlocks before it exits; allow the server a moment in case a late cancel
      // request hit the unlock and the lock went with the session instead.
      await waitFor("the lock to be free", () => migrationLockFree(db, TABLE));
      await setSleep(db, 0);
      const next = await runCli(["--dir", dir, "--lock-wait", "1s", "upgrade"], { env: env(db) });
      assert.equal(next.code, 0, next.stderr);
    });
  },
);

serverTest("SIGINT while waiting for the lock exits 130 and changes nothing", async (db) => {
  const key = await lockKey(TABLE);
  const holder = postgres(db.url, { max: 1 });
  try {
    await holder`SELECT pg_advisory_lock(${String(key)})`;
    const cli = watchCli(["--dir", EXAMPLES, "upgrade"], { env: env(db) });
    // Its signal handlers are in place once it says it waits for the lock.
    await cli.waitForStderr(/Waiting for the migration lock/);
    cli.child.kill("SIGINT");
    const r = await cli.finish();
    assert.equal(r.code, 130, r.stderr);
    assert.ok(!(await exists(db, "strata_migrations")));
  } finally {
    await holder.end();
  }
});

serverTest(
  "transaction: false runs CREATE INDEX CONCURRENTLY and a $$ body statement by statement",
  async (db) => {
    const body = "-- transaction: false\n" +
      "CREATE INDEX CONCURRENTLY t_a ON t (a);\n" +
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\n" +
      "CREATE INDEX CONCURRENTLY t_b ON t (b);\n" +
      "CREATE INDEX CONCURRENTLY t_ab ON t (a, b);\n";
    await withDir({
      "1_t.up.sql": "CREATE TABLE t (a int, b int);",
      "2_idx.up.sql": body,
      "2_idx.down.sql":
        "DROP INDEX CONCURRENTLY t_ab;\nDROP INDEX CONCURRENTLY t_b;\nDROP INDEX CONCURRENTLY t_a;\n" +
        "-- (no header needed: these all must run outside a transaction anyway)",
    }, async (dir) => {
      const r = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
      assert.equal(r.code, 0, r.stderr);
      const idx = await db
        .sql`SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname LIKE 't\\_%' ORDER BY 1`;
      assert.deepEqual(idx.map((x) => [x.relname, x.indisvalid]), [["t_a", true], ["t_ab", true], [
        "t_b",
        true,
      ]]);
      assert.deepEqual(await versions(db), ["1", "2"]);
      const [row] = await db
        .sql`SELECT state, statement_index FROM strata_migrations WHERE version = 2`;
      assert.deepEqual({ ...row }, { state: "applied", statement_index: null });
      const down = await runCli(["--dir", dir, "downgrade", "-1"], { env: env(db) });
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(await versions(db), ["1"]);
    });
    await withDir(
      { "1_mixed.up.sql": body.replace("-- transaction: false\n", "") },
      async (dir) => {
        const r = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
        assert.equal(r.code, 2);
        assert.match(
          r.stderr,
          /RUN_MODE_REFUSED.*"1_mixed.up.sql" line 1: "CREATE INDEX CONCURRENTLY"/,
        );
      },
    );
    await withDir({ "1_true.up.sql": body.replace("false", "true") }, async (dir) => {
      const r = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /conflicts with "transaction: true"/);
    });
    await withDir({
      "1_a.up.sql": "CREATE TABLE u (a int);",
      "2_b.up.sql": "CREATE INDEX CONCURRENTLY u_a ON u (a);",
    }, async (dir) => {
      const args = ["--dir", dir, "--table", "other_versions", "upgrade", "--single-transaction"];
      const r = await runCli(args, { env: env(db) });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--single-transaction: "2_b.up.sql" must run outside a transaction/);
      assert.ok(!(await exists(db, "u")));
    });
  },
);

serverTest(
  "a lock-timeout failure is retried until the lock is free; with 0 retries it fails at once",
  async (db) => {
    await db.sql`CREATE TABLE busy (id int)`;
    await withDir({
      "1_alter.up.sql": "-- lock-timeout: 200ms\nALTER TABLE busy ADD COLUMN x int;",
    }, async (dir) => {
      const holder = postgres(db.url, { max: 1 });
      let release = () => {};
      const released = new Promise<void>((r) => release = r);
      try {
        // Another session holds the table until this test lets go: after strata has retried.
        const hold = holder.begin(async (tx) => {
          await tx`LOCK TABLE busy IN ACCESS EXCLUSIVE MODE`;
          await released;
        });
        await waitFor(
          "the other session to hold the table",
          async () =>
            (await db.sql`SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE c.relname = 'busy' AND l.mode = 'AccessExclusiveLock' AND l.granted
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
              .length > 0,
        );
        const none = await runCli(["--dir", dir, "upgrade", "--lock-retries", "0"], {
          env: env(db),
        });
        assert.equal(none.code, 1);
        assert.match(none.stderr, /canceling statement due to lock timeout[\s\S]*SQLSTATE 55P03/);
        assert.ok(!/retry/.test(none.stderr));
        const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM information_schema.columns
        WHERE table_name = 'busy' AND column_name = 'x'`;
        assert.equal(n, 0);
        const retried = await runCli(["--dir", dir, "upgrade", "--lock-retries", "1000"], {
          env: env(db),
          onStderr: (text) => {
            if (/retry 2 of 1000/.test(text)) release();
          },
        });
        await hold;
        assert.equal(retried.code, 0, retried.stderr);
        // The order of events: it timed out, rolled back and retried, then went through.
        assert.match(
          retried.stderr,
          /lock timeout in "1_alter.up.sql" \(SQLSTATE 55P03\): rolled back; retry 1 of 1000[\s\S]*retry 2 of 1000/,
        );
        assert.deepEqual(await versions(db), ["1"]);
      } finally {
        release();
        await holder.end();
      }
    });
  },
);

serverTest("--single-transaction applies all or nothing", async (db) => {
  await withDir({
    "1_a.up.sql": "-- lock-timeout: 1s\nCREATE TABLE a (id int);",
    "2_b.up.sql": "CREATE TABLE b (id int);",
    "3_c.up.sql": "CREATE TABLE c (id int);\nSELECT 1/0;",
  }, async (dir) => {
    const r = await runCli(["--dir", dir, "upgrade", "--single-transaction"], { env: env(db) });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /division by zero[\s\S]*single transaction was rolled back: nothing was applied/,
    );
    assert.ok(!(await exists(db, "a")));
    assert.deepEqual(await versions(db), []);
    const ok = await runCli(["--dir", dir, "upgrade", "2", "--single-transaction"], {
      env: env(db),
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^up {4}2 {2}b \.+ in the transaction$/m);
    assert.deepEqual(await versions(db), ["1", "2"]);
  });
  await withDir({
    "1_a.up.sql": "CREATE TABLE sa (id int);",
    "2_b.up.sql": "-- b\nCREATE TABLE sb (id int);\nSELECT 'é', nope FROM sa;",
  }, async (dir) => {
    const args = ["--dir", dir, "--table", "batch_versions", "upgrade", "--single-transaction"];
    const r = await runCli(args, { env: env(db) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`at ${dir}/2_b.up.sql:3:13\\n`));
    assert.ok(!(await exists(db, "sa")));
  });
});

serverTest(
  "a lock held by another session: strata waits, then exits 3 naming the holder",
  async (db) => {
    const key = await lockKey(TABLE);
    const holder = postgres(db.url, { max: 1, connection: { application_name: "psql-by-hand" } });
    try {
      await holder`SELECT pg_advisory_lock(${String(key)})`;
      const r = await runCli(["--dir", EXAMPLES, "--lock-wait", "1s", "upgrade"], { env: env(db) });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /Waiting for the migration lock/);
      assert.match(r.stderr, /LOCK_TIMEOUT[\s\S]*held by pid \d+, application_name "psql-by-hand"/);
      assert.ok(!(await exists(db, "strata_migrations")));
    } finally {
      await holder.end();
    }
  },
);

serverTest(
  "no deadlock: a second strata waits while the first builds an index CONCURRENTLY",
  async (db) => {
    await withDir({
      "1_big.up.sql": "CREATE TABLE big AS SELECT g AS a FROM generate_series(1, 50000) g;",
      "2_idx.up.sql":
        "-- transaction: false\nSELECT pg_sleep(1);\nCREATE INDEX CONCURRENTLY big_a ON big (a);",
    }, async (dir) => {
      assert.equal((await runCli(["--dir", dir, "upgrade", "1"], { env: env(db) })).code, 0);
      const first = spawnCli(["--dir", dir, "upgrade"], { env: env(db) });
      await waitForSleep(db);
      const second = spawnCli(["--dir", dir, "--lock-wait", "30s", "upgrade"], { env: env(db) });
      const [a, b] = await Promise.all([finishCli(first), finishCli(second)]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /Nothing to do: the database is at 2/);
      const [{ valid }] = await db.sql`SELECT i.indisvalid AS valid FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'big_a'`;
      assert.equal(valid, true);
    });
  },
);

serverTest("a deleted applied file is refused with exit 4; --allow-drift proceeds", async (db) => {
  await withDir({
    "1_a.up.sql": "CREATE TABLE a (id int);",
    "2_b.up.sql": "CREATE TABLE b (id int);",
  }, async (dir) => {
    assert.equal((await runCli(["--dir", dir, "upgrade", "1"], { env: env(db) })).code, 0);
    await Deno.remove(`${dir}/1_a.up.sql`);
    const r = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /DRIFT[\s\S]*version 1 \(a\) is applied but its file is gone/);
    assert.ok(!(await exists(db, "b")));
    assert.equal(
      (await runCli(["--dir", dir, "upgrade", "--allow-drift"], { env: env(db) })).code,
      0,
    );
    assert.ok(await exists(db, "b"));
  });
});

serverTest(
  "a syntax error on line 17, column 5 is reported as file:17:5 with the line",
  async (db) => {
    const lines = Array.from({ length: 16 }, (_, i) => `-- line ${i + 1}`);
    await withDir(
      { "1_x.up.sql": [...lines, "    CRATE TABLE x (id int);", ""].join("\n") },
      async (dir) => {
        const r = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`at ${dir}/1_x.up.sql:17:5\\n`));
        assert.match(r.stderr, /17 \| {5}CRATE TABLE x \(id int\);\n\s+\| {5}\^/);
      },
    );
  },
);

serverTest(
  "an error in a non-transactional statement maps to its line and marks the row",
  async (db) => {
    await withDir({
      "1_nt.up.sql": "-- transaction: false\nCREATE TABLE p (id int);\n\nSELECT 1, nope FROM p;\n",
    }, async (dir) => {
      const r = await runCli(["--dir", dir, "upgrade"], { env: env(db) });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /column "nope" does not exist/);
      assert.match(r.stderr, new RegExp(`${dir}/1_nt.up.sql:4:11\\n`));
      assert.match(r.stderr, /statement 1 of 2 was applied and remains; statement 2 failed/);
      assert.match(r.stderr, /marked interrupted/);
      const [row] = await db.sql`SELECT state, statement_index FROM strata_migrations`;
      assert.deepEqual({ ...row }, { state: "started", statement_index: 1 });
    });
  },
);

serverTest("--wait retries a refused connection until the timeout, then exits 3", async () => {
  const started = Date.now();
  const r = await runCli(["--dir", EXAMPLES, "--wait-timeout", "3s", "current"], {
    env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/x" },
  });
  assert.equal(r.code, 3);
  // The order of events: attempts are announced, then the last failure is the error.
  assert.match(
    r.stderr,
    /^Waiting for the database \(attempt 1\)[\s\S]*\(attempt 2\)[\s\S]*CONNECTION_FAILED.*connection refused/,
  );
  assert.ok(Date.now() - started >= 2000, "it kept trying for most of the 3 s");
});
