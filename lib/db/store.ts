/**
 * The version table and its log table: existence and format checks, creation,
 * reads, and the failure record. Every identifier is quoted; every value is a
 * parameter.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { quoteIdent, quoteTable } from "../core/quote.ts";
import { renderVersionTableDdl, TABLE_COMMENT, TABLE_FORMAT } from "../core/script.ts";
import type { AppliedRow, Db, Migration, TableName } from "../core/types.ts";

/** What the database holds: whether the table exists, and its rows in version order. */
export interface StoredState {
  readonly exists: boolean;
  readonly rows: readonly AppliedRow[];
}

interface TableInfo {
  table_exists: boolean;
  log_exists: boolean;
  schema_exists: boolean;
  comment: string | null;
}

interface RawRow {
  version: string;
  name: string;
  checksum: string;
  state: "applied" | "started";
  statement_index: number | null;
  applied_order: string;
  applied_at: Date;
  execution_ms: number | null;
  applied_by: string;
  strata_version: string;
}

async function tableInfo(db: Db, table: TableName): Promise<TableInfo> {
  const [info] = await db.query<TableInfo>(
    `SELECT to_regclass($1) IS NOT NULL AS table_exists,
            to_regclass($2) IS NOT NULL AS log_exists,
            to_regnamespace($3) IS NOT NULL AS schema_exists,
            obj_description(to_regclass($1), 'pg_class') AS comment`,
    [quoteTable(table), quoteTable(table, "_log"), quoteIdent(table.schema)],
  );
  return info;
}

function checkFormat(table: TableName, info: TableInfo): void {
  if (info.comment === TABLE_COMMENT && info.log_exists) return;
  const newer = /^strata version table, format (\d+)$/.exec(info.comment ?? "");
  const name = `${table.schema}.${table.name}`;
  if (newer && Number(newer[1]) > TABLE_FORMAT) {
    throw new StrataError(
      "TABLE_FORMAT",
      `Cannot use version table "${name}": it has format ${newer[1]}, written by a newer strata`,
      { hint: `This strata understands format ${TABLE_FORMAT}; upgrade strata` },
    );
  }
  throw new StrataError(
    "TABLE_FORMAT",
    `Cannot use "${name}" as the version table: ` +
      (newer ? `its log table "${name}_log" is missing` : "it exists but was not made by strata"),
    { hint: "Choose another name with --table, or move the existing table away" },
  );
}

/**
 * Read the applied rows. Returns `{exists: false, rows: []}` when the table
 * does not exist (nothing is created). Throws `TABLE_FORMAT` when a table of
 * that name exists but is not a strata version table of a known format.
 */
export async function readState(db: Db, table: TableName): Promise<StoredState> {
  const info = await tableInfo(db, table);
  if (!info.table_exists) return { exists: false, rows: [] };
  checkFormat(table, info);
  const raw = await db.query<RawRow>(
    `SELECT version::text AS version, name, checksum, state, statement_index,
            applied_order::text AS applied_order, applied_at, execution_ms, applied_by,
            strata_version
       FROM ${quoteTable(table)} ORDER BY version`,
  );
  return { exists: true, rows: raw.map(toAppliedRow) };
}

function toAppliedRow(r: RawRow): AppliedRow {
  return {
    version: BigInt(r.version),
    name: r.name,
    checksum: r.checksum,
    state: r.state,
    statementIndex: r.statement_index,
    appliedOrder: Number(r.applied_order),
    appliedAt: r.applied_at,
    executionMs: r.execution_ms,
    appliedBy: r.applied_by,
    strataVersion: r.strata_version,
  };
}

/**
 * Create the version table and log table when missing (and the schema, only
 * when it does not exist, so no CREATE privilege on the database is needed
 * otherwise). Call it while holding the advisory lock. Throws `TABLE_FORMAT`
 * like `readState`.
 */
export async function ensureVersionTable(db: Db, table: TableName): Promise<void> {
  const info = await tableInfo(db, table);
  if (info.table_exists) return checkFormat(table, info);
  const ddl = renderVersionTableDdl(table, { schema: !info.schema_exists });
  await db.runScript(`BEGIN;\n${ddl}COMMIT;`);
}

/** Append a failed attempt to the log table (best effort: never throws). */
export async function recordFailure(
  db: Db,
  table: TableName,
  entry: {
    migration: Migration;
    direction: "up" | "down";
    ms: number;
    detail: string;
    strataVersion: string;
  },
): Promise<void> {
  try {
    await db.query(
      `INSERT INTO ${quoteTable(table, "_log")}
         (version, name, direction, checksum, execution_ms, outcome, detail, strata_version)
       VALUES ($1, $2, $3, $4, $5, 'failed', $6, $7)`,
      [
        String(entry.migration.version),
        entry.migration.name,
        entry.direction,
        entry.migration.checksum,
        Math.round(entry.ms),
        entry.detail,
        entry.strataVersion,
      ],
    );
  } catch {
    // The failure itself is what the user must see; a lost audit row must not hide it.
  }
}

/** One entry of the log table. */
export interface LogEntry {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  readonly direction: "up" | "down" | "stamp";
  readonly checksum: string | null;
  readonly at: Date;
  readonly by: string;
  readonly execution_ms: number | null;
  readonly outcome: "ok" | "failed";
  readonly detail: string | null;
}

/** The newest `limit` log entries, newest first; [] when there is no log table yet. */
export async function readLog(db: Db, table: TableName, limit: number): Promise<LogEntry[]> {
  const info = await tableInfo(db, table);
  if (!info.table_exists) return [];
  checkFormat(table, info);
  return await db.query<LogEntry>(
    `SELECT id::text AS id, version::text AS version, name, direction, checksum, at, by,
            execution_ms, outcome, detail
       FROM ${quoteTable(table, "_log")} ORDER BY id DESC LIMIT $1`,
    [limit],
  );
}
