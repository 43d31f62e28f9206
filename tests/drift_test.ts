/**
 * `strata drift` against a real server (PostgreSQL 15) with the replay on the
 * embedded database (PostgreSQL 18): no false positives on realistic schemas,
 * every kind of hand change named.
 */

import assert from "node:assert/strict";
import { compareSchemas, isIgnored, matchesIgnore, parseIgnoreFile } from "../lib/core/drift.ts";
import { normalizeQuery } from "../lib/core/snapshot_normalize.ts";
import { lockKey } from "../lib/db/session.ts";
import { runCli, serverTest, tempMigrations, type TestDb } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SETS = ["migrations", "tests/fixtures/drift/shop", "tests/fixtures/drift/audit"]
  .concat(["tests/fixtures/drift/tenancy"]);

function cli(db: TestDb, args: string[]) {
  return runCli(args, { env: { DATABASE_URL: db.url } });
}

for (const set of SETS) {
  serverTest(
    `drift reports no differences for ${set} between the server and PGlite`,
    async (db) => {
      const dir = `${ROOT}${set}`;
      const up = await cli(db, ["--dir", dir, "upgrade"]);
      assert.equal(up.code, 0, up.stderr);
      const r = await cli(db, ["--dir", dir, "drift", "--privileges"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /drift: none \(0 not compared, 0 ignored\)/);
    },
  );
}

serverTest("drift names every kind of hand change, with both definitions", async (db) => {
  const dir = `${ROOT}tests/fixtures/drift/shop`;
  assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
  const before = await cli(db, ["--dir", dir, "drift"]);
  assert.equal(before.code, 0, before.stdout);
  await db.sql.unsafe(`
    ALTER TABLE customers ADD COLUMN nickname text;
    CREATE INDEX orders_status ON orders (status);
    CREATE FUNCTION hand_made() RETURNS int LANGUAGE sql AS 'SELECT 1';
    CREATE TRIGGER products_touch BEFORE UPDATE ON products
      FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
    ALTER TABLE products ENABLE ROW LEVEL SECURITY;
    CREATE POLICY live_only ON products USING (NOT discontinued);
    CREATE OR REPLACE VIEW order_totals AS
      SELECT o.id, o.customer_id, o.status, sum(l.quantity * l.unit_price) AS total,
             count(*) FILTER (WHERE l.quantity > 2) AS multi_lines,
             CASE WHEN o.status = 'paid' THEN 'done' ELSE 'open' END AS stage
        FROM orders o JOIN order_lines l ON l.order_id = o.id
       GROUP BY o.id, o.customer_id, o.status;
    ALTER TABLE orders DROP CONSTRAINT paid_has_invoice;`);
  const r = await cli(db, ["--dir", dir, "drift"]);
  assert.equal(r.code, 4, r.stdout + r.stderr);
  for (
    const line of [
      /^\+ column customers\.nickname: added by hand/m,
      /^\+ index orders_status: added by hand/m,
      /^\+ function hand_made\(\): added by hand/m,
      /^\+ trigger products\.products_touch: added by hand/m,
      /^\+ policy products\.live_only: added by hand/m,
      /^~ table products: changed\n {4}migrations: \(plain\)\n {4}live: {7}row level security$/m,
      /^~ view order_totals: changed\n {4}migrations: .*quantity > 1.*\n {4}live: .*quantity > 2/m,
      /^- constraint orders\.paid_has_invoice: missing/m,
    ]
  ) {
    assert.match(r.stdout, line);
  }
  assert.match(r.stdout, /drift: 8 differences \(5 added by hand, 2 changed, 1 missing\)/);
  const json = await cli(db, ["--dir", dir, "--json", "drift"]);
  assert.equal(json.code, 4);
  const report = JSON.parse(json.stdout);
  assert.equal(report.drift.length, 8);
  assert.deepEqual(
    report.drift.find((d: { key: string }) =>
      d.key === "constraint public.orders.paid_has_invoice"
    ),
    {
      kind: "missing",
      key: "constraint public.orders.paid_has_invoice",
      live: null,
      expected:
        "CHECK (((status = ANY (ARRAY['new'::public.order_status, 'cancelled'::public.order_status])) " +
        "OR (invoice IS NOT NULL)))",
    },
  );
  const ignored = await cli(db, [
    "--dir",
    dir,
    "drift",
    "--ignore",
    "public.hand_made*,index orders_*,products.products_touch,products.live_only,customers.*",
  ]);
  assert.match(ignored.stdout, /drift: 3 differences .* 0 not compared, 5 ignored/);
});

serverTest("drift reads the ignore file in the migrations directory", async (db) => {
  const dir = await tempMigrations({
    "1_t.up.sql": "CREATE TABLE t (id int);",
    ".strata-drift-ignore":
      "# managed by the reporting team\nschema reporting\ntable reporting.*\n",
  });
  try {
    assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
    await db.sql.unsafe("CREATE SCHEMA reporting; CREATE TABLE reporting.daily (d date)");
    const r = await cli(db, ["--dir", dir, "drift"]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(
      r.stdout,
      /ignored: column reporting\.daily\.d, schema reporting, table reporting\.daily/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest(
  "objects the embedded database cannot build are not compared, never drift",
  async (db) => {
    const dir = await tempMigrations({
      "1_kv.up.sql": "CREATE EXTENSION IF NOT EXISTS hstore;\n" +
        "CREATE TABLE kv (id int PRIMARY KEY, attrs hstore);",
      "2_t.up.sql": "CREATE TABLE t (id int);",
    });
    try {
      assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
      const r = await cli(db, ["--dir", dir, "drift"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /not compared \(the replay could not build them/);
      assert.match(r.stdout, /extension hstore: 1_kv\.up\.sql could not be replayed/);
      assert.match(r.stdout, /table public\.kv: 1_kv\.up\.sql could not be replayed/);
      const server = await cli(db, ["--dir", dir, "drift", "--scratch-url", db.url]);
      assert.equal(server.code, 0, server.stdout + server.stderr);
      assert.match(server.stdout, /drift: none \(0 not compared/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest("drift takes no lock and writes nothing to the live database", async (db) => {
  const dir = await tempMigrations({ "1_t.up.sql": "CREATE TABLE t (id int);" });
  try {
    assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
    // Another deploy holds the migration lock: drift still runs at once.
    const key = await lockKey({ schema: "public", name: "strata_migrations" });
    await db.sql`SELECT pg_advisory_lock(${String(key)}::bigint)`;
    const rows = async () =>
      JSON.stringify(await db.sql`SELECT * FROM strata_migrations_log ORDER BY id`);
    const before = await rows();
    const r = await cli(db, ["--dir", dir, "--lock-wait", "0s", "drift"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await rows(), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("matchesIgnore() and isIgnored() match kinds, names, public and a table's parts", () => {
  assert.ok(matchesIgnore("table public.legacy_orders", "public.legacy_*"));
  assert.ok(matchesIgnore("table public.legacy_orders", "legacy_*"));
  assert.ok(matchesIgnore("index public.orders_tmp", "index *_tmp"));
  assert.ok(!matchesIgnore("table public.orders_tmp", "index *_tmp"));
  assert.ok(matchesIgnore("extension postgis", "extension postgis"));
  assert.ok(isIgnored("column reporting.daily.d", ["table reporting.*"]));
  assert.ok(isIgnored("trigger public.t.x", ["t"]));
  assert.ok(!isIgnored("column public.orders.note", ["customers"]));
  assert.deepEqual(parseIgnoreFile("# c\n\n public.a_* # trailing\nindex x\n"), [
    "public.a_*",
    "index x",
  ]);
});

Deno.test("compareSchemas() classifies added, missing, changed, ignored and not compared", () => {
  const replay = {
    "table public.a": "",
    "view public.v": " SELECT a.id\n   FROM a;",
    "column public.a.id": "integer",
  };
  const live = {
    "table public.a": "unlogged",
    "view public.v": "SELECT id FROM a;",
    "table public.geo": "",
    "table public.tmp_x": "",
  };
  const r = compareSchemas(live, replay, {
    ignore: ["tmp_*"],
    failures: [{
      version: "2",
      file: "2_geo.up.sql",
      error: "no postgis",
      sql: "CREATE TABLE geo (g geometry)",
    }],
  });
  assert.deepEqual(r.drift.map((d) => [d.kind, d.key]), [
    ["missing", "column public.a.id"],
    ["changed", "table public.a"],
  ]);
  assert.deepEqual(r.notCompared.map((d) => [d.key, d.reason]), [
    ["table public.geo", "2_geo.up.sql could not be replayed: no postgis"],
  ]);
  assert.deepEqual(r.ignored.map((d) => d.key), ["table public.tmp_x"]);
});

Deno.test("normalizeQuery() drops column qualifiers that PostgreSQL 15 prints and 16+ does not", () => {
  assert.equal(
    normalizeQuery(
      " SELECT accounts.id,\n    accounts.owner\n   FROM public.accounts\n  WHERE (accounts.balance > (0)::numeric);",
    ),
    normalizeQuery(
      " SELECT id,\n    owner\n   FROM public.accounts\n  WHERE (balance > (0)::numeric);",
    ),
  );
  assert.notEqual(normalizeQuery("SELECT 1.5"), normalizeQuery("SELECT 15"));
});

serverTest("upgrade --check-drift refuses before the lock when the schema drifted", async (db) => {
  const dir = await tempMigrations({ "1_t.up.sql": "CREATE TABLE t (id int);" });
  try {
    assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
    await Deno.writeTextFile(`${dir}/2_u.up.sql`, "CREATE TABLE u (id int);");
    await db.sql.unsafe("CREATE INDEX t_by_hand ON t (id)");
    const r = await cli(db, ["--dir", dir, "upgrade", "--check-drift"]);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stderr, /SCHEMA_DRIFT.*live schema differs .*\(1 differences\)/);
    assert.match(r.stderr, /\+ index t_by_hand: added by hand/);
    const [u] = await db.sql`SELECT to_regclass('u') IS NULL AS absent`;
    assert.ok(u.absent, "nothing ran");
    const ok = await cli(db, ["--dir", dir, "upgrade", "--check-drift", "--ignore", "index t_*"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /up {4}2 {2}u/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serverTest("drift refuses a version table it cannot replay, and changes nothing", async (db) => {
  const dir = await tempMigrations({
    "1_t.up.sql": "CREATE TABLE t (id int);",
    "2_u.up.sql": "CREATE TABLE u (id int);",
  });
  const state = async () =>
    JSON.stringify({
      rows: await db.sql`SELECT * FROM strata_migrations ORDER BY version`,
      log: await db.sql`SELECT * FROM strata_migrations_log ORDER BY id`,
      tables: await db.sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
    });
  const refused =
    /^error\[(\w+)\]: Cannot replay the applied migrations: the version table cannot be replayed as it stands\n/;
  try {
    assert.equal((await cli(db, ["--dir", dir, "upgrade"])).code, 0);
    // What a run killed inside 2_u leaves behind.
    await db.sql`UPDATE strata_migrations SET state = 'started', statement_index = 0
      WHERE version = 2`;
    const interrupted = await state();
    const r = await cli(db, ["--dir", dir, "drift"]);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.match(refused)?.[1], "INTERRUPTED_MIGRATION", r.stderr);
    assert.match(r.stderr, /"2_u\.up\.sql" was interrupted while being applied/);
    assert.match(r.stderr, /hint: Resolve it first \(restore the files, or record the truth/);
    assert.equal(await state(), interrupted);

    await db.sql`UPDATE strata_migrations SET state = 'applied', statement_index = NULL
      WHERE version = 2`;
    await Deno.remove(`${dir}/2_u.up.sql`);
    const gone = await state();
    const missing = await cli(db, ["--dir", dir, "drift"]);
    assert.equal(missing.code, 4, missing.stdout + missing.stderr);
    assert.equal(missing.stdout, "");
    assert.equal(missing.stderr.match(refused)?.[1], "DRIFT", missing.stderr);
    assert.match(missing.stderr, /^ {2}version 2 \(u\) is applied but its file is gone$/m);
    assert.equal(await state(), gone);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
