import assert from "node:assert/strict";
import { decideRunMode, transactionBlocks } from "../lib/core/run_mode.ts";
import { splitStatements } from "../lib/core/sql_lexer.ts";
import { parseHeader } from "../lib/core/header.ts";
import { StrataError } from "../lib/core/errors.ts";
import type { RunMode } from "../lib/core/types.ts";

function decide(text: string): RunMode {
  const file = "0004_x.up.sql";
  return decideRunMode(text, splitStatements(text).filter((s) => !s.isEmpty), {
    header: parseHeader(text, file),
    file,
  });
}

function refusal(text: string): StrataError {
  try {
    decide(text);
  } catch (err) {
    assert.ok(err instanceof StrataError);
    return err;
  }
  throw new Error("expected a refusal");
}

Deno.test("decideRunMode() runs plain SQL in strata's transaction", () => {
  const m = decide("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);");
  assert.equal(m.kind, "transaction");
  assert.equal(m.unwrapped, false);
});

Deno.test("decideRunMode() treats an empty or comment-only file as a transactional no-op", () => {
  assert.equal(decide("").kind, "transaction");
  assert.equal(decide("-- nothing to do\n").kind, "transaction");
});

Deno.test("decideRunMode() drops a redundant BEGIN/COMMIT wrapper, keeping positions", () => {
  for (
    const [open, close] of [["BEGIN;", "COMMIT;"], ["START TRANSACTION;", "END;"], [
      "begin work;",
      "commit work;",
    ]]
  ) {
    const text = `${open}\nCREATE TABLE t (a int);\n${close}\n`;
    const m = decide(text);
    assert.equal(m.kind, "transaction");
    assert.equal(m.unwrapped, true);
    assert.equal(m.body.length, text.length);
    assert.equal(m.body.split("\n")[1], "CREATE TABLE t (a int);");
    assert.ok(!/begin|commit|end|start/i.test(m.body.replace("CREATE TABLE t (a int);", "")));
  }
});

Deno.test("decideRunMode() runs a file of only no-transaction statements outside a transaction", () => {
  const m = decide("CREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);");
  assert.equal(m.kind, "none");
  assert.match(m.reason, /cannot run in a transaction block/);
});

Deno.test("decideRunMode() follows transaction: false exactly as written", () => {
  const m = decide(
    "-- transaction: false\nBEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);",
  );
  assert.equal(m.kind, "none");
  assert.equal(m.unwrapped, false);
});

Deno.test("decideRunMode() refuses mixed files without a header, naming line and fix", () => {
  const err = refusal("CREATE TABLE t (a int);\n\nCREATE INDEX CONCURRENTLY i ON t (a);");
  assert.equal(err.code, "RUN_MODE_REFUSED");
  assert.equal(err.line, 3);
  assert.match(err.message, /"0004_x.up.sql" line 3/);
  assert.match(err.hint!, /-- transaction: false/);
  const err2 = refusal("SELECT 1;\nCOMMIT;\nSELECT 2;");
  assert.equal(err2.line, 2);
  assert.match(err2.message, /transaction control "COMMIT"/);
});

Deno.test("decideRunMode() refuses a wrapper with other transaction control inside", () => {
  assert.equal(
    refusal("BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;").code,
    "RUN_MODE_REFUSED",
  );
  assert.equal(
    refusal("BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;").code,
    "RUN_MODE_REFUSED",
  );
  assert.equal(refusal("BEGIN;\nSELECT 1;\nROLLBACK;").code, "RUN_MODE_REFUSED");
});

Deno.test("decideRunMode() with transaction: true allows only plain and wrapped files", () => {
  assert.equal(decide("-- transaction: true\nSELECT 1;").kind, "transaction");
  assert.equal(decide("-- transaction: true\nBEGIN;\nSELECT 1;\nCOMMIT;").unwrapped, true);
  const err = refusal("-- transaction: true\nCREATE INDEX CONCURRENTLY i ON t (a);");
  assert.match(err.message, /conflicts with "transaction: true"/);
});

Deno.test("decideRunMode() refuses psql meta-commands and COPY FROM stdin", () => {
  const meta = refusal("SELECT 1;\n\\set x 1\nSELECT :x;");
  assert.equal(meta.code, "PSQL_FEATURE");
  assert.equal(meta.line, 2);
  const copy = refusal("COPY t (a) FROM stdin;\n1\n\\.\n");
  assert.equal(copy.code, "PSQL_FEATURE");
  assert.match(copy.message, /COPY \.\.\. FROM stdin/);
});

Deno.test("transactionBlocks() keeps the file's block open across ROLLBACK [WORK | TRANSACTION] TO", () => {
  for (
    const verb of [
      "ROLLBACK TO",
      "ROLLBACK TO SAVEPOINT",
      "ROLLBACK WORK TO",
      "ROLLBACK TRANSACTION TO SAVEPOINT",
    ]
  ) {
    const text = `BEGIN;\nSAVEPOINT s;\n${verb} s;\nINSERT INTO t VALUES (1);\nCOMMIT;\nSELECT 1;`;
    const statements = splitStatements(text).filter((s) => !s.isEmpty);
    // Statements 1-4 are inside the block opened by statement 0; only the last one is not.
    assert.deepEqual(transactionBlocks(statements, "x.up.sql"), [null, 0, 0, 0, 0, null], verb);
    // A file that only rolls back to a savepoint never closes its block: refused.
    const open = splitStatements(`BEGIN;\nSAVEPOINT s;\n${verb} s;`).filter((s) => !s.isEmpty);
    assert.throws(() => transactionBlocks(open, "x.up.sql"), /is never committed/, verb);
  }
  const closed = splitStatements("BEGIN;\nROLLBACK WORK;\nSELECT 1;").filter((s) => !s.isEmpty);
  assert.deepEqual(transactionBlocks(closed, "x.up.sql"), [null, 0, null]);
});

Deno.test("decideRunMode() refuses quoted, qualified, cast and pg_settings forms of the refused settings", () => {
  const lock = [
    'SELECT "pg_advisory_unlock_all"();',
    'SELECT pg_catalog."pg_advisory_unlock_all"();',
    "SELECT PG_ADVISORY_UNLOCK_ALL ( );",
    // Past the 64 words a statement keeps for classifying it.
    `SELECT ${Array.from({ length: 70 }, (_, i) => i).join(", ")}, pg_advisory_unlock_all();`,
  ];
  for (const stmt of lock) {
    assert.match(refusal(`CREATE TABLE b (id int);\n${stmt}`).message, /releases strata's/, stmt);
  }
  const off = [
    'SET "standard_conforming_strings" = off;',
    "SET LOCAL standard_conforming_strings TO off;",
    "SELECT set_config('standard_conforming_strings'::text, 'off', false);",
    "SELECT pg_catalog.set_config(E'standard_conforming_strings', E'off', false);",
    "SELECT pg_catalog.\"set_config\"('standard_conforming_strings', 'off', false);",
    "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings';",
    'RESET "standard_conforming_strings";',
  ];
  for (const stmt of off) {
    const err = refusal(`CREATE TABLE b (id int);\n${stmt}`);
    assert.equal(err.code, "SETTING_REFUSED", stmt);
    assert.match(err.message, /line 2: it turns standard_conforming_strings off/, stmt);
  }
  // Turning it on, other settings, and the name in a string are not refused.
  for (
    const ok of [
      'SET "standard_conforming_strings" = on;',
      "SELECT set_config('standard_conforming_strings'::text, 'on', false);",
      "UPDATE pg_settings SET setting = '1s' WHERE name = 'lock_timeout';",
      "SELECT 'pg_advisory_unlock_all is not called here';",
      // Names in strings, comments and function bodies are not calls (files applied before the
      // refusals saw quoted names must still load).
      "COMMENT ON TABLE b IS 'Never call pg_advisory_unlock_all() from the app';",
      "UPDATE b SET id = length('pg_settings shows standard_conforming_strings');",
      "INSERT INTO b SELECT length($q$SELECT set_config('standard_conforming_strings','off',false)$q$);",
      "INSERT INTO b SELECT length(E'it\\'s pg_advisory_unlock_all()');",
      "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT pg_advisory_unlock_all() $$;",
      "UPDATE pg_settings SET setting = 'on' WHERE name = 'standard_conforming_strings';",
    ]
  ) {
    assert.equal(decide(`CREATE TABLE b (id int);\n${ok}`).kind, "transaction", ok);
  }
});
