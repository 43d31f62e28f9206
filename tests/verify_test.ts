import assert from "node:assert/strict";
import { parseDatabaseUrl } from "../lib/core/database_url.ts";
import { createPgliteDb } from "../lib/db/pglite.ts";
import { createPostgresDb } from "../lib/db/postgres.ts";
import { takeSnapshot } from "../lib/db/snapshot.ts";
import { diffSnapshots } from "../lib/core/snapshot_diff.ts";
import type { Db } from "../lib/core/types.ts";
import {
  PGLITE_CACHE,
  runCli,
  serverTest,
  serverUrl,
  tempMigrations,
  type TestDb,
  withTestDb,
} from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const TABLE = { schema: "public", name: "strata_migrations" };

const BASE = {
  "1_base.up.sql":
    "CREATE TABLE a (x int);\nCREATE TABLE c (n int CONSTRAINT c_n_check CHECK (n > 0));",
  "1_base.down.sql": "DROP TABLE c;\nDROP TABLE a;",
};

/** Each planted defect: a second migration whose down does not undo its up, and what verify must say. */
const DEFECTS: Array<[string, string, string, RegExp]> = [
  ["forgets an index", "CREATE INDEX a_x ON a (x);", "SELECT 1;", /- index a_x .* is still there/],
  [
    "forgets a column",
    "ALTER TABLE a ADD COLUMN y int;",
    "SELECT 1;",
    /- column a\.y \(integer\) is still there/,
  ],
  [
    "forgets an enum type",
    "CREATE TYPE mood AS ENUM ('sad', 'happy');",
    "SELECT 1;",
    /- enum mood \(sad, happy\) is still there/,
  ],
  [
    "leaves a function",
    "CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;",
    "SELECT 1;",
    /- function answer\(\) is still there/,
  ],
  [
    "leaves a trigger",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n" +
    "CREATE TRIGGER a_touch BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION touch();",
    "SELECT 1;",
    /- trigger a\.a_touch .*is still there/,
  ],
  [
    "changes a default",
    "ALTER TABLE a ALTER COLUMN x SET DEFAULT 5;",
    "ALTER TABLE a ALTER COLUMN x SET DEFAULT 6;",
    /- column a\.x (changed|\(integer default 6\) is still there)|column a\.x changed/,
  ],
  [
    "drops and recreates a table without its check constraint",
    "ALTER TABLE c ADD COLUMN note text;",
    "DROP TABLE c;\nCREATE TABLE c (n int);",
    /- constraint c\.c_n_check \(CHECK \(\(?n > 0\)?\)\) is missing/,
  ],
];

async function verifyDefects(scratch: string[]): Promise<void> {
  for (const [what, up, down, expected] of DEFECTS) {
    const dir = await tempMigrations({ ...BASE, "2_defect.up.sql": up, "2_defect.down.sql": down });
    try {
      const r = await runCli(["--dir", dir, "verify", ...scratch]);
      assert.equal(r.code, 4, `${what}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /FAIL {2}2 {2}defect: its down leaves the schema different/, what);
      assert.match(r.stdout, expected, `${what}:\n${r.stdout}`);
      assert.match(r.stdout, /^ok {4}1 {2}base$/m, what);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
}

Deno.test("verify passes on migrations/ and catches each planted defect by name (embedded)", async () => {
  const ok = await runCli(["--dir", EXAMPLES, "verify"]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(
    ok.stdout,
    /verify: 5 migrations, 5 ok, 0 failed, 0 skipped \(irreversible\) on pglite:memory/,
  );
  await verifyDefects([]);
});

serverTest("verify catches each planted defect by name on a server scratch database", async (t) => {
  const url = serverUrl();
  const ok = await runCli(["--dir", EXAMPLES, "verify", "--scratch-url", url]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  // Only what this run made: another suite may be verifying on the same server.
  const scratch = /\(scratch database (strata_scratch_[a-z0-9]+)\)/.exec(ok.stdout)?.[1];
  assert.ok(scratch, ok.stdout);
  const left = await t.sql`SELECT datname FROM pg_database WHERE datname = ${scratch}`;
  assert.deepEqual([...left], [], "the scratch database was dropped");
  await verifyDefects(["--scratch-url", url]);
});

serverTest(
  "verify exercises CONCURRENTLY on a server and skips irreversible migrations",
  async () => {
    const dir = await tempMigrations({
      ...BASE,
      "2_idx.up.sql": "CREATE INDEX CONCURRENTLY a_x ON a (x);",
      "2_idx.down.sql": "DROP INDEX CONCURRENTLY a_x;",
      "3_one_way.up.sql": "ALTER TABLE a ADD COLUMN z int;",
      "4_ok.up.sql": "CREATE TABLE d (id int);",
      "4_ok.down.sql": "DROP TABLE d;",
    });
    try {
      const r = await runCli(["--dir", dir, "--json", "verify", "--scratch-url", serverUrl()]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepEqual(j.migrations.map((m: { status: string }) => m.status), [
        "ok",
        "ok",
        "irreversible",
        "ok",
      ]);
      assert.deepEqual(j.final, { ok: true, error: null, stoppedAt: "3" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

const ORDER_A = [
  "CREATE TYPE color AS ENUM ('red', 'green')",
  "CREATE TABLE p (id int PRIMARY KEY, c color DEFAULT 'red', note text NOT NULL DEFAULT '')",
  "CREATE TABLE q (id int REFERENCES p (id), n numeric(8, 2) CHECK (n >= 0))",
  "CREATE INDEX q_n ON q (n) WHERE n > 1",
  "CREATE VIEW pv AS SELECT id, c FROM p",
  "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x + 1 $$",
  "COMMENT ON COLUMN p.note IS 'free text'",
];

async function build(db: Db, statements: readonly string[]): Promise<void> {
  for (const s of statements) await db.runScript(s);
}

async function snapshotPair(open: () => Promise<Db>) {
  const a = await open();
  const b = await open();
  try {
    await build(a, ORDER_A);
    // Same end state, built in another order and with an extra object later removed.
    await build(b, [
      ORDER_A[5],
      ORDER_A[0],
      "CREATE TABLE p (id int PRIMARY KEY, c color DEFAULT 'red')",
      "ALTER TABLE p ADD COLUMN note text NOT NULL DEFAULT ''",
      ORDER_A[6],
      "CREATE TABLE scratch (x int)",
      ORDER_A[2],
      ORDER_A[4],
      ORDER_A[3],
      "DROP TABLE scratch",
    ]);
    assert.deepEqual(diffSnapshots(await takeSnapshot(a, TABLE), await takeSnapshot(b, TABLE)), []);
    const changes: Array<[string, RegExp]> = [
      ["ALTER TABLE q ALTER COLUMN n SET DEFAULT 1", /column q\.n changed/],
      [
        "ALTER TYPE color ADD VALUE 'blue'",
        /enum color changed: was "red, green", now "red, green, blue"/,
      ],
      ["DROP INDEX q_n", /index q_n .* is missing/],
      ["COMMENT ON TABLE p IS 'x'", /comment on table p \(x\) is still there/],
      ["CREATE SEQUENCE s", /sequence s .*is still there/],
      ["CREATE OR REPLACE VIEW pv AS SELECT id, c, 1 AS one FROM p", /view pv changed/],
    ];
    for (const [sql, pattern] of changes) {
      const before = await takeSnapshot(b, TABLE);
      await b.runScript(sql);
      const lines = diffSnapshots(before, await takeSnapshot(b, TABLE)).map((d) => d.line);
      assert.ok(lines.some((l) => pattern.test(l)), `${sql}: ${lines.join("; ")}`);
    }
  } finally {
    await a.close();
    await b.close();
  }
}

Deno.test("takeSnapshot() is equal for the same schema built in another order; any change is named (embedded)", async () => {
  await snapshotPair(() =>
    createPgliteDb({ kind: "pglite", dataDir: null, display: "pglite:memory" }, {
      cacheDir: PGLITE_CACHE,
    })
  );
});

serverTest(
  "takeSnapshot() is equal for the same schema built in another order; any change is named (server)",
  async (t) => {
    await withTestDb(async (u) => {
      const dbs = [t, u].map((x: TestDb) => createPostgresDb(parseDatabaseUrl(x.url, "test")));
      let i = 0;
      await snapshotPair(() => Promise.resolve(dbs[i++]));
    });
  },
);

Deno.test("diffSnapshots() names extra, missing and changed objects, public schema elided", () => {
  const d = diffSnapshots(
    {
      "column public.projects.archived_at": "timestamp with time zone",
      "index public.i": "CREATE INDEX i",
    },
    {
      "column public.projects.archived_at": "timestamp with time zone",
      "table app.t": "",
      "index public.i": "CREATE UNIQUE INDEX i",
    },
  );
  assert.deepEqual(d.map((x) => x.line), [
    'index i changed: was "CREATE INDEX i", now "CREATE UNIQUE INDEX i"',
    "table app.t is still there",
  ]);
  assert.deepEqual(
    diffSnapshots({ "column public.projects.archived_at": "timestamp with time zone" }, {}).map((
      x,
    ) => x.line),
    ["column projects.archived_at (timestamp with time zone) is missing"],
  );
  assert.deepEqual(diffSnapshots({}, {}), []);
});

/** Three defective downs in one set: verify must name all of them in one run. */
const THREE_DEFECTS = {
  ...BASE,
  "2_index.up.sql": "CREATE INDEX a_x ON a (x);",
  "2_index.down.sql": "SELECT 1;",
  "3_broken.up.sql": "CREATE TABLE b3 (id int);",
  "3_broken.down.sql": "DROP TABLE no_such_table;",
  "4_leftover.up.sql": "CREATE TABLE t4 (id int);",
  "4_leftover.down.sql": "SELECT 1;",
  "5_fine.up.sql": "CREATE TABLE t5 (id int);",
  "5_fine.down.sql": "DROP TABLE t5;",
};

async function verifyThree(scratch: string[]): Promise<void> {
  const dir = await tempMigrations(THREE_DEFECTS);
  try {
    const r = await runCli(["--dir", dir, "verify", ...scratch]);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok {4}1 {2}base$/m);
    assert.match(r.stdout, /^FAIL {2}2 {2}index: its down leaves the schema different/m);
    assert.match(r.stdout, /- index a_x .* is still there/);
    assert.match(
      r.stdout,
      /^FAIL {2}3 {2}broken: its down failed\n.*"no_such_table" does not exist/m,
    );
    assert.match(r.stdout, /^FAIL {2}4 {2}leftover: its down leaves the schema different/m);
    assert.match(r.stdout, /- table t4 .*is still there/);
    assert.match(r.stdout, /^ok {4}5 {2}fine$/m);
    assert.match(r.stdout, /verify: 5 migrations, 2 ok, 3 failed, 0 skipped \(irreversible\)/);
    const json = JSON.parse((await runCli(["--dir", dir, "--json", "verify", ...scratch])).stdout);
    assert.deepEqual(
      json.migrations.map((m: { status: string }) => m.status),
      ["ok", "differs", "down-failed", "differs", "ok"],
    );
    assert.ok(
      json.restarts >= 2,
      `rebuilt after the failing down and re-upgrade: ${json.restarts}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("verify names all of three defective downs in one run (embedded)", async () => {
  await verifyThree([]);
});

serverTest("verify names all of three defective downs in one run (server)", async () => {
  await verifyThree(["--scratch-url", serverUrl()]);
});
