/**
 * examples/deploy.sh: SIGTERM sent to the script reaches strata (which
 * cancels the statement, logs it and rolls back; the lock is free after),
 * and the script's message says what the next run will do.
 */

import assert from "node:assert/strict";
import {
  cleanEnv,
  finishCli,
  migrationLockFree,
  runCli,
  serverTest,
  STRATA_COMMAND,
  tempMigrations,
  type TestDb,
  waitFor,
} from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const STRATA = STRATA_COMMAND.join(" ");

function startDeploy(db: TestDb, dir: string): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: [`${ROOT}examples/deploy.sh`],
    clearEnv: true,
    env: cleanEnv({ DATABASE_URL: db.url, STRATA: `${STRATA} --dir ${dir}` }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function sleeping(db: TestDb): Promise<boolean> {
  const rows = await db.sql`SELECT 1 FROM pg_stat_activity
    WHERE datname = ${db.name} AND query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()`;
  return rows.length > 0;
}

async function stopDuringSleep(db: TestDb, dir: string) {
  const child = startDeploy(db, dir);
  await waitFor("the migration to be running", () => sleeping(db));
  child.kill("SIGTERM");
  const r = await finishCli(child);
  // The statement has ended (the first test checks it was strata's cancel, by its log row)
  // and the lock is free: both are facts after the process ended, not proof of how.
  await waitFor("the statement to end", async () => !(await sleeping(db)));
  // Other tests take the same key in their own databases: ask about this one.
  await waitFor("strata's lock in this database to be released", () => migrationLockFree(db));
  return r;
}

serverTest(
  "deploy.sh forwards SIGTERM: strata cancels (its log row says 57014), rolls back, exit 143",
  async (db) => {
    const dir = await tempMigrations({
      "0001_slow.up.sql": "CREATE TABLE t (x int);\nSELECT pg_sleep(600);\n",
    });
    try {
      const r = await stopDuringSleep(db, dir);
      assert.equal(r.code, 143, r.stdout + r.stderr);
      assert.match(r.stderr, /Received SIGTERM/, "strata itself received the signal");
      assert.match(r.stderr, /interrupted: strata cancelled the running statement/);
      assert.match(r.stderr, /the next run applies it again/);
      assert.doesNotMatch(r.stdout, /deploying/);
      const [{ t }] = await db.sql`SELECT to_regclass('public.t') AS t`;
      assert.equal(t, null, "the transactional migration was rolled back");
      // strata's own cancel, not a dropped connection (the server's connection check would end
      // the statement too, and write no row): strata logged the cancelled statement.
      const log = await db.sql`SELECT outcome, detail FROM strata_migrations_log`;
      assert.deepEqual(
        log.map((r) => [r.outcome, r.detail]),
        [["failed", "57014 canceling statement due to user request"]],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "deploy.sh after SIGTERM in a statement-by-statement file: the next run stops with exit 4",
  async (db) => {
    const dir = await tempMigrations({
      "0001_slow.up.sql": "-- transaction: false\nCREATE TABLE t (x int);\nSELECT pg_sleep(600);\n",
    });
    try {
      const r = await stopDuringSleep(db, dir);
      assert.equal(r.code, 143, r.stdout + r.stderr);
      assert.match(r.stderr, /stays marked interrupted: the next\s+run stops with exit 4/);
      const next = await runCli(["--dir", dir, "upgrade"], { env: { DATABASE_URL: db.url } });
      assert.equal(next.code, 4, next.stderr);
      assert.match(next.stderr, /INTERRUPTED_MIGRATION/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
