/**
 * Every migration starts from the same session state, so how migrations were
 * batched does not change the result: `upgrade`, `upgrade +1` repeated and
 * `upgrade --single-transaction` leave identical `pg_dump -s` output and data.
 */

import assert from "node:assert/strict";
import { runCli, serverTest, tempMigrations, type TestDb } from "./_helpers.ts";

/** Files that change search_path (SET and pg_dump's set_config), role and replication role. */
function sessionChangingFiles(role: string): Record<string, string> {
  return {
    "01_app_schema.up.sql": "CREATE SCHEMA app;\nSET search_path = app, public;\n" +
      "CREATE TABLE app_only (id int);",
    "02_users.up.sql": "CREATE TABLE users (id int PRIMARY KEY, name text);",
    "03_audit.up.sql": "CREATE TABLE audit (what text);\n" +
      "CREATE FUNCTION log_user() RETURNS trigger LANGUAGE plpgsql AS $$\n" +
      "BEGIN INSERT INTO public.audit VALUES ('user ' || NEW.id); RETURN NEW; END $$;\n" +
      "CREATE TRIGGER users_audit AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION log_user();\n" +
      "SET session_replication_role = replica;",
    "04_seed.up.sql": "INSERT INTO users VALUES (1, 'ada');",
    "05_dump_style.up.sql": "SELECT pg_catalog.set_config('search_path', '', false);\n" +
      "CREATE TABLE public.dumped (id int);",
    "06_after_dump.up.sql": "CREATE TABLE after_dump (id int);",
    "07_other_role.up.sql": `GRANT CREATE ON SCHEMA public TO ${role};\nSET ROLE ${role};\n` +
      "CREATE TABLE owned_by_other (id int);",
    "08_mine.up.sql": "CREATE TABLE mine (id int);\nINSERT INTO users VALUES (2, 'grace');",
    "09_timeout.up.sql": "SET statement_timeout = '1ms';",
    "10_slow.up.sql": "SELECT pg_sleep(0.05);\nCREATE TABLE slow_ok (id int);",
    // Only for this transaction; strata's record after it must still run as the connecting role.
    "11_local_role.up.sql": `SET LOCAL ROLE ${role};\nSET LOCAL search_path = nowhere;\n` +
      "CREATE TABLE public.local_role (id int);",
    "12_last.up.sql": "CREATE TABLE last (id int);",
  };
}

async function pgDump(db: TestDb, args: string[]): Promise<string> {
  const out = await new Deno.Command("pg_dump", {
    args: [...args, "--exclude-table=public.strata_migrations*", db.url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout)
    .replaceAll(db.name, "DB")
    .replace(/^\\(un)?restrict .*$/gm, "");
}

async function resultOf(db: TestDb): Promise<{ schema: string; data: string }> {
  return { schema: await pgDump(db, ["-s"]), data: await pgDump(db, ["-a", "--inserts"]) };
}

serverTest(
  "upgrade, upgrade +1 repeated and --single-transaction give the same schema and data",
  async (db) => {
    const role = `${db.name}_other`;
    await db.sql.unsafe(`CREATE ROLE ${role}; GRANT ${role} TO postgres`);
    const dir = await tempMigrations(sessionChangingFiles(role));
    const admin = db.sql;
    const extra: string[] = [];
    try {
      const results = [];
      for (const mode of ["all", "one by one", "single"] as const) {
        const name = `${db.name}_${extra.length}`;
        extra.push(name);
        await admin.unsafe(`CREATE DATABASE ${name}`);
        const url = db.url.replace(db.name, name);
        const env = { DATABASE_URL: url };
        if (mode === "one by one") {
          for (let i = 0; i < 12; i++) {
            const r = await runCli(["--dir", dir, "upgrade", "+1"], { env });
            assert.equal(r.code, 0, `step ${i + 1}: ${r.stderr}`);
          }
        } else {
          const args = mode === "single" ? ["upgrade", "--single-transaction"] : ["upgrade"];
          const r = await runCli(["--dir", dir, ...args], { env });
          assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
        }
        results.push(await resultOf({ ...db, name, url }));
      }
      assert.equal(results[1].schema, results[0].schema, "upgrade +1 repeated vs upgrade");
      assert.equal(results[2].schema, results[0].schema, "--single-transaction vs upgrade");
      assert.equal(results[1].data, results[0].data);
      assert.equal(results[2].data, results[0].data);
      // What every migration after a session change must have seen:
      assert.match(results[0].schema, /CREATE TABLE public\.users/);
      assert.match(results[0].schema, /CREATE TABLE public\.after_dump/);
      assert.match(results[0].schema, /CREATE TABLE public\.mine/);
      assert.match(results[0].schema, /ALTER TABLE public\.mine OWNER TO postgres/);
      assert.match(
        results[0].schema,
        new RegExp(`ALTER TABLE public.owned_by_other OWNER TO ${role}`),
      );
      assert.match(
        results[0].schema,
        new RegExp(`ALTER TABLE public.local_role OWNER TO ${role}`),
      );
      assert.match(results[0].schema, /ALTER TABLE public\.last OWNER TO postgres/);
      assert.match(results[0].data, /INSERT INTO public\.audit VALUES \('user 1'\)/);
      assert.match(results[0].data, /INSERT INTO public\.audit VALUES \('user 2'\)/);
    } finally {
      await Deno.remove(dir, { recursive: true });
      for (const name of extra) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.unsafe(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
    }
  },
);

serverTest(
  "a statement-by-statement file's SET search_path and SET ROLE do not reach the next file",
  async (db) => {
    const role = `${db.name}_other`;
    await db.sql.unsafe(`CREATE ROLE ${role}; GRANT ${role} TO postgres;
      GRANT CREATE ON SCHEMA public TO ${role}; CREATE SCHEMA app;
      GRANT USAGE, CREATE ON SCHEMA app TO ${role}`);
    const dir = await tempMigrations({
      "1_nt.up.sql": `-- transaction: false\nSET search_path = app;\nSET ROLE ${role};\n` +
        "CREATE TABLE in_app (id int);",
      "2_next.up.sql": "CREATE TABLE in_public (id int);",
    });
    try {
      const r = await runCli(["--dir", dir, "upgrade"], { env: { DATABASE_URL: db.url } });
      assert.equal(r.code, 0, r.stderr);
      const rows = await db.sql`SELECT n.nspname || '.' || c.relname AS t, r.rolname AS owner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_roles r ON r.oid = c.relowner
        WHERE c.relname IN ('in_app', 'in_public') ORDER BY 1`;
      assert.deepEqual(rows.map((x) => [x.t, x.owner]), [
        ["app.in_app", role],
        ["public.in_public", "postgres"],
      ]);
      const [v] = await db.sql`SELECT applied_by FROM strata_migrations WHERE version = 1`;
      assert.equal(v.applied_by, "postgres", "bookkeeping runs as the connecting role");
    } finally {
      await Deno.remove(dir, { recursive: true });
      await db.sql.unsafe(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
    }
  },
);

Deno.test("on the embedded database too, a file's SET search_path ends with the file", async () => {
  const data = await Deno.makeTempDir({ prefix: "strata_test_pglite_" });
  const dir = await tempMigrations({
    "1_app.up.sql": "CREATE SCHEMA app;\nSET search_path = app;\nCREATE TABLE in_app (id int);",
    "2_nt.up.sql": "-- transaction: false\nSET search_path = app;\nCREATE TABLE also_app (id int);",
    "3_next.up.sql": "CREATE TABLE in_public (id int);",
  });
  try {
    const env = { DATABASE_URL: `pglite:${data}/db` };
    for (const args of [["upgrade", "1"], ["upgrade"]]) {
      const r = await runCli(["--dir", dir, ...args], { env });
      assert.equal(r.code, 0, r.stderr);
    }
    const show = await runCli(["--dir", dir, "--json", "drift", "--scratch-url", "pglite:memory"], {
      env,
    });
    const report = JSON.parse(show.stdout);
    assert.deepEqual(report.drift, [], "the replay in one run gives the same schema");
    const { createPgliteDb } = await import("../lib/db/pglite.ts");
    const db = await createPgliteDb({ kind: "pglite", dataDir: `${data}/db`, display: "x" });
    try {
      const rows = await db.query<{ t: string }>(
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables " +
          "WHERE table_name IN ('in_app', 'also_app', 'in_public') ORDER BY 1",
      );
      assert.deepEqual(rows.map((r) => r.t), ["app.also_app", "app.in_app", "public.in_public"]);
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});

serverTest(
  "deferred constraint triggers fire under the file's own settings, before strata's writes, in a batch too",
  async (db) => {
    const dir = await tempMigrations({
      "1_a.up.sql": "CREATE TABLE notes (what text);\nCREATE TABLE items (id int PRIMARY KEY);\n" +
        "CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n" +
        "  INSERT INTO public.notes VALUES (coalesce(current_setting('app.note', true), '(none)')" +
        " || ' as ' || current_user);\n  RETURN NULL;\nEND $$;\n" +
        "CREATE CONSTRAINT TRIGGER items_note AFTER INSERT ON items\n" +
        "  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION note();\n" +
        "CREATE TABLE child (item int REFERENCES items DEFERRABLE INITIALLY DEFERRED);",
      "2_b.up.sql": "SET LOCAL app.note = 'from the file';\nINSERT INTO items VALUES (1);",
      "3_c.up.sql": "INSERT INTO child VALUES (42);",
    });
    try {
      const env = { DATABASE_URL: db.url };
      // A batch checks each file's deferred constraints after it too (as files run one by one).
      const batch = await runCli(["--dir", dir, "upgrade", "2", "--single-transaction"], { env });
      assert.equal(batch.code, 0, batch.stderr);
      const r = await runCli(["--dir", dir, "upgrade"], { env });
      assert.equal(r.code, 1, r.stderr);
      // 3_c's deferred foreign key fails as the file's own error, not strata's.
      assert.match(
        r.stderr,
        /MIGRATION_FAILED.*"3_c\.up\.sql" failed: insert or update on table "child"/,
      );
      const notes = await db.sql`SELECT what FROM notes`;
      assert.deepEqual(notes.map((n) => n.what), ["from the file as postgres"]);
      const rows = await db.sql`SELECT version::int AS v FROM strata_migrations ORDER BY 1`;
      assert.deepEqual(rows.map((row) => row.v), [1, 2]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "a trigger that fires at COMMIT itself leaves no setting for the next file",
  async (db) => {
    // The deferred trigger defers its own next event again; that one fires at COMMIT, after the
    // restore inside the transaction, and sets session settings.
    const dir = await tempMigrations({
      "1_a.up.sql": "CREATE TABLE t (id int);\n" +
        "CREATE FUNCTION leak() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n" +
        "  IF NEW.id = 1 THEN\n    SET CONSTRAINTS ALL DEFERRED;\n    INSERT INTO t VALUES (2);\n" +
        "  ELSE\n    PERFORM set_config('search_path', 'leaked', false);\n" +
        "    PERFORM set_config('statement_timeout', '12345', false);\n  END IF;\n" +
        "  RETURN NULL;\nEND $$;\n" +
        "CREATE CONSTRAINT TRIGGER t_leak AFTER INSERT ON t\n" +
        "  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION leak();\n" +
        "INSERT INTO t VALUES (1);",
      "2_probe.up.sql":
        "CREATE TABLE public.probe AS SELECT current_setting('search_path') AS sp," +
        " current_setting('statement_timeout') AS st;",
    });
    try {
      const r = await runCli(["--dir", dir, "upgrade"], { env: { DATABASE_URL: db.url } });
      assert.equal(r.code, 0, r.stderr);
      const [probe] = await db.sql`SELECT sp, st FROM public.probe`;
      assert.deepEqual({ ...probe }, { sp: '"$user", public', st: "0" });
      const ids = await db.sql`SELECT id FROM public.t ORDER BY 1`;
      assert.deepEqual(ids.map((row) => row.id), [1, 2], "the trigger did run at COMMIT");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "--single-transaction names the file whose error has no position, and logs it",
  async (db) => {
    const dir = await tempMigrations({
      "1_a.up.sql": "CREATE TABLE a (x int PRIMARY KEY);",
      "2_b.up.sql": "CREATE TABLE b (id int);",
      "3_c.up.sql": "INSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);",
    });
    try {
      const r = await runCli(["--dir", dir, "upgrade", "--single-transaction"], {
        env: { DATABASE_URL: db.url },
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^error\[MIGRATION_FAILED\]: Migration "3_c\.up\.sql" failed: duplicate key/,
      );
      assert.doesNotMatch(r.stderr, /1_a\.up\.sql/);
      const log = await db.sql`SELECT version::int AS v, outcome FROM strata_migrations_log`;
      assert.deepEqual(log.map((l) => `${l.v} ${l.outcome}`), ["3 failed"]);
      const [t] = await db.sql`SELECT to_regclass('a') IS NULL AS gone`;
      assert.ok(t.gone, "the whole batch was rolled back");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
