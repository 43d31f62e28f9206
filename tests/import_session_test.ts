/**
 * The README's "Switching from ..." sessions, run line by line against a
 * database the tool migrated: dbmate and Alembic with their real binaries,
 * golang-migrate, goose and Flyway (not installable here) with their files
 * applied as each tool sends them and their version tables made with their
 * documented DDL. Afterwards strata owns the database: nothing is pending, a
 * new migration upgrades, and downgrade -1 reverts it.
 *
 * A missing dbmate or alembic skips its test with the reason, unless
 * STRATA_TEST_REQUIRE_TOOLS=1 (as .ci/run sets it, after installing both).
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { type CliResult, runCli, serverTest, type TestDb } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const FIXTURES = `${ROOT}tests/fixtures/import`;
const README = await Deno.readTextFile(`${ROOT}README.md`);
const requireTools = Deno.env.get("STRATA_TEST_REQUIRE_TOOLS") === "1";

/** The command lines of the README's "### Switching from <title>" sh block, comments dropped. */
function readmeSession(title: string): string[][] {
  const at = README.indexOf(`### Switching from ${title}\n`);
  assert.notEqual(at, -1, `README has no "Switching from ${title}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(at))![1];
  return block.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(/\s+/));
}

/** dbmate from PATH, STRATA_TEST_DBMATE, or the cache .ci/run installs it into. */
async function findDbmate(): Promise<string | null> {
  const home = Deno.env.get("HOME") ?? "/tmp";
  const candidates = [
    Deno.env.get("STRATA_TEST_DBMATE"),
    "dbmate",
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/strata-test/node_modules/.bin/dbmate`,
  ];
  for (const c of candidates) {
    if (c && await runs(c, ["--version"])) return c;
  }
  return null;
}

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

const dbmate = await findDbmate();
const alembic = await runs("alembic", ["--version"]) ? "alembic" : null;

/** Register a test needing `tool`; skipped (named with the reason) when it is missing. */
function toolTest(
  name: string,
  tool: { bin: string | null; missing: string },
  fn: (db: TestDb, bin: string) => Promise<void>,
): void {
  if (tool.bin === null && !requireTools) {
    Deno.test({ name: `${name}: skipped, ${tool.missing}`, ignore: true, fn() {} });
    return;
  }
  serverTest(name, async (db) => {
    if (tool.bin === null) throw new Error(`STRATA_TEST_REQUIRE_TOOLS=1 but ${tool.missing}`);
    await fn(db, tool.bin);
  });
}

/** A temporary copy of a fixture project; the caller removes it. */
async function copyProject(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "strata_import_" });
  const out = await new Deno.Command("cp", { args: ["-R", `${FIXTURES}/${name}/.`, dir] })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return dir;
}

/** Run one README line in `cwd` with DATABASE_URL set: strata through main.ts, a tool as itself. */
async function runLine(
  words: string[],
  ctx: { cwd: string; url: string; tools: Record<string, string> },
): Promise<CliResult> {
  const env = { DATABASE_URL: ctx.url };
  // With a cwd, runCli runs a process with the strata task's permissions (alembic among them).
  if (words[0] === "strata") return await runCli(words.slice(1), { cwd: ctx.cwd, env });
  const bin = ctx.tools[words[0]];
  assert.ok(bin, `README line runs "${words[0]}", which this test cannot`);
  const out = await new Deno.Command(bin, {
    args: words.slice(1),
    cwd: ctx.cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Run `text` as one simple-protocol message on a connection of its own, as the other tools send
 * files (a one-connection client: postgres.js refuses BEGIN on a pool).
 */
async function sendAsWritten(url: string, text: string): Promise<void> {
  const conn = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await conn.unsafe(text).simple();
  } finally {
    await conn.end({ timeout: 1 });
  }
}

/** Run the whole README session; every line must exit 0. Returns the outputs by line. */
async function runSession(
  title: string,
  ctx: { cwd: string; url: string; tools?: Record<string, string> },
): Promise<Map<string, CliResult>> {
  const results = new Map<string, CliResult>();
  for (const words of readmeSession(title)) {
    const r = await runLine(words, { ...ctx, tools: ctx.tools ?? {} });
    assert.equal(r.code, 0, `${words.join(" ")}\n${r.stdout}${r.stderr}`);
    results.set(words.join(" "), r);
  }
  return results;
}

/** After adoption strata owns the database: a new migration goes up, and down -1 reverts it. */
async function assertStrataTakesOver(cwd: string, db: TestDb, table: string): Promise<void> {
  const env = { DATABASE_URL: db.url };
  const made = await runCli(["new", "add note column"], { cwd, env });
  assert.equal(made.code, 0, made.stderr);
  const [up, down] = made.stdout.trim().split("\n").map((p) => `${cwd}/${p}`);
  await Deno.writeTextFile(up, `ALTER TABLE ${table} ADD COLUMN note text;\n`, { append: true });
  await Deno.writeTextFile(down, `ALTER TABLE ${table} DROP COLUMN note;\n`, { append: true });
  const upgrade = await runCli(["upgrade"], { cwd, env });
  assert.equal(upgrade.code, 0, upgrade.stderr);
  assert.match(upgrade.stdout, /Applied 1 migration/);
  assert.equal(await columnExists(db.sql, table, "note"), true);
  const downgrade = await runCli(["downgrade", "-1"], { cwd, env });
  assert.equal(downgrade.code, 0, downgrade.stderr);
  assert.equal(await columnExists(db.sql, table, "note"), false);
  const status = await runCli(["status", "--exit-code"], { cwd, env });
  assert.equal(status.code, 5, status.stdout);
}

async function columnExists(sql: postgres.Sql, table: string, column: string): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM information_schema.columns
                          WHERE table_name = ${table} AND column_name = ${column}`;
  return rows.length === 1;
}

async function adoptedRows(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql`SELECT version::text || ' ' || state AS r
                           FROM strata_migrations ORDER BY version`;
  return rows.map((r) => r.r);
}

toolTest("README: switching from dbmate, with the real dbmate", {
  bin: dbmate,
  missing: "no dbmate (npm install dbmate, as .ci/run does)",
}, async (db, bin) => {
  const cwd = await copyProject("dbmate");
  try {
    // dbmate (lib/pq) insists on SSL unless the URL says otherwise; strata reads the same URL.
    const url = `${db.url}?sslmode=disable`;
    const out = await runSession("dbmate", { cwd, url, tools: { dbmate: bin } });
    const dry = out.get(
      "strata import --from dbmate --source db/migrations --dir migrations --dry-run",
    )!;
    assert.match(dry.stdout, /would write migrations\/20240102090000_index_users\.up\.sql/);
    const converted = out.get(
      "strata import --from dbmate --source db/migrations --dir migrations",
    )!;
    assert.match(
      converted.stdout,
      /"20240104080000_seed_admin\.sql" has an empty "-- migrate:down" block/,
    );
    assert.match(
      await Deno.readTextFile(`${cwd}/migrations/20240102090000_index_users.up.sql`),
      /^-- imported from dbmate "20240102090000_index_users\.sql"\n-- transaction: false\n/,
    );
    assert.deepEqual(await adoptedRows(db.sql), [
      "20240101120000 applied",
      "20240102090000 applied",
      "20240103100000 applied",
      "20240104080000 applied",
    ]);
    const dbmateRows = await db.sql`SELECT version FROM schema_migrations ORDER BY version`;
    assert.equal(dbmateRows.length, 4, "dbmate's table is left as it was");
    await assertStrataTakesOver(cwd, { ...db, url }, "users");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

toolTest("README: switching from Alembic, with the real alembic", {
  bin: alembic,
  missing: "no alembic on PATH (apt-get install alembic python3-psycopg2, as .ci/run does)",
}, async (db, bin) => {
  const cwd = await copyProject("alembic");
  try {
    await runSession("Alembic", { cwd, url: db.url, tools: { alembic: bin } });
    const up = await Deno.readTextFile(`${cwd}/migrations/0002_add_archived.up.sql`);
    assert.match(up, /-- message: add archived flag\n-- alembic-revision: 2b3c4d5e6f7a\n/);
    assert.doesNotMatch(up, /alembic_version|^BEGIN;|^COMMIT;/m);
    assert.deepEqual(await adoptedRows(db.sql), ["1 applied", "2 applied", "3 applied"]);
    const [head] = await db.sql`SELECT version_num FROM alembic_version`;
    assert.equal(head.version_num, "3c4d5e6f7a8b", "Alembic's table is left as it was");
    await assertStrataTakesOver(cwd, db, "projects");
    const base = await runCli(["downgrade", "base"], { cwd, env: { DATABASE_URL: db.url } });
    assert.equal(base.code, 0, base.stderr);
    assert.equal(await columnExists(db.sql, "projects", "id"), false, "every down file works");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

/** golang-migrate's run, as it does it: each up file sent as written, then its one row. */
async function migrateLikeGolangMigrate(db: TestDb, dir: string): Promise<void> {
  for (const name of ["1_create_accounts", "2_index_accounts", "3_split_names", "4_add_plan"]) {
    await sendAsWritten(db.url, await Deno.readTextFile(`${dir}/${name}.up.sql`));
  }
  await db.sql.unsafe(`CREATE TABLE IF NOT EXISTS schema_migrations
    (version bigint not null primary key, dirty boolean not null)`);
  await db.sql`INSERT INTO schema_migrations (version, dirty) VALUES (4, false)`;
}

serverTest("README: switching from golang-migrate (documented table)", async (db) => {
  const cwd = await copyProject("golang-migrate");
  try {
    await migrateLikeGolangMigrate(db, `${cwd}/db/migrations`);
    const out = await runSession("golang-migrate", { cwd, url: db.url });
    const converted = out.get(
      "strata import --from golang-migrate --source db/migrations --dir migrations",
    )!;
    assert.match(converted.stdout, /"3_split_names\.up\.sql" runs its own transaction control/);
    assert.match(
      await Deno.readTextFile(`${cwd}/migrations/3_split_names.up.sql`),
      /-- transaction: false\n\nBEGIN;/,
    );
    assert.deepEqual(await adoptedRows(db.sql), [
      "1 applied",
      "2 applied",
      "3 applied",
      "4 applied",
    ]);
    await assertStrataTakesOver(cwd, db, "accounts");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

/** goose's run: each Up section in a transaction (or not, with NO TRANSACTION), one row each. */
async function migrateLikeGoose(db: TestDb, dir: string): Promise<void> {
  await db.sql.unsafe(`CREATE TABLE goose_db_version (
    id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL,
    tstamp timestamp NULL default now(), PRIMARY KEY(id))`);
  await db.sql`INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true)`;
  for (const [version, name] of [[1, "create_notes"], [2, "index_notes"], [3, "seed_notes"]]) {
    const text = await Deno.readTextFile(`${dir}/0000${version}_${name}.sql`);
    const up = text.split(/^-- \+goose down$/im)[0];
    await sendAsWritten(db.url, /NO TRANSACTION/.test(text) ? up : `BEGIN;\n${up}\nCOMMIT;`);
    await db.sql`INSERT INTO goose_db_version (version_id, is_applied) VALUES (${version}, true)`;
  }
}

serverTest("README: switching from goose (documented table)", async (db) => {
  const cwd = await copyProject("goose");
  try {
    await migrateLikeGoose(db, `${cwd}/db/migrations`);
    const out = await runSession("goose", { cwd, url: db.url });
    const converted = out.get(
      "strata import --from goose --source db/migrations --dir migrations",
    )!;
    assert.match(converted.stdout, /StatementBegin\/StatementEnd lines dropped/);
    assert.match(converted.stdout, /"00003_seed_notes\.sql" has no "-- \+goose Down" section/);
    const index = await Deno.readTextFile(`${cwd}/migrations/00002_index_notes.down.sql`);
    assert.match(index, /-- transaction: false\n\nDROP INDEX CONCURRENTLY/);
    assert.deepEqual(await adoptedRows(db.sql), ["1 applied", "2 applied", "3 applied"]);
    await assertStrataTakesOver(cwd, db, "notes");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

/** Flyway's documented history table (PostgreSQL), as Flyway 9 and 10 create it. */
const FLYWAY_DDL = `CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history"
  ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");`;

serverTest("README: switching from Flyway (documented table)", async (db) => {
  const cwd = await copyProject("flyway");
  try {
    const scripts = [
      ["1", "create orders", "V1__create_orders.sql"],
      ["1.1", "add status", "V1.1__add_status.sql"],
      ["1.2", "index status", "V1.2__index_status.sql"],
      [null, "open orders", "R__open_orders.sql"],
      ["2", "seed orders", "V2__seed_orders.sql"],
    ] as const;
    await sendAsWritten(db.url, FLYWAY_DDL);
    for (const [i, [version, description, script]] of scripts.entries()) {
      await sendAsWritten(db.url, await Deno.readTextFile(`${cwd}/sql/${script}`));
      await db.sql`INSERT INTO flyway_schema_history VALUES (${i + 1}, ${version},
        ${description}, 'SQL', ${script}, ${-1234567 + i}, 'postgres', now(), 12, true)`;
    }
    const out = await runSession("Flyway", { cwd, url: db.url });
    const converted = out.get("strata import --from flyway --source sql --dir migrations")!;
    assert.match(converted.stdout, /"R__open_orders\.sql" is a repeatable migration/);
    assert.match(converted.stdout, /"12_index_status\.up\.sql" has no down file/);
    const adopted = out.get("strata import --from flyway --adopt")!;
    assert.match(adopted.stdout, /note: R__open_orders\.sql: a repeatable migration, not adopted/);
    assert.deepEqual(await adoptedRows(db.sql), [
      "10 applied",
      "11 applied",
      "12 applied",
      "20 applied",
    ]);
    await assertStrataTakesOver(cwd, db, "orders");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
