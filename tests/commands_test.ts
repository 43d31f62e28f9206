import assert from "node:assert/strict";
import { parseEnvFile } from "../lib/core/config.ts";
import { nextVersion, slugify } from "../lib/core/new_version.ts";
import { formatProgress } from "../lib/core/output.ts";
import { runCli, serverTest, tempMigrations } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;

Deno.test("slugify() keeps ASCII letters and digits joined by _", () => {
  assert.equal(slugify("Add users table!"), "add_users_table");
  assert.equal(slugify("  Ünïcode café "), "unicode_cafe");
  assert.equal(slugify("!!!"), "");
  assert.equal(slugify("😀"), "");
});

Deno.test("nextVersion() follows the width in use, 0001 when empty, or a UTC timestamp", () => {
  assert.deepEqual(nextVersion([]), { version: "0001" });
  assert.deepEqual(nextVersion(["0009_a.up.sql", "0009_a.down.sql", "README.md"]), {
    version: "0010",
    previous: "0009",
  });
  assert.deepEqual(nextVersion(["7_a.up.sql", "10_b.up.sql"]), { version: "11", previous: "10" });
  assert.deepEqual(
    nextVersion(["0001_a.up.sql"], { timestamp: new Date("2026-11-22T10:30:00Z") }),
    {
      version: "20261122103000",
      previous: "0001",
    },
  );
  assert.throws(
    () => nextVersion(["30000000000000_a.up.sql"], { timestamp: new Date("2026-11-22T10:30:00Z") }),
    /not after/,
  );
});

Deno.test("parseEnvFile() reads KEY=value, quotes, export and comments; only strata's keys", () => {
  const env = parseEnvFile(
    '# comment\nexport DATABASE_URL=\'postgres://a@b/c\'\nPGUSER="bob\\"s"\nSTRATA_DIR=db # note\nSECRET=x\n\n',
    ".env",
  );
  assert.deepEqual(env, { DATABASE_URL: "postgres://a@b/c", PGUSER: 'bob"s', STRATA_DIR: "db" });
  assert.throws(() => parseEnvFile("DATABASE_URL\n", ".env"), /".env" line 1: not KEY=value/);
});

Deno.test("formatProgress() counts steps and ends the line on the last", () => {
  assert.equal(formatProgress(0, 300, "0001"), "\r[1/300] 0001\x1b[K");
  assert.equal(formatProgress(299, 300, "0300"), "\r[300/300] 0300\n");
});

Deno.test("new creates the next pair with a header, numbering by the width in use", async () => {
  const dir = await tempMigrations({ "007_a.up.sql": "SELECT 1;" });
  try {
    const r = await runCli(["--dir", dir, "new", "Add users"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${dir}/008_add_users.up.sql\n${dir}/008_add_users.down.sql\n`);
    const up = await Deno.readTextFile(`${dir}/008_add_users.up.sql`);
    assert.match(
      up,
      /^-- message: Add users\n-- revises: 007\n-- created: \d{4}-\d\d-\d\dT[\d:]+Z\n\n$/,
    );
    const again = await runCli(["--dir", dir, "--json", "new", "add-users"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(Object.keys(JSON.parse(again.stdout)), ["version", "up", "down"]);
    const ts = await runCli(["--dir", dir, "new", "--timestamp", "later"]);
    assert.match(ts.stdout, /\/\d{14}_later\.up\.sql\n/);
    const valid = await runCli(["--dir", dir, "validate"]);
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("new refuses empty messages and unwritable directories; creates a missing one", async () => {
  const dir = await tempMigrations({ "0001_taken.up.sql": "" });
  try {
    const empty = await runCli(["--dir", dir, "new", "  "]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /USAGE.*the message is empty/);
    const slug = await runCli(["--dir", dir, "new", "!!!"]);
    assert.equal(slug.code, 2);
    assert.match(slug.stderr, /"!!!": it makes an empty name/);
    const fresh = `${dir}/nested/migrations`;
    const created = await runCli(["--dir", fresh, "new", "first"]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.split("\n")[0], `${fresh}/0001_first.up.sql`);
    const bad = await runCli(["--dir", "/proc/strata_cannot_write_here", "new", "x"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /DIR_NOT_WRITABLE.*"\/proc\/strata_cannot_write_here"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validate without a database lists every problem and warning, exit 2", async () => {
  const dir = await tempMigrations({
    "1_a.up.sql": "-- transactoin: false\nSELECT 1;",
    "2_b.up.sql": "SELECT 1;",
    "3_c.sql": "",
    "4_d.up.sql": "CREATE TABLE t (a int);\nVACUUM t;",
  });
  try {
    const r = await runCli(["--dir", dir, "validate"]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /problem\[HEADER_UNKNOWN_KEY\]/);
    assert.match(r.stdout, /problem\[BAD_FILE_NAME\].*3_c\.sql/);
    assert.match(r.stdout, /problem\[RUN_MODE_REFUSED\].*4_d\.up\.sql" line 2/);
    assert.match(r.stdout, /warning: "2_b.up.sql" has no down file/);
    assert.match(r.stdout, /no database configured: files only/);
    const j = JSON.parse((await runCli(["--dir", dir, "--json", "validate"])).stdout);
    assert.equal(j.problems.length, 3);
    assert.equal(j.database, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest(
  "validate with a database reports drift and order (exit 4); status --exit-code 5 and 4",
  async (db) => {
    const env = { DATABASE_URL: db.url };
    const dir = await tempMigrations({
      "1_a.up.sql": "CREATE TABLE a (id int);",
      "3_c.up.sql": "SELECT 1;",
    });
    try {
      assert.equal((await runCli(["--dir", dir, "validate"], { env })).code, 0);
      assert.equal((await runCli(["--dir", dir, "upgrade", "1"], { env })).code, 0);
      const pending = await runCli(["--dir", dir, "status", "--exit-code"], { env });
      assert.equal(pending.code, 5);
      assert.match(pending.stdout, /pending: {2}1 \(3\)/);
      assert.equal((await runCli(["--dir", dir, "status"], { env })).code, 0);
      assert.equal((await runCli(["--dir", dir, "upgrade"], { env })).code, 0);
      assert.equal((await runCli(["--dir", dir, "status", "--exit-code"], { env })).code, 0);
      await Deno.writeTextFile(`${dir}/2_b.up.sql`, "SELECT 2;");
      await Deno.writeTextFile(`${dir}/1_a.up.sql`, "CREATE TABLE a (id bigint);");
      const v = await runCli(["--dir", dir, "validate"], { env });
      assert.equal(v.code, 4);
      assert.match(v.stdout, /database: "1_a.up.sql" was edited after it was applied/);
      assert.match(v.stdout, /database: "2_b.up.sql" is pending below the current version/);
      const s = await runCli(["--dir", dir, "--json", "status", "--exit-code"], { env });
      assert.equal(s.code, 4);
      const j = JSON.parse(s.stdout);
      assert.deepEqual(Object.keys(j), ["current", "head", "applied", "pending", "problems"]);
      assert.deepEqual(j.problems.map((p: { kind: string }) => p.kind), ["drift", "out-of-order"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest("--json output of every command has a stable shape", async (db) => {
  const env = { DATABASE_URL: db.url };
  const json = async (args: string[]) => {
    const r = await runCli(["--dir", EXAMPLES, "--json", ...args], { env });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  };
  const up = await json(["upgrade", "2"]);
  assert.deepEqual(up.map((e) => e.event), ["plan", "step", "step", "done"]);
  assert.deepEqual(Object.keys(up[1]), [
    "event",
    "direction",
    "version",
    "name",
    "message",
    "file",
    "ms",
  ]);
  assert.deepEqual(Object.keys(up[3]), ["event", "direction", "count", "ms", "from", "to"]);
  const current = (await json(["current"]))[0];
  assert.deepEqual(Object.keys(current), ["version", "message", "head", "atHead"]);
  assert.equal(current.head, (await json(["status"]))[0].head);
  const hist = (await json(["history"]))[0];
  assert.equal(hist.migrations.length, 5);
  assert.deepEqual(Object.keys(hist.migrations[0]), [
    "version",
    "name",
    "message",
    "state",
    "file",
    "checksum",
    "appliedChecksum",
    "appliedAt",
    "appliedBy",
    "executionMs",
  ]);
  assert.deepEqual(Object.keys((await json(["status"]))[0]), [
    "current",
    "head",
    "applied",
    "pending",
    "problems",
  ]);
  assert.deepEqual(Object.keys((await json(["show", "1"]))[0]), [
    "version",
    "name",
    "message",
    "checksum",
    "up",
    "down",
    "applied",
  ]);
  assert.deepEqual(Object.keys((await json(["validate"]))[0]), [
    "migrations",
    "warnings",
    "problems",
    "database",
  ]);
  assert.deepEqual(Object.keys((await json(["stamp", "3"]))[0]), [
    "to",
    "added",
    "removed",
    "resolved",
  ]);
  const log = (await json(["log", "--limit", "2"]))[0];
  assert.equal(log.entries.length, 2);
  assert.deepEqual(Object.keys(log.entries[0]), [
    "id",
    "version",
    "name",
    "direction",
    "checksum",
    "at",
    "by",
    "execution_ms",
    "outcome",
    "detail",
  ]);
  assert.deepEqual(Object.keys((await json(["upgrade", "--dry-run"]))[0]), ["script"]);
  const err = await runCli(["--dir", EXAMPLES, "--json", "upgrade", "0042"], { env });
  assert.equal(err.code, 2);
  assert.deepEqual(Object.keys(JSON.parse(err.stderr)), [
    "event",
    "code",
    "exit",
    "message",
    "details",
    "hint",
    "file",
    "line",
    "column",
    "partial",
  ]);
});

serverTest("log lists the audit trail newest first; show includes when and by whom", async (db) => {
  const env = { DATABASE_URL: db.url };
  assert.equal(
    (await runCli(["--dir", EXAMPLES, "log"], { env })).stdout,
    "The log is empty: nothing was applied yet\n",
  );
  await runCli(["--dir", EXAMPLES, "upgrade", "2"], { env });
  await runCli(["--dir", EXAMPLES, "downgrade", "-1"], { env });
  const log = await runCli(["--dir", EXAMPLES, "log", "--limit", "2"], { env });
  const lines = log.stdout.trim().split("\n");
  assert.equal(lines.length, 2);
  assert.ok(lines[0].includes("down  0002  create_survey_points  ok"), lines[0]);
  assert.ok(lines[1].includes("up    0002  create_survey_points  ok"), lines[1]);
  const bad = await runCli(["--dir", EXAMPLES, "log", "--limit", "zero"], { env });
  assert.equal(bad.code, 2);
  const show = await runCli(["--dir", EXAMPLES, "show", "1"], { env });
  assert.match(show.stdout, /applied: {3}\d{4}-.* by postgres/);
  assert.match(show.stdout, /-- 0001_create_projects.down.sql\n-- message: drop projects/);
  const offline = await runCli(["--dir", EXAMPLES, "show", "1"]);
  assert.match(offline.stdout, /applied: {3}\(no database configured\)/);
});

serverTest(
  "--env-file and ./.env supply settings; the real environment and flags win",
  async (db) => {
    const cwd = await Deno.makeTempDir({ prefix: "strata_test_" });
    try {
      await Deno.writeTextFile(`${cwd}/.env`, `DATABASE_URL=${db.url}\nSTRATA_DIR=${EXAMPLES}\n`);
      const fromDotEnv = await runCli(["current"], { cwd });
      assert.equal(fromDotEnv.code, 0, fromDotEnv.stderr);
      assert.equal(fromDotEnv.stdout, "base (no migrations applied)\n");
      const envWins = await runCli(["current"], {
        cwd,
        env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/x" },
      });
      assert.equal(envWins.code, 3);
      await Deno.writeTextFile(
        `${cwd}/other.env`,
        "DATABASE_URL=postgres://postgres@127.0.0.1:1/x\n",
      );
      const flagWins = await runCli([
        "--env-file",
        "other.env",
        "--database-url",
        db.url,
        "--dir",
        EXAMPLES,
        "current",
      ], { cwd });
      assert.equal(flagWins.code, 0, flagWins.stderr);
      const fileUsed = await runCli(["--env-file", "other.env", "--dir", EXAMPLES, "current"], {
        cwd,
      });
      assert.equal(fileUsed.code, 3);
      const missing = await runCli(["--env-file", "nope.env", "current"], { cwd });
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--env-file "nope.env"/);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
);
