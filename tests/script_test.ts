import assert from "node:assert/strict";
import { loadMigrations } from "../lib/core/files.ts";
import {
  renderPlanScript,
  renderSetLocal,
  renderStatementMark,
  renderTransactionalStep,
} from "../lib/core/script.ts";
import { RESTORE_SESSION } from "../lib/core/session_sql.ts";
import type { Migration, Plan, Step } from "../lib/core/types.ts";
import { renderPrepareRecord } from "../lib/core/version_rows.ts";

const enc = new TextEncoder();
const ctx = { table: { schema: "public", name: "strata_migrations" }, strataVersion: "9.9.9" };

async function load(files: Record<string, string>): Promise<readonly Migration[]> {
  const { migrations, problems } = await loadMigrations(
    Object.entries(files).map(([name, text]) => ({ name, bytes: enc.encode(text) })),
  );
  assert.deepEqual(problems, []);
  return migrations;
}

function up(m: Migration): Step {
  return { kind: "up", migration: m };
}

Deno.test("renderTransactionalStep() wraps the file, records it, and restores the session", async () => {
  const [m] = await load({ "1_a.up.sql": "-- lock-timeout: 5s\nCREATE TABLE a (id int);" });
  const sql = renderTransactionalStep(up(m), ctx);
  assert.equal(sql.prefix, "BEGIN;\nSET LOCAL lock_timeout = '5000ms';\n");
  assert.equal(sql.body, m.up.text);
  // The session is put back inside the file's transaction, before strata's writes: a file's
  // SET ROLE or SET statement_timeout = '1ms' must not reach strata's record of it.
  assert.ok(
    sql.suffix.startsWith(
      "\n;\nSET CONSTRAINTS ALL IMMEDIATE;\n" + RESTORE_SESSION +
        "SET LOCAL search_path = pg_catalog, pg_temp;\n" +
        "EXECUTE strata_record_up('1'::pg_catalog.numeric, ",
    ),
    sql.suffix,
  );
  assert.match(RESTORE_SESSION, /^RESET ALL;\nRESET SESSION AUTHORIZATION;\n/);
  assert.ok(
    renderPrepareRecord(ctx).includes('INSERT INTO "public"."strata_migrations"'),
    "the prepared record writes the version table",
  );
  assert.ok(
    sql.suffix.endsWith(";\nCOMMIT;\n" + RESTORE_SESSION),
    "the restore again after COMMIT, for what a deferred trigger did at COMMIT itself",
  );
  assert.equal(sql.suffix.split(RESTORE_SESSION).length - 1, 2);
  assert.equal(sql.suffix.match(/^COMMIT;$/gm)?.length, 1);
  const outer = renderTransactionalStep(up(m), ctx, { inOuterTransaction: true });
  assert.equal(outer.prefix, "SET LOCAL lock_timeout = '5000ms';\n");
  assert.equal(
    outer.suffix,
    "\n;\nSET CONSTRAINTS ALL IMMEDIATE;\n" + RESTORE_SESSION,
    "a batch records every step at its end",
  );
});

Deno.test("renderSetLocal() sets only the timeouts a header gives", () => {
  assert.equal(renderSetLocal({}), "");
  assert.equal(
    renderSetLocal({ lockTimeout: 1500, statementTimeout: 60_000 }),
    "SET LOCAL lock_timeout = '1500ms';\nSET LOCAL statement_timeout = '60000ms';\n",
  );
});

Deno.test("renderStatementMark() marks statements at depth 0, not the first nor inside the file's block", async () => {
  const [m] = await load({
    "1_a.up.sql":
      "-- transaction: false\nCREATE TABLE a (id int);\nBEGIN;\nINSERT INTO a VALUES (1);\n" +
      "COMMIT;\nCREATE INDEX CONCURRENTLY a_id ON a (id);",
  });
  const marks = m.up.statements.map((_, k) => renderStatementMark(up(m), k, ctx) !== "");
  assert.deepEqual(marks, [false, true, false, false, true]);
  assert.match(renderStatementMark(up(m), 1, ctx), /^BEGIN READ WRITE;\n.*statement_index = 1 /s);
});

Deno.test("renderPlanScript() puts a batch in one transaction recorded at its end", async () => {
  const ms = await load({
    "1_a.up.sql": "CREATE TABLE a (id int);",
    "2_b.up.sql": "CREATE TABLE b (id int);",
  });
  const plan: Plan = { direction: "up", steps: ms.map(up), from: null, to: 2n };
  const script = renderPlanScript(plan, ctx, {
    prepareTables: "",
    singleTransaction: true,
    title: "t",
  });
  const begin = script.indexOf("BEGIN;\n\n");
  const record = script.indexOf("WITH done AS (\nINSERT INTO");
  assert.ok(begin > 0 && record > script.indexOf("CREATE TABLE b"), "one record after both files");
  assert.match(
    script.slice(record),
    /VALUES\n\('1'::pg_catalog\.numeric.*\n\('2'::pg_catalog\.numeric/,
  );
  // Each file is followed by the restore; the batch's record comes after the last one, and the
  // restore once more after COMMIT.
  assert.equal(script.slice(0, record).split(RESTORE_SESSION).length - 1, 2);
  assert.ok(script.endsWith("COMMIT;\n" + RESTORE_SESSION), script.slice(-200));
  assert.equal(script.match(/^COMMIT;$/gm)?.length, 1);
  assert.ok(!script.includes("PREPARE "), "a batch records with one plain statement");
});

Deno.test("renderPlanScript() prepares the record statements once, at its head, only when a file uses them", async () => {
  const ms = await load({
    "1_a.up.sql": "-- transaction: false\nCREATE INDEX CONCURRENTLY a_i ON a (id);",
    "2_b.up.sql": "CREATE TABLE b (id int);",
    "3_c.up.sql": "CREATE TABLE c (id int);",
  });
  const options = { prepareTables: "-- tables\n", title: "t" };
  const script = renderPlanScript(
    { direction: "up", steps: ms.map(up), from: null, to: 3n },
    ctx,
    options,
  );
  const prepare = script.indexOf(renderPrepareRecord(ctx));
  assert.ok(prepare > script.indexOf("-- tables"), "after the tables it names exist");
  assert.ok(prepare < script.indexOf("-- 1_a.up.sql"));
  assert.equal(script.split("PREPARE strata_record_up(").length - 1, 1);
  assert.equal(script.split("EXECUTE strata_record_up(").length - 1, 2);
  const onlyStatements = renderPlanScript(
    { direction: "up", steps: [up(ms[0])], from: null, to: 1n },
    ctx,
    options,
  );
  assert.ok(!onlyStatements.includes("PREPARE "), "statement-by-statement files write plain rows");
});
