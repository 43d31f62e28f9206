/**
 * `import` refusals and adoption edge cases against real databases: every
 * refusal asserts its message and exit code and that neither the database
 * nor the migrations directory changed. Version tables are made with each
 * tool's documented DDL and realistic rows, dirty and failed ones included.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { type CliResult, runCli, schemaFingerprint, serverTest, type TestDb } from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/import/", import.meta.url).pathname;

async function copyProject(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "strata_import_" });
  const out = await new Deno.Command("cp", { args: ["-R", `${FIXTURES}${name}/.`, dir] }).output();
  assert.ok(out.success);
  return dir;
}

function cli(args: string[], cwd: string, db: TestDb): Promise<CliResult> {
  return runCli(args, { cwd, env: { DATABASE_URL: db.url } });
}

/** Convert a fixture project's files into `migrations/` (must succeed). */
async function imported(db: TestDb, project: string, tool: string): Promise<string> {
  const cwd = await copyProject(project);
  const r = await cli(["import", "--from", tool, "--source", "db/migrations"], cwd, db);
  assert.equal(r.code, 0, r.stderr);
  return cwd;
}

/** Everything a refusal must leave alone: the schema, every table's rows, the directory. */
async function snapshot(db: TestDb, cwd: string): Promise<string> {
  const tables = await db.sql`SELECT table_name::text AS t FROM information_schema.tables
                               WHERE table_schema = 'public' ORDER BY 1`;
  const rows: string[] = [];
  for (const { t } of tables) {
    rows.push(`${t}: ${JSON.stringify(await db.sql`SELECT * FROM ${db.sql(t)} ORDER BY 1`)}`);
  }
  const files: string[] = [];
  for await (const e of Deno.readDir(cwd)) files.push(e.name);
  const migrations: string[] = [];
  try {
    for (const e of Deno.readDirSync(`${cwd}/migrations`)) {
      migrations.push(`${e.name}=${Deno.readTextFileSync(`${cwd}/migrations/${e.name}`)}`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return [await schemaFingerprint(db.sql), ...rows, files.sort().join(","), ...migrations.sort()]
    .join("\n");
}

/** Run `args`, expect a refusal with `code` and `message`, and nothing changed. */
async function assertRefused(
  db: TestDb,
  cwd: string,
  args: string[],
  expect: { exit: number; code: string; message: RegExp },
): Promise<CliResult> {
  const before = await snapshot(db, cwd);
  const r = await cli(args, cwd, db);
  assert.equal(r.code, expect.exit, r.stdout + r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, new RegExp(`^error\\[${expect.code}\\]: `));
  assert.match(r.stderr, expect.message);
  assert.match(r.stderr, /nothing was (changed|written)/);
  assert.equal(await snapshot(db, cwd), before, "the database and the directory are unchanged");
  return r;
}

async function golangMigrateTable(db: TestDb, version: number, dirty: boolean): Promise<void> {
  await db.sql.unsafe(`CREATE TABLE IF NOT EXISTS schema_migrations
    (version bigint not null primary key, dirty boolean not null)`);
  await db.sql`INSERT INTO schema_migrations (version, dirty) VALUES (${version}, ${dirty})`;
}

serverTest("import refuses a goose Go migration, listing its version", async (db) => {
  const cwd = await copyProject("goose_go");
  try {
    await assertRefused(db, cwd, ["import", "--from", "goose", "--source", "db/migrations"], {
      exit: 2,
      code: "IMPORT_UNCONVERTIBLE",
      message: /version 00004: "00004_backfill_notes\.go" is a Go migration/,
    });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import refuses a branched Alembic history, naming the branch", async (db) => {
  const cwd = await copyProject("alembic_branched");
  try {
    await assertRefused(db, cwd, ["import", "--from", "alembic"], {
      exit: 2,
      code: "IMPORT_UNCONVERTIBLE",
      message: /the history branches at revision 2b3c4d5e6f7a into 3c4d5e6f7a8b and 4d5e6f7a8b9c/,
    });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import refuses a missing or unreadable --source, naming it", async (db) => {
  const cwd = await Deno.makeTempDir({ prefix: "strata_import_" });
  try {
    await Deno.writeTextFile(`${cwd}/afile`, "");
    const before = await snapshot(db, cwd);
    const missing = await cli(["import", "--from", "dbmate", "--source", "nope"], cwd, db);
    assert.equal(missing.code, 2, missing.stderr);
    assert.equal(missing.stdout, "");
    assert.match(
      missing.stderr,
      /^error\[DIR_NOT_FOUND\]: Cannot read "nope": not found\nhint: Point --source at/,
    );
    const file = await cli(["import", "--from", "goose", "--source", "afile"], cwd, db);
    assert.equal(file.code, 2, file.stderr);
    assert.equal(file.stdout, "");
    assert.match(file.stderr, /^error\[DIR_UNREADABLE\]: Cannot read "afile": not a directory\n/);
    assert.equal(await snapshot(db, cwd), before, "the database and the directory are unchanged");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import never writes into a directory that holds migrations", async (db) => {
  const cwd = await imported(db, "golang-migrate", "golang-migrate");
  try {
    await assertRefused(db, cwd, [
      "import",
      "--from",
      "golang-migrate",
      "--source",
      "db/migrations",
    ], { exit: 2, code: "FILE_EXISTS", message: /already holds 8 \.sql files/ });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt refuses a table of another format, naming its tool", async (db) => {
  const cwd = await imported(db, "golang-migrate", "golang-migrate");
  try {
    await golangMigrateTable(db, 2, false);
    const r = await assertRefused(db, cwd, ["import", "--from", "dbmate", "--adopt"], {
      exit: 4,
      code: "TABLE_FORMAT",
      message: /"public\.schema_migrations" as dbmate's table: its columns are \(version, dirty\)/,
    });
    assert.match(r.stderr, /It looks like golang-migrate's table: use --from golang-migrate/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt refuses an applied version without a file", async (db) => {
  const cwd = await imported(db, "golang-migrate", "golang-migrate");
  try {
    await golangMigrateTable(db, 7, false);
    await assertRefused(db, cwd, ["import", "--from", "golang-migrate", "--adopt"], {
      exit: 4,
      code: "ADOPT_MISMATCH",
      message: /applied in public\.schema_migrations but no file in the migrations directory: 7/,
    });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt refuses files never applied below the current version", async (db) => {
  const cwd = await copyProject("dbmate");
  try {
    const r = await cli(["import", "--from", "dbmate"], cwd, db);
    assert.equal(r.code, 0, r.stderr);
    await db.sql.unsafe("CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)");
    await db.sql`INSERT INTO schema_migrations VALUES ('20240101120000'), ('20240103100000')`;
    await assertRefused(db, cwd, ["import", "--from", "dbmate", "--adopt"], {
      exit: 4,
      code: "ADOPT_MISMATCH",
      message: /never applied by dbmate, below its current version: "20240102090000_index_users/,
    });
    const missing = await cli(["import", "--from", "goose", "--adopt"], cwd, db);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /ADOPT_MISMATCH.*no table "public\.goose_db_version"/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt records a dirty golang-migrate version as interrupted", async (db) => {
  const cwd = await imported(db, "golang-migrate", "golang-migrate");
  try {
    await golangMigrateTable(db, 3, true);
    const r = await cli(["import", "--from", "golang-migrate", "--adopt"], cwd, db);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /! {2}3 {2}split names {2}\(recorded as interrupted: .*dirty/);
    const rows = await db.sql`SELECT version::text, state FROM strata_migrations ORDER BY 1`;
    assert.deepEqual(rows.map((x) => `${x.version} ${x.state}`), [
      "1 applied",
      "2 applied",
      "3 started",
    ]);
    const up = await cli(["upgrade"], cwd, db);
    assert.equal(up.code, 4);
    assert.match(up.stderr, /INTERRUPTED_MIGRATION/);
    const stamp = await cli(["stamp", "3"], cwd, db);
    assert.equal(stamp.code, 0, stamp.stderr);
    const [gm] = await db.sql`SELECT version::int, dirty FROM schema_migrations`;
    assert.deepEqual({ ...gm }, { version: 3, dirty: true }, "golang-migrate's row is untouched");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt reads goose's newest row per version", async (db) => {
  const cwd = await imported(db, "goose", "goose");
  try {
    await db.sql.unsafe(`CREATE TABLE goose_db_version (
      id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL,
      tstamp timestamp NULL default now(), PRIMARY KEY(id))`);
    await db.sql`INSERT INTO goose_db_version (version_id, is_applied)
                 VALUES (0, true), (1, true), (2, true), (3, true), (3, false)`;
    const r = await cli(["import", "--from", "goose", "--adopt"], cwd, db);
    assert.equal(r.code, 0, r.stderr);
    const status = await cli(["status", "--json"], cwd, db);
    assert.deepEqual(JSON.parse(status.stdout).pending, ["00003"]);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt refuses a boolean column of another type, naming it", async (db) => {
  const cwd = await imported(db, "goose", "goose");
  try {
    await db.sql.unsafe(`CREATE TABLE goose_db_version (
      id serial NOT NULL, version_id bigint NOT NULL, is_applied smallint NOT NULL,
      tstamp timestamp NULL default now(), PRIMARY KEY(id))`);
    await db.sql`INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1)`;
    const r = await assertRefused(db, cwd, ["import", "--from", "goose", "--adopt"], {
      exit: 4,
      code: "TABLE_FORMAT",
      message: /Cannot adopt "public\.goose_db_version" as goose's table: its column "is_applied"/,
    });
    assert.match(r.stderr, /: its column "is_applied" is smallint, not boolean\n/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt --dry-run prints the SQL that adoption runs", async (db) => {
  const cwd = await copyProject("flyway");
  try {
    const r = await cli(["import", "--from", "flyway"], cwd, db);
    assert.equal(r.code, 0, r.stderr);
    await db.sql.unsafe(`CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY,
      version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL,
      script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL,
      installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL,
      success boolean NOT NULL)`);
    await db.sql`INSERT INTO flyway_schema_history VALUES
      (1, '1', 'create orders', 'SQL', 'V1__create_orders.sql', 1, 'ci', now(), 5, true),
      (2, '1.1', 'add status', 'SQL', 'V1.1__add_status.sql', 2, 'ci', now(), 5, true),
      (3, '1.2', 'index status', 'SQL', 'V1.2__index_status.sql', 3, 'ci', now(), 5, false)`;
    const before = await snapshot(db, cwd);
    const dry = await cli(["import", "--from", "flyway", "--adopt", "--dry-run"], cwd, db);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(await snapshot(db, cwd), before, "--dry-run changes nothing");
    const conn = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await conn.unsafe(dry.stdout).simple();
    } finally {
      await conn.end({ timeout: 1 });
    }
    const rows = await db.sql`SELECT version::text, state FROM strata_migrations ORDER BY 1`;
    assert.deepEqual(rows.map((x) => `${x.version} ${x.state}`), [
      "10 applied",
      "11 applied",
      "12 started",
    ]);
    const again = await cli(["import", "--from", "flyway", "--adopt"], cwd, db);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to do: "public\.strata_migrations" already records/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

serverTest("import --adopt refuses when strata's table already records other rows", async (db) => {
  const cwd = await imported(db, "golang-migrate", "golang-migrate");
  try {
    const stamp = await cli(["stamp", "1"], cwd, db);
    assert.equal(stamp.code, 0, stamp.stderr);
    await golangMigrateTable(db, 4, false);
    await assertRefused(db, cwd, ["import", "--from", "golang-migrate", "--adopt"], {
      exit: 4,
      code: "ADOPT_MISMATCH",
      message: /already records 1 migration, not the ones adoption would record/,
    });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
