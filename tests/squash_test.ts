/**
 * `strata squash`: a baseline proven equal to the chain it replaces, written
 * only then; databases migrated before the squash keep working.
 */

import assert from "node:assert/strict";
import { cleanDump, resolveBaseline } from "../lib/core/baseline.ts";
import { loadMigrations } from "../lib/core/files.ts";
import type { AppliedRow } from "../lib/core/types.ts";
import { dumpConninfo } from "../lib/db/dump.ts";
import { runCli, serverTest, serverUrl, type TestDb, withTestDb } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;

async function copyExamples(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "strata_test_squash_" });
  for (const e of Deno.readDirSync(EXAMPLES)) {
    await Deno.copyFile(`${EXAMPLES}${e.name}`, `${dir}/${e.name}`);
  }
  return dir;
}

function cli(dir: string, db: TestDb | null, args: string[]) {
  return runCli(["--dir", dir, ...args], db ? { env: { DATABASE_URL: db.url } } : {});
}

async function dumpOf(db: TestDb): Promise<string> {
  const out = await new Deno.Command("pg_dump", {
    args: ["--no-owner", "--schema-only", "--exclude-table=public.strata_migrations*", db.url],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).replace(/^\\(un)?restrict .*$/gm, "");
}

for (const scratch of ["embedded", "server"] as const) {
  serverTest(`squash writes a baseline equal to the chain it replaces (${scratch})`, async (a) => {
    const dir = await copyExamples();
    try {
      const extra = scratch === "server" ? ["--scratch-url", serverUrl()] : [];
      const dry = await cli(dir, null, ["squash", "--through", "0004", "--dry-run", ...extra]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(
        dry.stdout,
        /^-- message: baseline of 0001 to 0004 \(squashed\)\n-- baseline: true\n/,
      );
      assert.equal([...Deno.readDirSync(dir)].length, 10, "a dry run writes nothing");
      const r = await cli(dir, null, ["squash", "--through", "0004", ...extra]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Wrote 0004_baseline\.up\.sql: one baseline for 4 migrations/);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(names, [
        "0004_baseline.up.sql",
        "0005_archive_projects.down.sql",
        "0005_archive_projects.up.sql",
        "squashed",
      ]);
      assert.equal([...Deno.readDirSync(`${dir}/squashed`)].length, 8);
      const validate = await cli(dir, null, ["validate"]);
      assert.equal(validate.code, 0, validate.stdout);
      await withTestDb(async (b) => {
        assert.equal((await cli(EXAMPLES, a, ["upgrade"])).code, 0);
        const fresh = await cli(dir, b, ["upgrade"]);
        assert.equal(fresh.code, 0, fresh.stderr);
        assert.match(fresh.stdout, /^up {4}0004 {2}baseline of 0001 to 0004/m);
        assert.equal(await dumpOf(b), await dumpOf(a));
        // The rows are the same, except for the times they were written.
        const counts = async (t: TestDb) =>
          await t.sql`SELECT (SELECT count(*) FROM projects)::int AS p,
            (SELECT count(*) FROM audit_log)::int AS a,
            (SELECT string_agg(name, ',' ORDER BY name) FROM projects) AS names`;
        assert.deepEqual(await counts(b), await counts(a));
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

serverTest("a database migrated before the squash upgrades cleanly after it", async (db) => {
  const dir = await copyExamples();
  try {
    assert.equal((await cli(EXAMPLES, db, ["upgrade"])).code, 0);
    assert.equal((await cli(dir, null, ["squash", "--through", "0004"])).code, 0);
    const status = await cli(dir, db, ["status", "--exit-code"]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const up = await cli(dir, db, ["upgrade"]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Nothing to do: the database is at 0005/);
    const rows = await db.sql`SELECT version::int AS v, name FROM strata_migrations ORDER BY 1`;
    assert.deepEqual(rows.map((r) => [r.v, r.name]), [[4, "baseline"], [5, "archive_projects"]]);
    const log = await db.sql`SELECT count(*)::int AS n FROM strata_migrations_log
      WHERE direction = 'stamp' AND detail LIKE 'replaced by the baseline%'`;
    assert.equal(log[0].n, 4);
    assert.equal((await cli(dir, db, ["downgrade", "-1"])).code, 0);
    assert.equal((await cli(dir, db, ["upgrade"])).code, 0);
    assert.equal((await cli(dir, db, ["drift"])).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest(
  "after a squash every command reads the database through the baseline; an edited one is drift",
  async (db) => {
    const dir = await copyExamples();
    try {
      assert.equal((await cli(EXAMPLES, db, ["upgrade"])).code, 0);
      assert.equal((await cli(dir, null, ["squash", "--through", "0004"])).code, 0);
      const before = await db.sql`SELECT * FROM strata_migrations ORDER BY version`;
      const repair = await cli(dir, db, ["repair", "0004"]);
      assert.equal(repair.code, 0, repair.stderr);
      assert.match(repair.stdout, /= {2}0004 .*unchanged: its file matches the record/);
      assert.deepEqual(
        await db.sql`SELECT * FROM strata_migrations ORDER BY version`,
        before,
        "repair wrote nothing: the baseline stands for the rows it replaced",
      );
      const linted = await cli(dir, db, ["upgrade", "--lint"]);
      assert.equal(linted.code, 0, linted.stderr);
      assert.match(linted.stdout, /Nothing to do: the database is at 0005/);
      const rows = await db.sql`SELECT version::int AS v, name FROM strata_migrations ORDER BY 1`;
      assert.deepEqual(rows.map((r) => [r.v, r.name]), [[4, "baseline"], [5, "archive_projects"]]);
      await Deno.writeTextFile(`${dir}/0004_baseline.up.sql`, "SELECT 1;\n", { append: true });
      const recorded = await db.sql`SELECT * FROM strata_migrations ORDER BY version`;
      const edited = await cli(dir, db, ["upgrade"]);
      assert.equal(edited.code, 4, edited.stderr);
      assert.match(
        edited.stderr,
        /DRIFT.*"0004_baseline\.up\.sql" was edited after it was applied/s,
      );
      assert.deepEqual(await db.sql`SELECT * FROM strata_migrations ORDER BY version`, recorded);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest("a database below the baseline is refused, naming what it lacks", async (db) => {
  const dir = await copyExamples();
  try {
    assert.equal((await cli(EXAMPLES, db, ["upgrade", "0002"])).code, 0);
    assert.equal((await cli(dir, null, ["squash", "--through", "0004"])).code, 0);
    const before = await db.sql`SELECT * FROM strata_migrations ORDER BY version`;
    const r = await cli(dir, db, ["upgrade"]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /DRIFT.*"0004_baseline\.up\.sql": this database is at version 2/);
    assert.deepEqual(await db.sql`SELECT * FROM strata_migrations ORDER BY version`, before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest(
  "squash's pg_dump reaches the scratch server whatever PG* variables say",
  async (_db) => {
    const dir = await Deno.makeTempDir({ prefix: "strata_test_squash_" });
    try {
      await Deno.writeTextFile(`${dir}/0001_t.up.sql`, "CREATE TABLE t (id int);");
      await Deno.writeTextFile(`${dir}/0002_u.up.sql`, "CREATE TABLE u (id int);");
      // A subprocess: pg_dump inherits the process environment, which these would steer.
      const r = await runCli([
        "--dir",
        dir,
        "squash",
        "--through",
        "0002",
        "--scratch-url",
        serverUrl(),
      ], {
        cwd: dir,
        env: { PGSERVICE: "strata_test_nosuch", PGHOST: "/nonexistent", PGDATABASE: "nosuch" },
      });
      assert.equal(r.code, 0, r.stderr);
      const baseline = await Deno.readTextFile(`${dir}/0002_baseline.up.sql`);
      assert.match(baseline, /-- Made by strata squash with pg_dump \d+\.\d+/);
      assert.match(baseline, /CREATE TABLE public\.u/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "squash without a working pg_dump: TOOL_FAILED (exit 3) with pg_dump's words, and writes nothing",
  async (_db) => {
    const dir = await Deno.makeTempDir({ prefix: "strata_test_squash_" });
    const bin = await Deno.makeTempDir({ prefix: "strata_test_bin_" });
    try {
      await Deno.writeTextFile(`${dir}/0001_t.up.sql`, "CREATE TABLE t (id int);");
      await Deno.writeTextFile(`${dir}/0002_u.up.sql`, "CREATE TABLE u (id int);");
      await Deno.writeTextFile(
        `${bin}/pg_dump`,
        "#!/bin/sh\necho 'pg_dump: error: planted failure' >&2\nexit 1\n",
      );
      await Deno.chmod(`${bin}/pg_dump`, 0o755);
      const before = treeOf(dir);
      const squash = (path: string) =>
        runCli(["--dir", dir, "squash", "--through", "0002", "--scratch-url", serverUrl()], {
          cwd: dir,
          env: { PATH: path },
        });
      const failing = await squash(`${bin}:${Deno.env.get("PATH") ?? ""}`);
      assert.equal(failing.code, 3, failing.stderr);
      assert.equal(failing.stdout, "");
      assert.match(
        failing.stderr,
        /^error\[TOOL_FAILED\]: Cannot dump the scratch database: pg_dump failed\n/,
      );
      assert.match(failing.stderr, /pg_dump: error: planted failure/);
      assert.match(failing.stderr, /hint: pg_dump must be of the server's major version or newer/);
      assert.deepEqual(treeOf(dir), before, "nothing written or moved");

      const missing = await squash(bin.replace(/$/, "/nothing-here"));
      assert.equal(missing.code, 3, missing.stderr);
      assert.match(missing.stderr, /^error\[TOOL_FAILED\]: Cannot run pg_dump: /);
      assert.match(missing.stderr, /hint: Install PostgreSQL's client programs/);
      assert.deepEqual(treeOf(dir), before, "nothing written or moved");
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(bin, { recursive: true });
    }
  },
);

Deno.test("dumpConninfo() quotes every value as libpq reads it and leaves the password out", () => {
  const conninfo = dumpConninfo({
    host: "db.example",
    port: 6432,
    user: "o'brien",
    password: "s3cret",
    database: "a\\b",
    sslmode: "verify-full",
    sslRootCert: "/etc/ca.pem",
    options: "-c search_path=app",
    connectTimeoutSeconds: 10,
    display: "x",
  });
  assert.equal(
    conninfo,
    "host='db.example' port='6432' user='o\\'brien' dbname='a\\\\b' sslmode='verify-full' " +
      "sslrootcert='/etc/ca.pem' options='-c search_path=app' application_name='strata' " +
      "connect_timeout='10'",
  );
  assert.ok(!conninfo.includes("s3cret"));
});

Deno.test("squash refuses a baseline that would differ, and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_test_squash_" });
  try {
    await Deno.writeTextFile(`${dir}/0001_t.up.sql`, "CREATE TABLE t (id int);");
    await Deno.writeTextFile(
      `${dir}/0002_setting.up.sql`,
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', " +
        "current_database(), '8MB'); END $$;",
    );
    const r = await runCli(["--dir", dir, "squash", "--through", "0002"]);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stderr, /SQUASH_MISMATCH.*would not give the same database/);
    assert.match(r.stderr, /database setting work_mem \(8MB\) is missing/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "0001_t.up.sql",
      "0002_setting.up.sql",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cleanDump() keeps SQL strata can run and drops psql's and the dumper's settings", () => {
  const dump =
    "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\nSET statement_timeout = 0;\n" +
    "SET transaction_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n" +
    "SET check_function_bodies = false;\n\nCREATE TABLE public.t (id integer);\n\n\\unrestrict abc\n";
  assert.equal(
    cleanDump(dump),
    "SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n" +
      "\nCREATE TABLE public.t (id integer);\n",
  );
});

Deno.test("resolveBaseline() reads the squashed versions' rows as the baseline's", async () => {
  const enc = new TextEncoder();
  const { migrations } = await loadMigrations([
    { name: "0004_baseline.up.sql", bytes: enc.encode("-- baseline: true\nSELECT 1;") },
    { name: "0005_next.up.sql", bytes: enc.encode("SELECT 2;") },
  ]);
  const row = (v: bigint, order: number): AppliedRow => ({
    version: v,
    name: `m${v}`,
    checksum: "t1:sha256:00",
    state: "applied",
    statementIndex: null,
    appliedOrder: order,
    appliedAt: new Date(0),
    executionMs: null,
    appliedBy: "me",
    strataVersion: "0",
    fileHash: null,
  });
  const view = resolveBaseline(migrations, [row(1n, 1), row(3n, 2), row(4n, 3), row(5n, 4)]);
  assert.deepEqual(view.rows.map((r) => [r.version, r.checksum === migrations[0].checksum]), [
    [4n, true],
    [5n, false],
  ]);
  assert.deepEqual(view.replaced.map((r) => r.version), [1n, 3n, 4n]);
  assert.deepEqual(resolveBaseline(migrations, view.rows).replaced, [], "recorded: nothing to do");
  assert.throws(() => resolveBaseline(migrations, [row(1n, 1), row(3n, 2)]), /below the baseline/);
});

/** Every file under `dir`, with its text: to show that a refused squash changed nothing. */
function treeOf(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(`${dir}${prefix}`)].flatMap((e) =>
    e.isDirectory
      ? treeOf(dir, `${prefix}/${e.name}`)
      : [`${prefix}/${e.name}: ${Deno.readTextFileSync(`${dir}${prefix}/${e.name}`)}`]
  ).sort();
}

Deno.test("squash refuses a missing or non-numeric --through with USAGE, and writes nothing", async () => {
  const dir = await copyExamples();
  try {
    const before = treeOf(dir);
    for (const [args, got] of [[[], ""], [["--through", "0004a"], "0004a"]] as const) {
      const r = await cli(dir, null, ["squash", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        `error[USAGE]: Cannot squash: --through needs a version, got "${got}"\n` +
          "hint: Say which migrations to squash, e.g. strata squash --through 0042\n",
      );
    }
    assert.deepEqual(treeOf(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("squash refuses a version that no migration has with UNKNOWN_TARGET", async () => {
  const dir = await copyExamples();
  try {
    const before = treeOf(dir);
    const r = await cli(dir, null, ["--json", "squash", "--through", "9"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    const error = JSON.parse(r.stderr);
    assert.equal(error.code, "UNKNOWN_TARGET");
    assert.equal(error.exit, 2);
    assert.equal(error.message, "Cannot squash through 9: no such version");
    assert.equal(error.hint, "Known versions: 0001, 0002, 0003, 0004, 0005");
    assert.deepEqual(treeOf(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("squash refuses to overwrite a file already in squashed/ with FILE_EXISTS", async () => {
  const dir = await copyExamples();
  try {
    await Deno.mkdir(`${dir}/squashed`);
    await Deno.writeTextFile(`${dir}/squashed/0002_create_survey_points.down.sql`, "-- older\n");
    const before = treeOf(dir);
    const r = await cli(dir, null, ["squash", "--through", "0004"]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^error\[FILE_EXISTS\]: Cannot squash: "squashed\/0002_create_survey_points\.down\.sql" already exists\n/,
    );
    assert.match(r.stderr, /move it away first; nothing was changed/);
    assert.deepEqual(treeOf(dir), before, "no baseline, no move, no temporary file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
