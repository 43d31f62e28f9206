/**
 * The lint rules on PostgreSQL's parser: each rule fires on its unsafe form,
 * is silent on the safe form, and is silent on tables created earlier in
 * the same file or in the same run. Also the context: server version,
 * schema facts from earlier files, lock timeouts, suppression, and the
 * splitter check.
 */

import assert from "node:assert/strict";
import { loadMigrations } from "../lib/core/files.ts";
import type { Finding } from "../lib/core/lint_check.ts";
import { type LintScope, planLintSteps } from "../lib/core/lint_scope.ts";
import { StrataError } from "../lib/core/errors.ts";
import { lintSteps } from "../lib/lint/lint.ts";
import { loadParser, parseFile } from "../lib/lint/parse.ts";

const enc = new TextEncoder();

/** Tables (and indexes) that exist before the file under test. */
const SETUP = `CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b int, c text);
CREATE TABLE u (id int PRIMARY KEY);
CREATE TABLE v (id int);
CREATE INDEX t_a ON t (a);
CREATE INDEX t_c_idx ON t (c);
`;
const NEW_TABLE = "CREATE TABLE n (id int, b int, c text);";

function fileName(i: number): string {
  return `${String(i + 1).padStart(4, "0")}_m.up.sql`;
}

/**
 * Lint `texts` as files 0001, 0002, ...: each its own run (`--all`), or, with
 * `run`, the 1-based files listed as one run after the others.
 */
async function lintTexts(
  texts: readonly string[],
  options: { run?: number[]; pgVersion?: number } = {},
): Promise<Finding[][]> {
  const entries = texts.map((t, i) => ({ name: fileName(i), bytes: enc.encode(t) }));
  const { migrations, problems } = await loadMigrations(entries);
  if (problems.length) throw problems[0];
  const scope: LintScope = options.run
    ? { kind: "explicit", names: options.run.map((i) => fileName(i - 1)) }
    : { kind: "all" };
  const lints = await lintSteps(planLintSteps(migrations, scope), {
    pgVersion: options.pgVersion ?? 17,
  });
  return lints.map((l) => [...l.findings]);
}

/** The rule ids of the last file after SETUP (and any files in between). */
async function rulesOf(files: string | string[], pgVersion = 17): Promise<string[]> {
  const texts = [SETUP, ...(Array.isArray(files) ? files : [files])];
  const all = await lintTexts(texts, { pgVersion });
  return all.at(-1)!.map((f) => f.rule);
}

interface RuleCase {
  readonly rule: string;
  readonly fires: readonly string[];
  readonly safe: ReadonlyArray<string | string[]>;
  /** Statements on table `n` (see NEW_TABLE); undefined where newness cannot help. */
  readonly onNew?: string;
}

const CASES: readonly RuleCase[] = [
  {
    rule: "index-not-concurrent",
    fires: ["CREATE INDEX t_b ON t (b);", "CREATE UNIQUE INDEX ON t (b);"],
    safe: ["CREATE INDEX CONCURRENTLY t_b ON t (b);"],
    onNew: "CREATE INDEX n_b ON n (b);",
  },
  {
    rule: "drop-index-not-concurrent",
    fires: ["DROP INDEX t_a;"],
    safe: ["DROP INDEX CONCURRENTLY t_a;"],
    onNew: "CREATE INDEX n_b ON n (b);\nDROP INDEX n_b;",
  },
  {
    rule: "concurrently-in-transaction",
    fires: [
      "-- transaction: false\nBEGIN;\nCREATE INDEX CONCURRENTLY t_b ON t (b);\nCOMMIT;",
      "-- transaction: false\nBEGIN;\nDROP INDEX CONCURRENTLY t_a;\nCOMMIT;",
      "-- transaction: false\nSTART TRANSACTION;\nREINDEX TABLE CONCURRENTLY t;\nCOMMIT;",
    ],
    safe: [
      "CREATE INDEX CONCURRENTLY t_b ON t (b);",
      "-- transaction: false\nCREATE INDEX CONCURRENTLY t_b ON t (b);\nSELECT 1;",
    ],
  },
  {
    rule: "foreign-key-validated",
    fires: [
      "ALTER TABLE t ADD CONSTRAINT t_b_fk FOREIGN KEY (b) REFERENCES u (id);",
      "ALTER TABLE t ADD COLUMN uid int REFERENCES u (id);",
    ],
    safe: ["ALTER TABLE t ADD CONSTRAINT t_b_fk FOREIGN KEY (b) REFERENCES u (id) NOT VALID;"],
    onNew: "ALTER TABLE n ADD FOREIGN KEY (b) REFERENCES u (id);",
  },
  {
    rule: "check-validated",
    fires: [
      "ALTER TABLE t ADD CONSTRAINT b_pos CHECK (b > 0);",
      "ALTER TABLE t ADD COLUMN d int CHECK (d > 0);",
    ],
    safe: [
      "ALTER TABLE t ADD CONSTRAINT b_pos CHECK (b > 0) NOT VALID;",
      "ALTER TABLE t VALIDATE CONSTRAINT b_pos;",
    ],
    onNew: "ALTER TABLE n ADD CONSTRAINT b_pos CHECK (b > 0);",
  },
  {
    rule: "set-not-null",
    fires: ["ALTER TABLE t ALTER COLUMN b SET NOT NULL;"],
    safe: [[
      "ALTER TABLE t ADD CONSTRAINT b_nn CHECK (b IS NOT NULL) NOT VALID;",
      "ALTER TABLE t VALIDATE CONSTRAINT b_nn;",
      "ALTER TABLE t ALTER COLUMN b SET NOT NULL;",
    ]],
    onNew: "ALTER TABLE n ALTER COLUMN b SET NOT NULL;",
  },
  {
    rule: "volatile-default",
    fires: [
      "ALTER TABLE t ADD COLUMN r float8 DEFAULT random();",
      "ALTER TABLE t ADD COLUMN g uuid DEFAULT gen_random_uuid();",
      "ALTER TABLE t ADD COLUMN s bigserial;",
      "ALTER TABLE t ADD COLUMN i int GENERATED ALWAYS AS IDENTITY;",
      "ALTER TABLE t ADD COLUMN h int GENERATED ALWAYS AS (b * 2) STORED;",
    ],
    safe: [
      "ALTER TABLE t ADD COLUMN at timestamptz DEFAULT now();",
      "ALTER TABLE t ADD COLUMN k text NOT NULL DEFAULT 'x';",
      "ALTER TABLE t ADD COLUMN r float8;\nALTER TABLE t ALTER COLUMN r SET DEFAULT random();",
    ],
    onNew: "ALTER TABLE n ADD COLUMN r float8 DEFAULT random();",
  },
  {
    rule: "column-type-rewrite",
    fires: [
      "ALTER TABLE t ALTER COLUMN b TYPE bigint;",
      "ALTER TABLE t ALTER COLUMN c TYPE int USING c::int;",
      "ALTER TABLE t ALTER COLUMN a TYPE varchar(5);",
    ],
    safe: [
      "ALTER TABLE t ALTER COLUMN a TYPE text;",
      "ALTER TABLE t ALTER COLUMN a TYPE varchar(20);",
      "ALTER TABLE t ALTER COLUMN c TYPE varchar;",
    ],
    onNew: "ALTER TABLE n ALTER COLUMN b TYPE bigint;",
  },
  {
    rule: "unique-constraint",
    fires: [
      "ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE (c);",
      "ALTER TABLE v ADD PRIMARY KEY (id);",
      "ALTER TABLE t ADD COLUMN e int UNIQUE;",
    ],
    safe: ["ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE USING INDEX t_c_idx;"],
    onNew: "ALTER TABLE n ADD PRIMARY KEY (id);",
  },
  {
    rule: "required-column",
    fires: ["ALTER TABLE t ADD COLUMN d int NOT NULL;"],
    safe: ["ALTER TABLE t ADD COLUMN d int NOT NULL DEFAULT 0;", "ALTER TABLE t ADD COLUMN d int;"],
    onNew: "ALTER TABLE n ADD COLUMN d int NOT NULL;",
  },
  {
    rule: "no-lock-timeout",
    fires: [
      "ALTER TABLE t ADD COLUMN d int;",
      "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();",
      "CREATE TABLE w (uid int REFERENCES u (id));",
      "SET lock_timeout = 0;\nALTER TABLE t ADD COLUMN d int;",
      "-- transaction: false\nSET LOCAL lock_timeout = '2s';\nALTER TABLE t ADD COLUMN d int;",
    ],
    safe: [
      "-- lock-timeout: 2s\nALTER TABLE t ADD COLUMN d int;",
      "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN d int;",
      "SET LOCAL lock_timeout TO 500;\nALTER TABLE t ADD COLUMN d int;",
      "ALTER TABLE t VALIDATE CONSTRAINT b_pos;",
    ],
    onNew: "ALTER TABLE n ADD COLUMN d int;",
  },
  {
    rule: "rename",
    fires: ["ALTER TABLE t RENAME COLUMN c TO cc;", "ALTER TABLE t RENAME TO tt;"],
    safe: ["ALTER TABLE t ADD COLUMN cc text;", "ALTER INDEX t_a RENAME TO t_a_idx;"],
    onNew: "ALTER TABLE n RENAME COLUMN c TO cc;\nALTER TABLE n RENAME TO nn;",
  },
  {
    rule: "drop-column-or-table",
    fires: ["ALTER TABLE t DROP COLUMN c;", "DROP TABLE u;"],
    safe: ["ALTER TABLE t ADD COLUMN tmp int;\nALTER TABLE t DROP COLUMN tmp;"],
    onNew: "ALTER TABLE n DROP COLUMN c;\nDROP TABLE n;",
  },
  {
    rule: "rewrite-maintenance",
    fires: [
      "VACUUM FULL t;",
      "VACUUM (FULL, ANALYZE) t;",
      "CLUSTER t USING t_pkey;",
      "REINDEX TABLE t;",
      "ALTER TABLE t SET TABLESPACE pg_default;",
      "ALTER TABLE t DETACH PARTITION t_1;",
    ],
    safe: [
      "REINDEX TABLE CONCURRENTLY t;",
      "VACUUM (ANALYZE) t;",
      "ALTER TABLE t DETACH PARTITION t_1 CONCURRENTLY;",
    ],
    onNew: "CLUSTER n USING n_pkey;\nREINDEX TABLE n;",
  },
  {
    rule: "syntax-error",
    fires: ["SELEC 1;", "ALTER TABLE t ADD COLUMN w int GENERATED ALWAYS AS (b) VIRTUAL;"],
    safe: ["SELECT 1;"],
  },
];

for (const c of CASES) {
  Deno.test(`lint rule ${c.rule} fires on the unsafe form`, async () => {
    for (const sql of c.fires) {
      assert.ok((await rulesOf(sql)).includes(c.rule), `expected ${c.rule} for:\n${sql}`);
    }
  });
  Deno.test(`lint rule ${c.rule} is silent on the safe form`, async () => {
    for (const sql of c.safe) {
      assert.ok(!(await rulesOf(sql)).includes(c.rule), `unexpected ${c.rule} for:\n${sql}`);
    }
  });
  if (c.onNew === undefined) continue;
  const onNew = c.onNew;
  Deno.test(`lint rule ${c.rule} is silent on a table created earlier in the file`, async () => {
    assert.ok(!(await rulesOf(`${NEW_TABLE}\n${onNew}`)).includes(c.rule));
  });
  Deno.test(`lint rule ${c.rule} is silent on a table created earlier in the run`, async () => {
    const [, last] = await lintTexts([SETUP, NEW_TABLE, onNew], { run: [2, 3] });
    assert.ok(!last.map((f): string => f.rule).includes(c.rule));
  });
}

Deno.test("lint rule concurrently-in-transaction fires on new tables too (it fails anyway)", async () => {
  const sql =
    `-- transaction: false\nBEGIN;\n${NEW_TABLE}\nCREATE INDEX CONCURRENTLY n_b ON n (b);\n` +
    "COMMIT;";
  assert.ok((await rulesOf(sql)).includes("concurrently-in-transaction"));
});

Deno.test("lint --all treats tables made by earlier files as existing", async () => {
  const [, , last] = await lintTexts([SETUP, NEW_TABLE, "CREATE INDEX n_b ON n (b);"]);
  assert.deepEqual(last.map((f) => f.rule), ["index-not-concurrent"]);
});

Deno.test("lint finding points at file line and column, counting characters not bytes", async () => {
  const [, findings] = await lintTexts([
    SETUP,
    "-- message: é 😀\n\nSELECT '😀é'; ALTER TABLE t ADD COLUMN d int NOT NULL;",
  ]);
  const f = findings.find((x) => x.rule === "required-column")!;
  assert.equal(f.line, 3);
  assert.equal(f.column, 39);
  assert.equal(f.lineText, "SELECT '😀é'; ALTER TABLE t ADD COLUMN d int NOT NULL;");
});

Deno.test("lint rule severities: errors for locks and rewrites, warnings for uncertain cases", async () => {
  const [, findings] = await lintTexts([
    SETUP,
    "-- lock-timeout: 1s\nALTER TABLE t ADD COLUMN r float8 DEFAULT random(), " +
    "ADD COLUMN m int DEFAULT my_counter();\nALTER TABLE legacy ALTER COLUMN x TYPE text;",
  ]);
  assert.deepEqual(findings.map((f) => [f.rule, f.severity]), [
    ["volatile-default", "error"],
    ["volatile-default", "warning"],
    ["column-type-rewrite", "warning"],
  ]);
});

Deno.test("lint advice follows the server version", async () => {
  assert.ok(
    (await rulesOf("ALTER TABLE t ADD COLUMN k text DEFAULT 'x';", 10)).includes(
      "volatile-default",
    ),
  );
  const [, before12] = await lintTexts([
    SETUP,
    "ALTER TABLE t ADD CONSTRAINT b_nn CHECK (b IS NOT NULL);\nALTER TABLE t ALTER COLUMN b SET NOT NULL;",
  ], { pgVersion: 11 });
  const setNotNull = before12.find((f) => f.rule === "set-not-null")!;
  assert.match(setNotNull.safe, /PostgreSQL 11 always scans/);
  const [, reindex] = await lintTexts([SETUP, "REINDEX TABLE t;"], { pgVersion: 11 });
  assert.match(reindex[0].safe, /needs PostgreSQL 12/);
  const [, detach] = await lintTexts([SETUP, "ALTER TABLE t DETACH PARTITION t_1;"], {
    pgVersion: 13,
  });
  assert.match(detach.find((f) => f.rule === "rewrite-maintenance")!.safe, /needs PostgreSQL 14/);
});

Deno.test("lint follows column types through renames in earlier files", async () => {
  const all = await lintTexts([
    SETUP,
    "ALTER TABLE t RENAME COLUMN a TO title;\nALTER TABLE t RENAME TO posts;",
    "-- lock-timeout: 1s\nALTER TABLE posts ALTER COLUMN title TYPE varchar(50);",
    "-- lock-timeout: 1s\nALTER TABLE posts ALTER COLUMN title TYPE varchar(20);",
  ]);
  assert.deepEqual(all[2].map((f) => f.rule), []);
  assert.deepEqual(all[3].map((f) => f.rule), ["column-type-rewrite"]);
});

Deno.test("lint reports no-lock-timeout once per file, at the first strong lock", async () => {
  const [, findings] = await lintTexts([
    SETUP,
    "SELECT 1;\nALTER TABLE t ADD COLUMN d int;\nALTER TABLE u ADD COLUMN e int;",
  ]);
  const timeouts = findings.filter((f) => f.rule === "no-lock-timeout");
  assert.equal(timeouts.length, 1);
  assert.equal(timeouts[0].line, 2);
  assert.deepEqual(timeouts[0].relations, ["t"]);
});

Deno.test("lint-ignore header suppresses the rules it names, with its reason", async () => {
  const [, findings] = await lintTexts([
    SETUP,
    "-- lint-ignore: index-not-concurrent, no-lock-timeout -- t holds 40 rows\n" +
    "CREATE INDEX t_b ON t (b);\nALTER TABLE t DROP COLUMN c;",
  ]);
  const byRule = new Map(findings.map((f) => [f.rule, f.suppressed]));
  assert.equal(byRule.get("index-not-concurrent"), "t holds 40 rows");
  assert.equal(byRule.get("drop-column-or-table"), null);
});

Deno.test("lint-ignore header naming an unknown rule is HEADER_BAD_VALUE with the line", async () => {
  await assert.rejects(
    lintTexts([SETUP, "-- message: x\n-- lint-ignore: index-not-concurent -- small\nSELECT 1;"]),
    (err: unknown) => {
      assert.ok(err instanceof StrataError);
      assert.equal(err.code, "HEADER_BAD_VALUE");
      assert.equal(err.line, 2);
      assert.match(err.message, /unknown rule "index-not-concurent"/);
      assert.match(err.hint ?? "", /Did you mean "index-not-concurrent"/);
      return true;
    },
  );
});

Deno.test("lint walks files before the run for facts only: their headers and findings are not checked", async () => {
  const all = await lintTexts([
    "-- lint-ignore: no-such-rule -- old file\n" + SETUP + "CREATE INDEX t_b ON t (b);",
    "CREATE INDEX t_d ON t (d);",
  ], { run: [2] });
  assert.equal(all.length, 1);
  assert.deepEqual(all[0].map((f) => f.rule), ["index-not-concurrent"]);
});

Deno.test("parseFile() reports splitter-disagrees where the parser starts a statement elsewhere", async () => {
  const parse = await loadParser();
  const text = "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n";
  const { migrations } = await loadMigrations([{ name: "0001_m.up.sql", bytes: enc.encode(text) }]);
  // A parser that ends the first statement one byte early (what a lexing bug looks like).
  const shifted = (sql: string) => {
    const tree = parse(sql) as { stmts: Array<Record<string, unknown>> };
    if (tree.stmts.length === 2) tree.stmts[1] = { ...tree.stmts[1], stmt_location: 22 };
    return tree;
  };
  const parsed = parseFile(shifted, migrations[0].up);
  assert.equal(parsed.disagreement?.rule, "splitter-disagrees");
  assert.match(
    parsed.disagreement!.message,
    /statement 2: strata starts it at line 1, column 24, the parser at line 1, column 23/,
  );
  assert.equal(parseFile(parse, migrations[0].up).disagreement, null);
});

Deno.test("parseFile() agrees with strata's split on dollar quotes, E'' strings and BEGIN ATOMIC", async () => {
  const parse = await loadParser();
  const text =
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n" +
    "DO $x$ BEGIN RAISE NOTICE 'a;b'; END $x$;\nSELECT E'it\\'s; here', 'x'\n'y';;\nSELECT 3";
  const { migrations, problems } = await loadMigrations([{
    name: "0001_m.up.sql",
    bytes: enc.encode(text),
  }]);
  assert.deepEqual(problems, []);
  const parsed = parseFile(parse, migrations[0].up);
  assert.equal(parsed.disagreement, null);
  assert.equal(parsed.statements.length, 4);
  assert.ok(parsed.statements.every((s) => s.tree !== null));
});

Deno.test("parseFile() parses env placeholders as identifiers of the same length", async () => {
  const parse = await loadParser();
  const text = "-- env: APP_ROLE\nGRANT SELECT ON t TO ${APP_ROLE};\nCREATE INDEX i ON t (a);";
  const { migrations } = await loadMigrations([{ name: "0001_m.up.sql", bytes: enc.encode(text) }]);
  const parsed = parseFile(parse, migrations[0].up);
  assert.ok(parsed.statements.every((s) => s.tree !== null && !s.error));
});
