import assert from "node:assert/strict";
import { loadMigrations } from "../lib/core/files.ts";
import {
  LOCK_HOLDERS,
  PREPARE_SESSION,
  RESTORE_SESSION,
  restoreSessionFor,
  TRY_LOCK,
  UNLOCK,
} from "../lib/core/session_sql.ts";
import {
  parseTableComment,
  queryCheckConstraints,
  queryLog,
  queryRows,
  queryTableInfo,
  renderLogRow,
  tableComment,
} from "../lib/core/version_table.ts";
import {
  PREPARED_RECORDS,
  renderBaselineRecord,
  renderBatchRecord,
  renderFailureLog,
  renderMarkFinished,
  renderMarkStarted,
  renderMarkStatement,
  renderPrepareRecord,
  renderRecord,
  renderRecordStatement,
  renderStamp,
} from "../lib/core/version_rows.ts";

const ctx = { table: { schema: "ops", name: "versions" }, strataVersion: "1.0" };

/**
 * Every function call, operator and type in `sql` names pg_catalog, except
 * SQL syntax the grammar itself maps there (CURRENT_USER, IN, IS NULL...).
 */
function assertQualified(sql: string, what: string): void {
  // A prepared statement's name (PREPARE name(types), EXECUTE name(values)) is not a call.
  const code = sql.replace(/'(?:[^']|'')*'/g, "''").replace(/"(?:[^"]|"")*"/g, '""')
    .replace(/\b(PREPARE|EXECUTE) strata_record_(up|down)\(/g, "$1 ");
  const calls = [...code.matchAll(/([A-Za-z_][A-Za-z0-9_.]*)\s*\(/g)].map((m) => m[1])
    .filter((f) =>
      !/^(pg_catalog\.\w+|VALUES|IN|ANY|ARRAY|EXISTS|OPERATOR|AS|done|FILTER)$/i.test(f)
    )
    .filter((f) => !/^(INSERT INTO|WITH)$/i.test(f));
  assert.deepEqual(calls.filter((f) => !/^""/.test(f)), [], `${what}: unqualified calls`);
  // Assignments (UPDATE ... SET a = 1, b = 2; SET LOCAL x = y) are not operators.
  const noAssignments = code.replace(/(\bSET(?: LOCAL)?|,)\s*\w+\s*=\s/g, "$1 ");
  const ops = [...noAssignments.matchAll(/[^\w(.:]\s*(=|<>|<=|>=|<|>|\|\||\+|\*)\s/g)]
    .map((m) => m[1]);
  assert.deepEqual(ops, [], `${what}: bare operators`);
  const casts = [...code.matchAll(/::(\w+)/g)].map((m) => m[1]).filter((t) => t !== "pg_catalog");
  assert.deepEqual(casts, [], `${what}: casts to unqualified types`);
}

Deno.test("every row write and read strata renders is schema-qualified", async () => {
  const enc = new TextEncoder();
  const { migrations } = await loadMigrations([
    { name: "1_a.up.sql", bytes: enc.encode("-- baseline: true\nSELECT 1;") },
  ]);
  const m = migrations[0];
  const up = { kind: "up" as const, migration: m };
  const down = { kind: "down" as const, migration: m };
  const texts: Array<[string, string]> = [
    ["record prepared", renderPrepareRecord(ctx)],
    ["record statements held", PREPARED_RECORDS],
    ["record up", renderRecord(up, ctx)],
    ["record down", renderRecord(down, ctx)],
    ["record up, one statement", renderRecordStatement(up, ctx)],
    ["record down, one statement", renderRecordStatement(down, ctx)],
    ["batch", renderBatchRecord([up], ctx)],
    ["batch down", renderBatchRecord([down], ctx)],
    ["stamp", renderStamp({ add: [m], remove: [m], resolve: [m] }, ctx)],
    ["started", renderMarkStarted(up, ctx)],
    ["reverting", renderMarkStarted(down, ctx)],
    ["statement", renderMarkStatement(up, 3, ctx)],
    ["finished", renderMarkFinished(up, 12, ctx)],
    ["failure", renderFailureLog(up, { ms: 3, detail: "42P01 it's gone" }, ctx)],
    ["log", renderLogRow(m, ctx, { direction: "repair", elapsed: "NULL" })],
    ["baseline", renderBaselineRecord(m, [m], ctx)],
    ["rows", queryRows(ctx.table, 2)],
    ["rows format 1", queryRows(ctx.table, 1)],
    ["info", queryTableInfo(ctx.table).text],
    ["checks", queryCheckConstraints(ctx.table).text],
    ["log read", queryLog(ctx.table, 5).text],
    ["prepare", PREPARE_SESSION],
    ["restore", RESTORE_SESSION],
    [
      "restore for a server",
      restoreSessionFor({ s1: "0", s2: "on", s3: "ISO", s4: "0", s5: "2000" }),
    ],
    ["lock", TRY_LOCK],
    ["unlock", UNLOCK],
    ["holders", LOCK_HOLDERS],
  ];
  for (const [what, sql] of texts) assertQualified(sql, what);
});

Deno.test("tableComment() and parseTableComment() agree on the format", () => {
  assert.equal(parseTableComment(tableComment(2)), 2);
  assert.equal(parseTableComment("strata version table, format 17"), 17);
  assert.equal(parseTableComment("my own table"), null);
  assert.equal(parseTableComment(null), null);
});
