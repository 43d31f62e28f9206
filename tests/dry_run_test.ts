import assert from "node:assert/strict";
import postgres from "postgres";
import { lockKey } from "../lib/db/session.ts";
import {
  applyWithPsql,
  runCli,
  serverTest,
  tempMigrations,
  type TestDb,
  withTestDb,
} from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;

/** A catalog snapshot: every user object with its definition, plus strata's rows. */
async function snapshot(sql: postgres.Sql): Promise<Record<string, unknown>> {
  const q = async (text: string) =>
    (await sql.unsafe(text)).map((r) => Object.values(r).join(" | "));
  return {
    columns: await q(
      `SELECT table_schema, table_name, column_name, data_type, udt_name, is_nullable,
      coalesce(column_default, ''), is_identity, coalesce(generation_expression, '')
      FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1, 2, 3`,
    ),
    constraints: await q(`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`),
    indexes: await q(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
    ),
    functions: await q(`SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
      WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1`),
    triggers: await q(
      `SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`,
    ),
    enums: await q(`SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY 1 ORDER BY 1`),
    comments: await q(`SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''),
      coalesce(string_agg(a.attname || '=' || col_description(c.oid, a.attnum), ',' ORDER BY a.attnum), '')
      FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
       AND col_description(c.oid, a.attnum) IS NOT NULL
      WHERE c.relnamespace = 'public'::regnamespace GROUP BY c.oid, c.relname ORDER BY 1`),
    versions: await q(
      `SELECT version, name, checksum, state, coalesce(statement_index, -1), applied_order,
      strata_version FROM strata_migrations ORDER BY version`,
    ).catch(() => ["(no table)"]),
    log: await q(`SELECT version, name, direction, checksum, outcome, coalesce(detail, '')
      FROM strata_migrations_log ORDER BY id`).catch(() => ["(no table)"]),
  };
}

async function psql(db: TestDb, script: string): Promise<void> {
  await applyWithPsql(db.url, script);
}

async function scriptOf(args: string[]): Promise<string> {
  // No database at all: --from must not connect.
  const r = await runCli(args, { env: { DATABASE_URL: "postgres://nobody:pw@127.0.0.1:1/none" } });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Run `args` for real on `real`, and its offline script through psql on `viaScript`; compare. */
async function assertSameResult(real: TestDb, viaScript: TestDb, args: string[], from: string) {
  const r = await runCli(args, { env: { DATABASE_URL: real.url } });
  assert.equal(r.code, 0, r.stderr);
  await psql(viaScript, await scriptOf([...args, "--dry-run", "--from", from]));
  assert.deepEqual(await snapshot(viaScript.sql), await snapshot(real.sql));
}

function generated(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= count; i++) {
    const v = String(i).padStart(4, "0");
    const t = `t${i}`;
    let header = "";
    let up =
      `CREATE TABLE ${t} (id int PRIMARY KEY, note text DEFAULT 'a;b', n int CHECK (n > ${i}));\n`;
    if (i % 10 === 0) {
      header = "-- lock-timeout: 5s\n-- statement-timeout: 1min\n";
      up +=
        `CREATE FUNCTION f${i}() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN ${i}; END; $$;\n`;
    }
    if (i % 7 === 0) up += `COMMENT ON TABLE ${t} IS 'table ${i}';\n`;
    if (i % 25 === 0) up = `BEGIN;\n${up}COMMIT;\n`;
    if (i % 40 === 0) {
      header = `-- transaction: false\n${header}`;
      up += `CREATE INDEX CONCURRENTLY ${t}_n ON ${t} (n);\n`;
    }
    files[`${v}_create_${t}.up.sql`] = header + up;
    files[`${v}_create_${t}.down.sql`] = (i % 10 === 0 ? `DROP FUNCTION f${i}();\n` : "") +
      `DROP TABLE ${t};\n`;
  }
  return files;
}

serverTest("upgrade --dry-run --from base | psql equals upgrade, for migrations/", async (a) => {
  await withTestDb(async (b) => {
    await assertSameResult(a, b, ["--dir", EXAMPLES, "upgrade"], "base");
    await assertSameResult(a, b, ["--dir", EXAMPLES, "downgrade", "base"], "0005");
  });
});

serverTest(
  "a connected dry run prints the restore strata sends this server; psql applying it equals upgrade",
  async (a) => {
    await withTestDb(async (b) => {
      const args = ["--dir", EXAMPLES, "upgrade"];
      const connected = await runCli([...args, "--dry-run"], { env: { DATABASE_URL: b.url } });
      assert.equal(connected.code, 0, connected.stderr);
      const offline = await scriptOf([...args, "--dry-run", "--from", "base"]);
      const restores = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;
      // In each of the 5 files and after its COMMIT: plain SETs when the server is known, the
      // portable SELECT offline.
      assert.equal(restores(connected.stdout, /RESET SESSION AUTHORIZATION;\nSET /g), 10);
      assert.equal(
        restores(offline, /RESET SESSION AUTHORIZATION;\nSELECT pg_catalog\.set_config/g),
        10,
      );
      const r = await runCli(args, { env: { DATABASE_URL: a.url } });
      assert.equal(r.code, 0, r.stderr);
      await psql(b, connected.stdout);
      assert.deepEqual(await snapshot(b.sql), await snapshot(a.sql));
      // The offline script is for a database at base, whose tables may still be there.
      const down = await runCli([...args.slice(0, 2), "downgrade", "base"], {
        env: { DATABASE_URL: b.url },
      });
      assert.equal(down.code, 0, down.stderr);
      await psql(b, offline);
      const [n] = await b.sql`SELECT count(*)::int AS n FROM strata_migrations`;
      assert.equal(n.n, 5);
    });
  },
);

serverTest("the dry-run invariant holds for 200 generated migrations, up and down", async (a) => {
  const dir = await tempMigrations(generated(200));
  try {
    await withTestDb(async (b) => {
      await assertSameResult(a, b, ["--dir", dir, "upgrade"], "base");
      await assertSameResult(a, b, ["--dir", dir, "downgrade", "base"], "0200");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest("stamp --dry-run | psql equals stamp; --single-transaction scripts too", async (a) => {
  await withTestDb(async (b) => {
    await assertSameResult(a, b, ["--dir", EXAMPLES, "stamp", "0003"], "base");
  });
  await withTestDb(async (c) => {
    await withTestDb(async (d) => {
      await assertSameResult(c, d, ["--dir", EXAMPLES, "upgrade", "--single-transaction"], "base");
    });
  });
});

serverTest("a connected dry run takes no lock and changes nothing", async (db) => {
  const key = await lockKey({ schema: "public", name: "strata_migrations" });
  const holder = postgres(db.url, { max: 1 });
  try {
    await holder`SELECT pg_advisory_lock(${String(key)})`;
    const before = await snapshot(db.sql);
    for (
      const args of [
        ["upgrade", "--dry-run"],
        ["upgrade", "--sql"],
        ["downgrade", "base", "--sql"],
        ["stamp", "head", "--dry-run"],
      ]
    ) {
      const r = await runCli(["--dir", EXAMPLES, "--lock-wait", "500ms", ...args], {
        env: { DATABASE_URL: db.url },
      });
      assert.equal(r.code, 0, r.stderr);
    }
    const up = await runCli(["--dir", EXAMPLES, "upgrade", "--sql"], {
      env: { DATABASE_URL: db.url },
    });
    assert.match(up.stdout, /^-- strata upgrade head: base -> 0005 \(5 migrations\)/);
    assert.match(up.stdout, /-- 0003_audit_log.up.sql: in strata's transaction\nBEGIN;\n/);
    assert.match(up.stdout, /SET LOCAL lock_timeout = '5000ms';/);
    assert.match(up.stdout, /CREATE TABLE "public"."strata_migrations" \(/);
    assert.deepEqual(await snapshot(db.sql), before);
  } finally {
    await holder.end();
  }
});

serverTest(
  "dry-run and stamp bad input: unknown versions, --from without --dry-run",
  async (db) => {
    const env = { DATABASE_URL: db.url };
    const cases: Array<[string[], RegExp]> = [
      [["stamp", "0042"], /UNKNOWN_TARGET.*Cannot stamp to 0042: no such version/],
      [["stamp", "+1"], /USAGE.*Cannot stamp "\+1": not a target/],
      [
        ["upgrade", "--dry-run", "--from", "0042"],
        /UNKNOWN_TARGET\]: Cannot start from 0042: no such version/,
      ],
      [["upgrade", "--dry-run", "--from", "yesterday"], /USAGE.*--from "yesterday": not a version/],
      [["upgrade", "--from", "base"], /USAGE.*--from without --dry-run/],
      [["history", "--sql"], /USAGE.*"history" with --sql: it has no script to print/],
      [["show", "0042"], /UNKNOWN_TARGET.*Cannot show 0042: no such version/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli(["--dir", EXAMPLES, ...args], { env });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
    const [{ n }] = await db
      .sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    assert.equal(n, 0);
  },
);
