/**
 * `lint --trace` on real databases: the embedded one (one PGlite for the
 * file) and the test server. The same walk runs on both: an applied setup
 * file, then pending files whose effects PostgreSQL must show: the SHARE lock
 * of a plain CREATE INDEX, the rewrite of a volatile default, the scan of a
 * validated ADD CHECK, a rewrite and a scan no rule predicts, and files that
 * run outside a transaction.
 */

import assert from "node:assert/strict";
import { parseDatabaseTarget } from "../lib/core/database_url.ts";
import { attachEnv } from "../lib/core/env_subst.ts";
import { loadMigrations } from "../lib/core/files.ts";
import { type Finding } from "../lib/core/lint_check.ts";
import { type FileTrace, observeFile } from "../lib/core/lint_observe.ts";
import { planLintSteps } from "../lib/core/lint_scope.ts";
import type { Db } from "../lib/core/types.ts";
import { openDb } from "../lib/db/open.ts";
import { prepareSession } from "../lib/db/session.ts";
import { lintSteps } from "../lib/lint/lint.ts";
import { traceSteps } from "../lib/lint/trace.ts";
import { PGLITE_CACHE, serverTest } from "./_helpers.ts";

const enc = new TextEncoder();

const FILES: Record<string, string> = {
  "0001_setup.up.sql": `CREATE TABLE t (id int PRIMARY KEY, b int);
INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;
CREATE TABLE p (id int) PARTITION BY LIST (id);
CREATE TABLE p1 (id int);`,
  "0002_index.up.sql": "-- lock-timeout: 1s\nCREATE INDEX t_b ON t (b);",
  "0003_default.up.sql": "ALTER TABLE t ADD COLUMN r float8 DEFAULT random();",
  "0004_check.up.sql": "ALTER TABLE t ADD CONSTRAINT b_pos CHECK (b > 0);",
  "0005_hidden.up.sql": "DO $$ BEGIN EXECUTE 'ALTER TABLE t ALTER COLUMN b TYPE bigint'; END $$;",
  "0006_attach.up.sql": "-- lock-timeout: 1s\nALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);",
  "0007_concurrently.up.sql": "CREATE INDEX CONCURRENTLY t_r ON t (r);",
  "0008_vacuum.up.sql": "VACUUM FULL t;",
};

interface Walked {
  readonly findings: ReadonlyMap<string, Finding[]>;
  readonly traces: ReadonlyMap<string, FileTrace>;
  readonly error: string | null;
  readonly server: string;
}

/** Lint and trace FILES on `db` with 0001 applied; findings by file name. */
async function walk(db: Db, table: string): Promise<Walked> {
  const entries = Object.entries(FILES).map(([name, t]) => ({ name, bytes: enc.encode(t) }));
  const { migrations, problems } = await loadMigrations(entries);
  assert.deepEqual(problems, []);
  const steps = planLintSteps(migrations, { kind: "pending", applied: new Set([1n]) });
  const lints = await lintSteps(steps, { pgVersion: 17 });
  await prepareSession(db, { writable: true });
  const result = await traceSteps(db, steps, {
    table: { schema: "public", name: table },
    strataVersion: "test",
    dir: "migrations",
  });
  const findings = new Map(
    lints.map((l) => [l.file.fileName, observeFile(l, result.traces.get(l.file.fileName))]),
  );
  return { findings, traces: result.traces, error: result.error, server: result.server };
}

function verdicts(w: Walked, file: string): Array<[string, boolean | null]> {
  return (w.findings.get(file) ?? []).map((f) => [f.rule, f.observed]);
}

function assertWalk(w: Walked): void {
  assert.equal(w.error, null);
  assert.deepEqual(verdicts(w, "0002_index.up.sql"), [["index-not-concurrent", true]]);
  const index = w.traces.get("0002_index.up.sql")!.statements[0];
  assert.deepEqual(index.taken, [{ relation: "t", mode: "ShareLock" }]);
  assert.deepEqual(index.scanned, ["t"]);
  assert.deepEqual(verdicts(w, "0003_default.up.sql"), [
    ["no-lock-timeout", true],
    ["volatile-default", true],
  ]);
  assert.ok(
    w.traces.get("0003_default.up.sql")!.statements[0].rewritten.some((r) =>
      r.relation === "t" && r.isTable
    ),
  );
  assert.deepEqual(verdicts(w, "0004_check.up.sql"), [
    ["no-lock-timeout", true],
    ["check-validated", true],
  ]);
  assert.deepEqual(w.traces.get("0004_check.up.sql")!.statements[0].rewritten, []);
  assert.deepEqual(verdicts(w, "0005_hidden.up.sql"), [
    ["unexpected-rewrite", true],
    ["no-lock-timeout", true],
  ]);
  assert.deepEqual(verdicts(w, "0006_attach.up.sql"), [["unexpected-scan", true]]);
  const concurrently = w.traces.get("0007_concurrently.up.sql")!;
  assert.equal(concurrently.mode, "statements");
  assert.equal(concurrently.statements[0].taken, null);
  assert.deepEqual(verdicts(w, "0007_concurrently.up.sql"), []);
  assert.deepEqual(verdicts(w, "0008_vacuum.up.sql"), [["rewrite-maintenance", true]]);
}

const pglite = await openDb(parseDatabaseTarget("pglite:memory", "test"), {
  cacheDir: PGLITE_CACHE,
});

Deno.test({
  name: "traceSteps() on pglite:memory observes locks, rewrites and scans per statement",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    try {
      const w = await walk(pglite, "strata_migrations");
      assertWalk(w);
      assert.match(w.server, /^PostgreSQL \d+\.\d+ \(PGlite/);
    } finally {
      await pglite.close();
    }
  },
});

serverTest(
  "traceSteps() on a server observes locks, rewrites and scans per statement",
  async (t) => {
    const db = await openDb(parseDatabaseTarget(t.url, "test"));
    try {
      const w = await walk(db, "strata_migrations");
      assertWalk(w);
      assert.match(w.server, /^PostgreSQL \d+/);
      const [row] = await t.sql`SELECT count(*)::int AS n FROM strata_migrations`;
      assert.equal(row.n, 6, "the setup and the transactional files were applied, the others ran");
    } finally {
      await db.close();
    }
  },
);

serverTest("traceSteps() stops at a file that fails and says which", async (t) => {
  const db = await openDb(parseDatabaseTarget(t.url, "test"));
  try {
    const entries = [
      { name: "0001_a.up.sql", bytes: enc.encode("CREATE TABLE t (id int);") },
      { name: "0002_b.up.sql", bytes: enc.encode("ALTER TABLE missing ADD COLUMN x int;") },
      { name: "0003_c.up.sql", bytes: enc.encode("CREATE INDEX i ON t (id);") },
    ];
    const { migrations } = await loadMigrations(entries);
    const steps = planLintSteps(migrations, { kind: "all" });
    await prepareSession(db, { writable: true });
    const result = await traceSteps(db, steps, {
      table: { schema: "public", name: "strata_migrations" },
      strataVersion: "test",
      dir: "migrations",
    });
    assert.match(result.error ?? "", /"0002_b\.up\.sql" failed: relation "missing" does not exist/);
    assert.deepEqual([...result.traces.keys()], ["0001_a.up.sql", "0002_b.up.sql"]);
    assert.equal(result.traces.get("0002_b.up.sql")!.statements[0].error?.sqlstate, "42P01");
  } finally {
    await db.close();
  }
});

serverTest(
  "lint and traceSteps() read ${NAME} of the env header as written, and run its value",
  async (t) => {
    const db = await openDb(parseDatabaseTarget(t.url, "test"));
    try {
      const entries = [
        ["0001_a.up.sql", "-- env: APP_TABLE\nCREATE TABLE ${APP_TABLE} (id int, b int);"],
        [
          "0002_b.up.sql",
          "-- env: APP_TABLE\n-- lock-timeout: 1s\nCREATE INDEX ON ${APP_TABLE} (b);",
        ],
      ].map(([name, text]) => ({ name, bytes: enc.encode(text) }));
      const loaded = await loadMigrations(entries);
      const migrations = attachEnv(loaded.migrations, { APP_TABLE: "things" });
      const steps = planLintSteps(migrations, { kind: "all" });
      const lints = await lintSteps(steps, { pgVersion: 17 });
      await prepareSession(db, { writable: true });
      const result = await traceSteps(db, steps, {
        table: { schema: "public", name: "strata_migrations" },
        strataVersion: "test",
        dir: "migrations",
      });
      assert.equal(result.error, null);
      const [finding] = observeFile(lints[1], result.traces.get("0002_b.up.sql"));
      assert.equal(finding.rule, "index-not-concurrent");
      assert.deepEqual(finding.relations, ["${APP_TABLE}"]);
      assert.match(finding.message, /on "\$\{APP_TABLE\}"/);
      assert.equal(finding.observed, true);
      assert.match(finding.evidence, /took SHARE on "things"/);
    } finally {
      await db.close();
    }
  },
);
