/**
 * The trust boundary, attacked: objects another role planted to shadow every
 * function, operator and type strata's own SQL uses, under a hostile
 * search_path, with parallel deploys; and session state that one migration
 * leaves behind for the next.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import {
  applyWithPsql,
  finishCli,
  runCli,
  serverTest,
  spawnCli,
  tempMigrations,
  type TestDb,
} from "./_helpers.ts";

const LIB = new URL("../lib/", import.meta.url).pathname;

function libFiles(dir = LIB): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) out.push(...libFiles(`${dir}${e.name}/`));
    else if (e.name.endsWith(".ts")) out.push(`${dir}${e.name}`);
  }
  return out;
}

/** Every identifier followed by "(" anywhere in lib/: a superset of the SQL functions strata calls. */
function calledNames(): string[] {
  const names = new Set<string>();
  for (const file of libFiles()) {
    for (const m of Deno.readTextFileSync(file).matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/g)) {
      names.add(m[1]);
    }
  }
  return [...names].sort();
}

const OPERATORS = ["=", "<>", "<", ">", "<=", ">=", "||", "-", "+", "*"];
const TYPES = [
  "text",
  "int4",
  "int8",
  "numeric",
  "oid",
  "bool",
  "timestamptz",
  "float8",
  "interval",
  "name",
  "char",
  "regclass",
];

/**
 * As a role with CREATE on public (the pre-15 default), shadow in `public` every
 * pg_catalog function whose name appears in lib/, every operator of common types,
 * and the types themselves. Each shadow records its call in public.planted_calls;
 * the advisory-lock shadows also pretend to succeed (the attack on the lock).
 */
async function plantShadows(db: TestDb, planter: string): Promise<number> {
  await db.sql.unsafe(`
    CREATE TABLE public.planted_calls (what text);
    GRANT INSERT ON public.planted_calls TO PUBLIC;
    CREATE TABLE public.body_runs (what text);
    GRANT CREATE ON SCHEMA public TO ${planter};`);
  const fns = await db.sql.unsafe(
    `SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
            pg_get_function_result(p.oid) AS result, p.pronargs
       FROM pg_proc p
      WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f'
        AND p.proname = ANY(string_to_array($1, ',')) AND NOT p.proretset
        AND p.provariadic = 0
        AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) t
          WHERE t IN ('internal'::regtype, 'cstring'::regtype, '"any"'::regtype,
                      'anyarray'::regtype, 'anyelement'::regtype, 'anynonarray'::regtype,
                      'anyenum'::regtype, 'anyrange'::regtype, 'anycompatible'::regtype,
                      'anycompatiblearray'::regtype, 'anymultirange'::regtype))
        AND pg_get_function_result(p.oid) NOT IN ('internal', 'cstring', 'trigger', 'record',
          'anyelement', 'anyarray', 'event_trigger', 'language_handler', 'void')
        AND p.proargmodes IS NULL`,
    [calledNames().join(",")],
  );
  const planterSql = postgres(db.url.replace("postgres@", `${planter}@`), {
    max: 1,
    onnotice: () => {},
    fetch_types: false,
  });
  let planted = 0;
  try {
    for (const f of fns) {
      const args = (f.args as string).split(", ").filter(Boolean);
      const call = args.map((_, i) => `$${i + 1}`).join(", ");
      const fake = /^pg_(try_)?advisory_(un)?lock/.test(f.proname) && f.result === "boolean"
        ? "SELECT true"
        : `SELECT pg_catalog.${f.proname}(${call})`;
      await planterSql.unsafe(
        `CREATE FUNCTION public.${f.proname}(${f.args}) RETURNS ${f.result} LANGUAGE sql AS $f$
           INSERT INTO public.planted_calls VALUES ('function ${f.proname}');
           ${fake} $f$`,
      );
      planted++;
    }
    const ops = await db.sql.unsafe(
      `SELECT o.oprname, o.oprleft::regtype::text AS l, o.oprright::regtype::text AS r,
              o.oprresult::regtype::text AS res
         FROM pg_operator o
        WHERE o.oprnamespace = 'pg_catalog'::regnamespace
          AND o.oprname = ANY(string_to_array($1, ' '))
          AND o.oprkind = 'b' AND o.oprleft::regtype::text = ANY(string_to_array($2, ','))
          AND o.oprright::regtype::text = ANY(string_to_array($2, ','))`,
      [
        OPERATORS.join(" "),
        TYPES.map((t) => t === "char" ? '"char"' : t).concat([
          "integer",
          "bigint",
          "boolean",
          "timestamp with time zone",
          "double precision",
        ]).join(","),
      ],
    );
    for (const [i, o] of ops.entries()) {
      await planterSql.unsafe(
        `CREATE FUNCTION public.shadow_op_${i}(a ${o.l}, b ${o.r}) RETURNS ${o.res}
           LANGUAGE sql AS $f$
           INSERT INTO public.planted_calls VALUES ('operator ${o.oprname}');
           SELECT a OPERATOR(pg_catalog.${o.oprname}) b $f$;
         CREATE OPERATOR public.${o.oprname} (LEFTARG = ${o.l}, RIGHTARG = ${o.r},
           FUNCTION = public.shadow_op_${i});`,
      );
      planted++;
    }
    for (const t of TYPES) {
      await planterSql.unsafe(
        `CREATE DOMAIN public.${t === "char" ? '"char"' : t} AS pg_catalog.text`,
      );
      planted++;
    }
  } finally {
    await planterSql.end({ timeout: 1 });
  }
  // The hostile setting: every session of this database searches public before pg_catalog.
  await db.sql.unsafe(`ALTER DATABASE ${db.name} SET search_path = public, pg_catalog`);
  return planted;
}

/**
 * The control: a fresh session of the hostile database calling unqualified
 * functions and operators reaches the shadows (so "no planted call ran"
 * below means strata avoided them, not that they never bite). Clears the
 * record afterwards.
 */
async function assertShadowsBite(db: TestDb): Promise<void> {
  const naive = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    await naive.unsafe("SELECT pg_try_advisory_lock(42) AS locked, now() AS at, 1 = 1 AS eq");
  } finally {
    await naive.end({ timeout: 1 });
  }
  const calls = (await db.sql.unsafe("SELECT DISTINCT what FROM public.planted_calls"))
    .map((r) => r.what).sort();
  for (const expected of ["function now", "function pg_try_advisory_lock", "operator ="]) {
    assert.ok(calls.includes(expected), `the control reached ${expected}: ${calls.join(", ")}`);
  }
  await db.sql.unsafe("TRUNCATE public.planted_calls");
}

async function withRole<T>(db: TestDb, fn: (role: string) => Promise<T>): Promise<T> {
  const role = `${db.name}_planter`;
  await db.sql.unsafe(`CREATE ROLE ${role} LOGIN`);
  try {
    return await fn(role);
  } finally {
    await db.sql.unsafe(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
  }
}

const SHADOW_FILES = {
  "1_one.up.sql": "INSERT INTO body_runs VALUES ('up 1');\nCREATE TABLE one (id int);",
  "1_one.down.sql": "INSERT INTO body_runs VALUES ('down 1');\nDROP TABLE one;",
  "2_two.up.sql": "-- transaction: false\nINSERT INTO body_runs VALUES ('up 2');\n" +
    "CREATE INDEX CONCURRENTLY body_runs_what ON body_runs (what);\n" +
    "INSERT INTO body_runs VALUES ('up 2 end');",
  "2_two.down.sql": "-- transaction: false\nINSERT INTO body_runs VALUES ('down 2');\n" +
    "DROP INDEX CONCURRENTLY body_runs_what;",
  "3_three.up.sql": "INSERT INTO body_runs VALUES ('up 3');\nCREATE TABLE three (id int);",
  "3_three.down.sql": "INSERT INTO body_runs VALUES ('down 3');\nDROP TABLE three;",
};

async function bodyRuns(db: TestDb): Promise<Record<string, number>> {
  const rows = await db.sql.unsafe(
    "SELECT what, pg_catalog.count(*)::pg_catalog.int4 AS n FROM public.body_runs GROUP BY what",
  );
  return Object.fromEntries(rows.map((r) => [r.what, r.n]));
}

serverTest(
  "strata's own SQL never runs a planted shadow: 4 parallel upgrades, then every command",
  async (db) => {
    await withRole(db, async (planter) => {
      const planted = await plantShadows(db, planter);
      assert.ok(planted > 100, `only ${planted} shadows planted`);
      await assertShadowsBite(db);
      const dir = await tempMigrations(SHADOW_FILES);
      try {
        const env = { DATABASE_URL: db.url };
        const runs = await Promise.all(
          Array.from({ length: 4 }, () => finishCli(spawnCli(["--dir", dir, "upgrade"], { env }))),
        );
        for (const r of runs) assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await bodyRuns(db), { "up 1": 1, "up 2": 1, "up 2 end": 1, "up 3": 1 });
        for (
          const args of [
            ["downgrade", "-2"],
            ["upgrade"],
            ["stamp", "2"],
            ["stamp", "head"],
            ["status"],
            ["history", "--verbose"],
            ["current"],
            ["log"],
            ["validate"],
            ["show", "2"],
            ["upgrade", "--dry-run"],
          ]
        ) {
          const r = await runCli(["--dir", dir, ...args], { env });
          assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        }
        assert.deepEqual(await bodyRuns(db), {
          "up 1": 1,
          "up 2": 2,
          "up 2 end": 2,
          "up 3": 2,
          "down 2": 1,
          "down 3": 1,
        });
        const calls = await db.sql.unsafe("SELECT what FROM public.planted_calls");
        assert.deepEqual(calls.map((c) => c.what), [], "a planted shadow ran");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
);

serverTest(
  "strata's dry-run script, applied by psql under the hostile search_path, runs no shadow",
  async (db) => {
    await withRole(db, async (planter) => {
      await plantShadows(db, planter);
      await assertShadowsBite(db);
      const dir = await tempMigrations(SHADOW_FILES);
      try {
        const script = await runCli(["--dir", dir, "upgrade", "--dry-run", "--from", "base"]);
        assert.equal(script.code, 0, script.stderr);
        await applyWithPsql(db.url, script.stdout);
        assert.deepEqual(await bodyRuns(db), { "up 1": 1, "up 2": 1, "up 2 end": 1, "up 3": 1 });
        const calls = await db.sql.unsafe("SELECT what FROM public.planted_calls");
        assert.deepEqual(calls.map((c) => c.what), [], "a planted shadow ran");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
);

serverTest(
  "a version or log table another role planted is refused, not written to; a shared owner role is fine",
  async (db) => {
    await withRole(db, async (planter) => {
      await db.sql.unsafe(`GRANT CREATE ON SCHEMA public TO ${planter}`);
      const asPlanter = postgres(db.url.replace("//postgres@", `//${planter}@`), {
        max: 1,
        onnotice: () => {},
      });
      // The log table, with a trigger that would make its owner superuser when strata writes.
      const plantLog = `
        CREATE FUNCTION public.promote() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN EXECUTE 'ALTER ROLE ${planter} SUPERUSER'; RETURN NULL; END $$;
        CREATE TABLE public.strata_migrations_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY
          KEY, version numeric, name text NOT NULL, direction text NOT NULL, checksum text,
          at timestamptz NOT NULL DEFAULT now(), by text NOT NULL DEFAULT current_user,
          execution_ms integer, outcome text NOT NULL, detail text, strata_version text NOT NULL);
        CREATE TRIGGER promote AFTER INSERT ON public.strata_migrations_log
          FOR EACH ROW EXECUTE FUNCTION public.promote();`;
      const dir = await tempMigrations({ "1_a.up.sql": "CREATE TABLE a (id int);" });
      const superuser = async () =>
        (await db.sql.unsafe(`SELECT rolsuper FROM pg_roles WHERE rolname = '${planter}'`))[0]
          .rolsuper;
      const tables = async () =>
        (await db.sql.unsafe(
          "SELECT c.relname, r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner " +
            "WHERE c.relname IN ('strata_migrations', 'strata_migrations_log', 'a', 'b') ORDER BY 1",
        )).map((t) => `${t.relname}:${t.rolname}`);
      try {
        await asPlanter.unsafe(plantLog);
        const env = { DATABASE_URL: db.url };
        for (const args of [["upgrade"], ["stamp", "1"], ["upgrade", "--dry-run"]]) {
          const r = await runCli(["--dir", dir, ...args], { env });
          assert.equal(r.code, 4, `${args}: ${r.stderr}`);
          assert.match(
            r.stderr,
            new RegExp(
              '^error\\[TABLE_FORMAT\\]: Cannot write to the version tables of "public.strata_migrations": ' +
                `owned by another role: strata_migrations_log \\(owner ${planter}\\)\\n`,
            ),
          );
          assert.match(r.stderr, /Connect as its owner .*nothing was changed/s);
        }
        assert.equal(await superuser(), false, "the planted trigger ran as strata's role");
        assert.deepEqual(await tables(), [`strata_migrations_log:${planter}`]);
        // The version table planted too, with strata's comment: refused the same way.
        await asPlanter.unsafe(
          "CREATE TABLE public.strata_migrations (version numeric PRIMARY KEY, name text, " +
            "checksum text, state text, statement_index int, applied_order bigint, " +
            "applied_at timestamptz, execution_ms int, applied_by text, strata_version text, " +
            "file_hash text); COMMENT ON TABLE public.strata_migrations IS " +
            "'strata version table, format 2'",
        );
        const both = await runCli(["--dir", dir, "upgrade"], { env });
        assert.equal(both.code, 4, both.stderr);
        assert.match(
          both.stderr,
          /another role: strata_migrations \(owner \w+\), strata_migrations_log \(owner \w+\)\n/,
        );
        assert.equal(await superuser(), false);
        // Reading is not writing: status still reads them.
        assert.equal((await runCli(["--dir", dir, "status"], { env })).code, 0);
        // Owned by a role the connecting role is a member of (a shared owner): used.
        await asPlanter.unsafe("DROP TABLE public.strata_migrations, public.strata_migrations_log");
        const owner = `${db.name}_owner`;
        await db.sql.unsafe(`CREATE ROLE ${owner}; GRANT ${owner} TO postgres`);
        try {
          await Deno.writeTextFile(`${dir}/2_b.up.sql`, "CREATE TABLE b (id int);");
          assert.equal((await runCli(["--dir", dir, "upgrade", "1"], { env })).code, 0);
          await db.sql.unsafe(
            `ALTER TABLE strata_migrations OWNER TO ${owner}; ` +
              `ALTER TABLE strata_migrations_log OWNER TO ${owner}`,
          );
          const up = await runCli(["--dir", dir, "upgrade"], { env });
          assert.equal(up.code, 0, up.stderr);
          assert.match(up.stdout, /Applied 1 migration/);
          assert.deepEqual(await tables(), [
            "a:postgres",
            "b:postgres",
            `strata_migrations:${owner}`,
            `strata_migrations_log:${owner}`,
          ]);
        } finally {
          await db.sql.unsafe(`DROP OWNED BY ${owner} CASCADE; DROP ROLE ${owner}`);
        }
      } finally {
        await asPlanter.end({ timeout: 1 });
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
);
