/**
 * Row writes to the version table and its log table (`version_table.ts` owns
 * their format, DDL and reads): recording a step or a `--single-transaction`
 * batch, the started / statement / finished marks of a statement-by-statement
 * step, a failure's log row, and the transactions of stamp, a squash
 * baseline, `import --adopt` and `repair`. `db/` only executes these texts,
 * and `--dry-run` prints the same ones. Every statement is schema-qualified
 * and every transaction pins search_path, for the reasons given in
 * `version_table.ts`. Pure.
 *
 * @module
 */

import { quoteTable } from "./quote.ts";
import type { Migration, Step } from "./types.ts";
import {
  type LogSubject,
  PIN_SEARCH_PATH,
  quoteNumeric,
  quoteText,
  renderLogRow,
  type TableContext,
} from "./version_table.ts";

const EQ = "OPERATOR(pg_catalog.=)";
const ELAPSED_MS = "(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() " +
  "OPERATOR(pg_catalog.-) pg_catalog.now()) OPERATOR(pg_catalog.*) 1000)::pg_catalog.int4";

/** The version, name and checksum of `m` as literals: the first three values of every row. */
function quoteRowKey(m: Migration): string {
  return `${quoteNumeric(m.version)}, ${quoteText(m.name)}, ${quoteText(m.checksum)}`;
}

/** The INSERT of a row recorded without a duration (stamp, baseline, adoption). */
function renderInsertRow(
  row: { readonly migration: Migration; readonly state: "applied" | "started" },
  ctx: TableContext,
): string {
  const m = row.migration;
  return `INSERT INTO ${quoteTable(ctx.table)} ` +
    "(version, name, checksum, state, strata_version, file_hash)\n" +
    `VALUES (${quoteRowKey(m)}, '${row.state}', ` +
    `${quoteText(ctx.strataVersion)}, ${quoteText(m.fileHash)});\n`;
}

/** The session's prepared statements that record a step as done (`renderPrepareRecord`). */
export const RECORD_STATEMENTS = ["strata_record_up", "strata_record_down"] as const;

/** Either name of `RECORD_STATEMENTS` in SQL text: bare (any case) and quoted (exact). */
export const RECORD_NAME_BARE = /(^|[^"\w])strata_record_(?:up|down)\b/i;
export const RECORD_NAME_QUOTED = /"strata_record_(?:up|down)"/;

/** Which of `RECORD_STATEMENTS` the session holds (to prepare a session strata has not seen). */
export const PREPARED_RECORDS = "SELECT name FROM pg_catalog.pg_prepared_statements " +
  "WHERE name OPERATOR(pg_catalog.=) ANY (ARRAY[" +
  RECORD_STATEMENTS.map((name) => `'${name}'`).join(", ") + "]::pg_catalog.text[])";

/**
 * Prepare the statements that record a step as done, once per session: each
 * is one data-modifying CTE writing both tables, planned once instead of once
 * per migration (planning it was a third of what strata adds to a tiny
 * migration's server time). `strata_record_up(version, name, checksum,
 * file_hash)` inserts the version row, `strata_record_down(version)` deletes
 * it; both append the log row. Prepared under the pinned search_path, and
 * every name in them is schema-qualified, so a re-plan resolves the same
 * objects. A file that deallocates them is refused (`run_mode.ts`).
 */
export function renderPrepareRecord(ctx: TableContext): string {
  const t = quoteTable(ctx.table);
  const sv = quoteText(ctx.strataVersion);
  const log = `INSERT INTO ${quoteTable(ctx.table, "_log")} ` +
    "(version, name, direction, checksum, execution_ms, outcome, strata_version)\n";
  const [up, down] = RECORD_STATEMENTS;
  return "BEGIN;\n" + PIN_SEARCH_PATH +
    `PREPARE ${up}(pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.text) AS\n` +
    `WITH done AS (\nINSERT INTO ${t} ` +
    "(version, name, checksum, state, execution_ms, strata_version, file_hash)\n" +
    `VALUES ($1, $2, $3, 'applied', ${ELAPSED_MS}, ${sv}, $4)\n` +
    "RETURNING version, name, checksum, execution_ms)\n" +
    log + `SELECT version, name, 'up', checksum, execution_ms, 'ok', ${sv} FROM done;\n` +
    `PREPARE ${down}(pg_catalog.numeric) AS\n` +
    `WITH done AS (\nDELETE FROM ${t} WHERE version ${EQ} $1\n` +
    `RETURNING version, name, checksum, ${ELAPSED_MS} AS execution_ms)\n` +
    log + `SELECT version, name, 'down', checksum, execution_ms, 'ok', ${sv} FROM done;\n` +
    "COMMIT;\n";
}

/**
 * The write that records `step` as done inside its own transaction: the
 * session's prepared statement (`renderPrepareRecord`) with the step's
 * values. A file whose text names the version table gets the same write as
 * one statement of its own (`renderRecordStatement`): if the file altered
 * the table, the prepared statement would be planned again and its error
 * would carry a position in the PREPARE's text, which strata would place in
 * the file.
 */
export function renderRecord(step: Step, ctx: TableContext): string {
  const m = step.migration;
  const file = step.kind === "up" ? m.up : m.down;
  if (file && namesTable(file.text, ctx.table.name)) return renderRecordStatement(step, ctx);
  const [up, down] = RECORD_STATEMENTS;
  return step.kind === "up"
    ? `EXECUTE ${up}(${quoteRowKey(m)}, ${quoteText(m.fileHash)});\n`
    : `EXECUTE ${down}(${quoteNumeric(m.version)});\n`;
}

/** Whether `text` contains `name`, in any letter case (without copying the text). */
function namesTable(text: string, name: string): boolean {
  return new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i").test(text);
}

/** `renderRecord`'s write as one statement (a data-modifying CTE writing both tables). */
export function renderRecordStatement(step: Step, ctx: TableContext): string {
  const m = step.migration;
  const t = quoteTable(ctx.table);
  const sv = quoteText(ctx.strataVersion);
  const write = step.kind === "up"
    ? `WITH done AS (\nINSERT INTO ${t} ` +
      "(version, name, checksum, state, execution_ms, strata_version, file_hash)\n" +
      `VALUES (${quoteRowKey(m)}, 'applied', ${ELAPSED_MS}, ${sv}, ${quoteText(m.fileHash)})\n` +
      "RETURNING version, name, checksum, execution_ms)\n"
    : `WITH done AS (\nDELETE FROM ${t} WHERE version ${EQ} ${quoteNumeric(m.version)}\n` +
      `RETURNING version, name, checksum, ${ELAPSED_MS} AS execution_ms)\n`;
  return write +
    `INSERT INTO ${quoteTable(ctx.table, "_log")} ` +
    "(version, name, direction, checksum, execution_ms, outcome, strata_version)\n" +
    `SELECT version, name, '${step.kind}', checksum, execution_ms, 'ok', ${sv} FROM done;\n`;
}

/**
 * The write that records every step of a `--single-transaction` batch at
 * its end: one statement for both tables, whatever the number of steps (the
 * steps ran together, so no step has its own duration).
 */
export function renderBatchRecord(steps: readonly Step[], ctx: TableContext): string {
  if (steps.length === 0) return "";
  const t = quoteTable(ctx.table);
  const sv = quoteText(ctx.strataVersion);
  const direction = steps[0].kind;
  const write = direction === "up"
    ? `WITH done AS (\nINSERT INTO ${t} ` +
      "(version, name, checksum, state, execution_ms, strata_version, file_hash) VALUES\n" +
      steps.map(({ migration: m }) =>
        `(${quoteRowKey(m)}, 'applied', NULL, ${sv}, ${quoteText(m.fileHash)})`
      ).join(",\n") + "\nRETURNING version, name, checksum)\n"
    : `WITH done AS (\nDELETE FROM ${t} WHERE version ${EQ} ANY (ARRAY[` +
      steps.map((s) => quoteNumeric(s.migration.version)).join(", ") +
      "])\nRETURNING version, name, checksum)\n";
  return write + `INSERT INTO ${quoteTable(ctx.table, "_log")} ` +
    "(version, name, direction, checksum, execution_ms, outcome, strata_version)\n" +
    `SELECT version, name, '${direction}', checksum, NULL, 'ok', ${sv} FROM done ` +
    `ORDER BY version ${direction === "up" ? "ASC" : "DESC"};\n`;
}

/**
 * One transaction recording a squash baseline on a database migrated before
 * the squash: the rows it replaces are removed and its own row written, each
 * logged; no SQL of any migration runs.
 */
export function renderBaselineRecord(
  baseline: Migration,
  replaced: ReadonlyArray<
    { readonly version: bigint; readonly name: string; readonly checksum: string }
  >,
  ctx: TableContext,
): string {
  const t = quoteTable(ctx.table);
  const log = (m: LogSubject, detail: string) =>
    renderLogRow(m, ctx, { direction: "stamp", elapsed: "NULL", detail });
  let out = "BEGIN;\n" + PIN_SEARCH_PATH +
    `DELETE FROM ${t} WHERE version OPERATOR(pg_catalog.<=) ${quoteNumeric(baseline.version)};\n`;
  for (const r of replaced) out += log(r, `replaced by the baseline ${baseline.versionText}`);
  out += renderInsertRow({ migration: baseline, state: "applied" }, ctx) +
    log(baseline, "baseline recorded without running its SQL (the database was already there)");
  return out + "COMMIT;\n";
}

/** The row changes of a stamp. */
export interface StampRows {
  readonly add: readonly Migration[];
  readonly remove: ReadonlyArray<
    { readonly version: bigint; readonly name: string; readonly checksum: string }
  >;
  readonly resolve: readonly Migration[];
}

/** One transaction recording a stamp: rows added, removed and resolved, each logged. */
export function renderStamp(change: StampRows, ctx: TableContext): string {
  const t = quoteTable(ctx.table);
  const log = (m: LogSubject, detail: string) =>
    renderLogRow(m, ctx, { direction: "stamp", elapsed: "NULL", detail });
  let out = "BEGIN;\n" + PIN_SEARCH_PATH;
  for (const r of change.remove) {
    out += `DELETE FROM ${t} WHERE version ${EQ} ${quoteNumeric(r.version)};\n` +
      log(r, "row removed");
  }
  for (const m of change.resolve) {
    out += `UPDATE ${t} SET state = 'applied', statement_index = NULL, checksum = ` +
      `${quoteText(m.checksum)} WHERE version ${EQ} ${quoteNumeric(m.version)};\n` +
      log(m, "interrupted row marked applied");
  }
  for (const m of change.add) {
    out += renderInsertRow({ migration: m, state: "applied" }, ctx) + log(m, "row added");
  }
  return out + "COMMIT;\n";
}

/** A row adoption records: the migration, its state, and the log detail naming the source. */
export interface AdoptRow {
  readonly migration: Migration;
  readonly state: "applied" | "started";
  readonly detail: string;
}

/**
 * One transaction recording another tool's applied versions (`import
 * --adopt`), each with an `adopt` log row. A `started` row (the other tool
 * stopped midway) has no statement index: where it stopped is unknown.
 */
export function renderAdopt(rows: readonly AdoptRow[], ctx: TableContext): string {
  let out = "BEGIN;\n" + PIN_SEARCH_PATH;
  for (const row of rows) {
    out += renderInsertRow(row, ctx) +
      renderLogRow(row.migration, ctx, { direction: "adopt", elapsed: "NULL", detail: row.detail });
  }
  return out + "COMMIT;\n";
}

/** A checksum `repair` re-records: the migration (with its current checksum) and the old one. */
export interface RepairChange {
  readonly migration: Migration;
  readonly before: string;
}

/** One transaction re-recording the checksums of `changes`, each with a `repair` log row. */
export function renderRepair(changes: readonly RepairChange[], ctx: TableContext): string {
  const t = quoteTable(ctx.table);
  let out = "BEGIN;\n" + PIN_SEARCH_PATH;
  for (const { migration: m, before } of changes) {
    out +=
      `UPDATE ${t} SET checksum = ${quoteText(m.checksum)}, file_hash = ${quoteText(m.fileHash)} ` +
      `WHERE version ${EQ} ${quoteNumeric(m.version)};\n` +
      renderLogRow(m, ctx, {
        direction: "repair",
        elapsed: "NULL",
        detail: `checksum ${before} -> ${m.checksum}`,
      });
  }
  return out + "COMMIT;\n";
}

/**
 * The autocommit write that marks a statement-by-statement step as started
 * before its first statement: the row is inserted as `started` (up) or
 * flagged `reverting` (down), so an interruption stays visible and says
 * which way it was going.
 */
export function renderMarkStarted(step: Step, ctx: TableContext): string {
  const m = step.migration;
  const t = quoteTable(ctx.table);
  if (step.kind === "down") {
    return `UPDATE ${t} SET state = 'reverting', statement_index = 0 ` +
      `WHERE version ${EQ} ${quoteNumeric(m.version)};\n`;
  }
  return `INSERT INTO ${t} ` +
    "(version, name, checksum, state, statement_index, strata_version, file_hash)\n" +
    `VALUES (${quoteRowKey(m)}, 'started', 0, ` +
    `${quoteText(ctx.strataVersion)}, ${quoteText(m.fileHash)});\n`;
}

/**
 * The write recording that statement `index` (0-based) is about to run. It
 * may run inside the file's own open transaction, so it is fully qualified.
 */
export function renderMarkStatement(step: Step, index: number, ctx: TableContext): string {
  return `UPDATE ${quoteTable(ctx.table)} SET statement_index = ${index} ` +
    `WHERE version ${EQ} ${quoteNumeric(step.migration.version)};\n`;
}

/** The transaction that finishes a statement-by-statement step: final row state and log. */
export function renderMarkFinished(
  step: Step,
  elapsedMs: number | null,
  ctx: TableContext,
): string {
  const m = step.migration;
  const t = quoteTable(ctx.table);
  const ms = elapsedMs === null ? "NULL" : `${Math.round(elapsedMs)}`;
  const write = step.kind === "up"
    ? `UPDATE ${t} SET state = 'applied', statement_index = NULL, applied_at = pg_catalog.now(), ` +
      `execution_ms = ${ms} WHERE version ${EQ} ${quoteNumeric(m.version)};\n`
    : `DELETE FROM ${t} WHERE version ${EQ} ${quoteNumeric(m.version)};\n`;
  return "BEGIN;\n" + PIN_SEARCH_PATH + write +
    renderLogRow(m, ctx, { direction: step.kind, elapsed: ms }) + "COMMIT;\n";
}

/** The autocommit log row of a failed step, written after its rollback. */
export function renderFailureLog(
  step: Step,
  failure: { readonly ms: number; readonly detail: string },
  ctx: TableContext,
): string {
  return renderLogRow(step.migration, ctx, {
    direction: step.kind,
    elapsed: `${Math.round(failure.ms)}`,
    outcome: "failed",
    detail: failure.detail,
  });
}

/**
 * Record the byte hash of applied files whose checksum still matches but
 * whose recorded hash is missing (rows from before format 2) or stale (a
 * cosmetic edit), so later runs know them unchanged without lexing them. Not
 * a change of state: no log row.
 */
export function renderFileHashes(migrations: readonly Migration[], ctx: TableContext): string {
  const t = quoteTable(ctx.table);
  return "BEGIN;\n" + PIN_SEARCH_PATH +
    migrations.map((m) =>
      `UPDATE ${t} SET file_hash = ${quoteText(m.fileHash)} ` +
      `WHERE version ${EQ} ${quoteNumeric(m.version)};\n`
    ).join("") + "COMMIT;\n";
}
