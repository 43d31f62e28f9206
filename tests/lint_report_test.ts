/**
 * The pure parts of lint around the rules: which files a scope walks, how a
 * trace's observations join the findings, and the three output formats with
 * the exit verdict.
 */

import assert from "node:assert/strict";
import { StrataError } from "../lib/core/errors.ts";
import { loadMigrations } from "../lib/core/files.ts";
import type { FileLint } from "../lib/core/lint_check.ts";
import { type FileTrace, observeFile, type StatementTrace } from "../lib/core/lint_observe.ts";
import {
  hasFailed,
  type LintReport,
  renderGithub,
  renderText,
  reportJson,
} from "../lib/core/lint_report.ts";
import { lockModeName, RULES } from "../lib/core/lint_rules.ts";
import { planLintSteps } from "../lib/core/lint_scope.ts";
import type { Migration } from "../lib/core/types.ts";
import { lintSteps } from "../lib/lint/lint.ts";

const enc = new TextEncoder();

async function migrationsOf(files: Record<string, string>): Promise<readonly Migration[]> {
  const entries = Object.entries(files).map(([name, t]) => ({ name, bytes: enc.encode(t) }));
  const { migrations, problems } = await loadMigrations(entries);
  if (problems.length) throw problems[0];
  return migrations;
}

const FILES = {
  "0001_a.up.sql": "CREATE TABLE t (id int, b int);",
  "0001_a.down.sql": "DROP TABLE t;",
  "0002_b.up.sql":
    "-- lock-timeout: 1s\nCREATE INDEX t_b ON t (b);\nALTER TABLE t ADD COLUMN r float8 DEFAULT random();",
  "0003_c.up.sql": "SELECT 1;",
};

Deno.test("planLintSteps() all: every up file, each its own run", async () => {
  const steps = planLintSteps(await migrationsOf(FILES), { kind: "all" });
  assert.deepEqual(steps.map((s) => [s.migration.versionText, s.lint, s.newRun]), [
    ["0001", true, true],
    ["0002", true, true],
    ["0003", true, true],
  ]);
});

Deno.test("planLintSteps() pending: applied files for facts, pending ones as one run", async () => {
  const steps = planLintSteps(await migrationsOf(FILES), {
    kind: "pending",
    applied: new Set([1n]),
  });
  assert.deepEqual(steps.map((s) => [s.migration.versionText, s.lint, s.newRun]), [
    ["0001", false, false],
    ["0002", true, true],
    ["0003", true, false],
  ]);
  assert.deepEqual(
    planLintSteps(await migrationsOf(FILES), {
      kind: "pending",
      applied: new Set([1n, 2n, 3n]),
    }),
    [],
  );
});

Deno.test("planLintSteps() explicit: versions and file names, down files last", async () => {
  const steps = planLintSteps(await migrationsOf(FILES), {
    kind: "explicit",
    names: ["migrations/0001_a.down.sql", "2"],
  });
  assert.deepEqual(steps.map((s) => [s.migration.versionText, s.kind, s.lint, s.newRun]), [
    ["0001", "up", false, false],
    ["0002", "up", true, true],
    ["0001", "down", true, true],
  ]);
});

Deno.test("planLintSteps() refuses a name that matches no migration with UNKNOWN_TARGET", async () => {
  const migrations = await migrationsOf(FILES);
  for (const name of ["0009", "0002_other.up.sql"]) {
    assert.throws(
      () => planLintSteps(migrations, { kind: "explicit", names: [name] }),
      (err: unknown) => err instanceof StrataError && err.code === "UNKNOWN_TARGET",
    );
  }
});

async function lintOf(files: Record<string, string>): Promise<FileLint[]> {
  return await lintSteps(planLintSteps(await migrationsOf(files), { kind: "all" }), {
    pgVersion: 17,
  });
}

function statementTrace(index: number, over: Partial<StatementTrace>): StatementTrace {
  return { index, line: 1, taken: [], held: [], rewritten: [], scanned: [], error: null, ...over };
}

Deno.test("observeFile() marks findings the trace confirms, and those it does not", async () => {
  const [, lint] = await lintOf(FILES);
  const trace: FileTrace = {
    fileName: "0002_b.up.sql",
    mode: "transaction",
    statements: [
      statementTrace(0, {
        taken: [{ relation: "t", mode: "ShareLock" }],
        held: [{ relation: "t", mode: "ShareLock" }],
        scanned: ["t"],
      }),
      statementTrace(1, { held: [{ relation: "t", mode: "AccessExclusiveLock" }] }),
    ],
  };
  const findings = observeFile(lint, trace);
  assert.deepEqual(findings.map((f) => [f.rule, f.observed]), [
    ["index-not-concurrent", true],
    ["volatile-default", false],
  ]);
  assert.match(findings[0].evidence, /took SHARE on "t"; scanned "t"/);
  assert.deepEqual(observeFile(lint, undefined).map((f) => f.observed), [null, null]);
});

Deno.test("observeFile() adds what only the trace saw: rewrites, scans, strong locks", async () => {
  const [hidden, attach] = await lintOf({
    "0001_a.up.sql": "DO $$ BEGIN EXECUTE 'ALTER TABLE t ALTER b TYPE bigint'; END $$;",
    "0002_b.up.sql": "-- lock-timeout: 1s\n" +
      "ALTER TABLE t ATTACH PARTITION p1 FOR VALUES IN (1);\nTRUNCATE t;",
  });
  const rewrite: FileTrace = {
    fileName: "0001_a.up.sql",
    mode: "transaction",
    statements: [statementTrace(0, {
      taken: [{ relation: "t", mode: "AccessExclusiveLock" }],
      held: [{ relation: "t", mode: "AccessExclusiveLock" }],
      rewritten: [{ relation: "t", isTable: true }, { relation: "t_pkey", isTable: false }],
      scanned: ["t"],
    })],
  };
  assert.deepEqual(observeFile(hidden, rewrite).map((f) => [f.rule, f.relations, f.observed]), [
    ["unexpected-rewrite", ["t"], true],
    ["no-lock-timeout", ["t"], true],
  ]);
  const scan: FileTrace = {
    fileName: "0002_b.up.sql",
    mode: "transaction",
    statements: [
      statementTrace(0, {
        taken: [{ relation: "p1", mode: "AccessExclusiveLock" }],
        held: [{ relation: "p1", mode: "AccessExclusiveLock" }],
        scanned: ["p1"],
      }),
      statementTrace(1, { rewritten: [{ relation: "t", isTable: true }] }),
    ],
  };
  assert.deepEqual(observeFile(attach, scan).map((f) => [f.statement, f.rule]), [
    [0, "unexpected-scan"],
  ]);
});

Deno.test("observeFile() ignores scans under weak locks (VALIDATE CONSTRAINT is the safe form)", async () => {
  const [lint] = await lintOf({ "0001_a.up.sql": "ALTER TABLE t VALIDATE CONSTRAINT c;" });
  const trace: FileTrace = {
    fileName: "0001_a.up.sql",
    mode: "transaction",
    statements: [statementTrace(0, {
      taken: [{ relation: "t", mode: "ShareUpdateExclusiveLock" }],
      held: [{ relation: "t", mode: "ShareUpdateExclusiveLock" }],
      scanned: ["t"],
    })],
  };
  assert.deepEqual(observeFile(lint, trace), []);
});

function reportOf(lints: readonly FileLint[]): LintReport {
  return {
    scope: "all",
    pgVersion: 15,
    versionSource: "option",
    trace: null,
    files: lints.map((l) => ({
      fileName: l.file.fileName,
      path: `db/migrations/${l.file.fileName}`,
      runs: l.file.runMode.reason,
      findings: observeFile(l, undefined),
      trace: null,
    })),
  };
}

Deno.test("renderText() groups by file with path:line:col, a caret, the lock and the safe form", async () => {
  const text = renderText(reportOf(await lintOf(FILES)), { color: false });
  assert.match(text, /^db\/migrations\/0002_b\.up\.sql \(runs in strata's transaction\)$/m);
  assert.match(
    text,
    /^ {2}db\/migrations\/0002_b\.up\.sql:2:1: error\[index-not-concurrent\]: CREATE INDEX "t_b"/m,
  );
  assert.match(text, /^ {4}2 \| CREATE INDEX t_b ON t \(b\);\n {4} {2}\| \^$/m);
  assert.match(text, /^ {4}lock: SHARE: blocks writes for the whole build$/m);
  assert.match(text, /^ {4}safe: CREATE INDEX CONCURRENTLY/m);
  assert.doesNotMatch(text, /0001_a|0003_c/);
  assert.match(
    text,
    /^lint: 3 files \(all\), 2 errors, 0 warnings, 0 suppressed; PostgreSQL 15 \(from --pg-version\)$/m,
  );
});

Deno.test("renderGithub() writes one escaped workflow command per finding", async () => {
  const lints = await lintOf({ "0001_a.up.sql": 'ALTER TABLE "a,b" ADD COLUMN d int NOT NULL;' });
  const out = renderGithub(reportOf(lints)).split("\n");
  assert.match(
    out[0],
    /^::warning file=db\/migrations\/0001_a\.up\.sql,line=1,col=1,title=strata lint%3A no-lock-timeout::/,
  );
  assert.equal(
    out[1],
    "::error file=db/migrations/0001_a.up.sql,line=1,col=30,title=strata lint%3A required-column::" +
      'ADD COLUMN "d" to "a,b" NOT NULL without a default: fails if the table has rows, and ' +
      "INSERTs of the running code (which do not name it) fail afterwards%0Alock: fails on a " +
      "non-empty table; old INSERTs break%0Asafe: a nullable column, or a non-volatile default",
  );
  assert.match(out[2], /^lint: 1 file/);
});

Deno.test("hasFailed() fails on errors, on warnings only with strict, never on suppressed ones", async () => {
  const warnings = await lintOf({ "0001_a.up.sql": "ALTER TABLE t ADD COLUMN d int;" });
  assert.equal(hasFailed(reportOf(warnings), { strict: false }), false);
  assert.equal(hasFailed(reportOf(warnings), { strict: true }), true);
  const suppressed = await lintOf({
    "0001_a.up.sql": "-- lint-ignore: index-not-concurrent -- tiny table\n-- lock-timeout: 1s\n" +
      "CREATE INDEX i ON t (b);",
  });
  assert.equal(hasFailed(reportOf(suppressed), { strict: true }), false);
  const json = reportJson(reportOf(suppressed), { strict: true });
  assert.deepEqual(json.summary, {
    files: 1,
    errors: 0,
    warnings: 0,
    suppressed: 1,
    observed: 0,
    failed: false,
  });
  assert.equal(json.files[0].findings[0].suppressed, "tiny table");
});

Deno.test("RULES has the issue's fifteen ids, each with a lock and a safe alternative", () => {
  const ids = RULES.map((r) => r.id);
  for (
    const id of [
      "index-not-concurrent",
      "drop-index-not-concurrent",
      "concurrently-in-transaction",
      "foreign-key-validated",
      "check-validated",
      "set-not-null",
      "volatile-default",
      "column-type-rewrite",
      "unique-constraint",
      "required-column",
      "no-lock-timeout",
      "rename",
      "drop-column-or-table",
      "rewrite-maintenance",
      "splitter-disagrees",
    ]
  ) assert.ok(ids.includes(id as never), id);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(RULES.every((r) => r.lock !== "" && r.safe !== "" && /^[a-z][a-z-]+$/.test(r.id)));
  assert.equal(lockModeName("ShareRowExclusiveLock"), "SHARE ROW EXCLUSIVE");
});
