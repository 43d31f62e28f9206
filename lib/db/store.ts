/**
 * The version table and its log table on a `Db`: format checks, creation,
 * upgrades of older formats, and reads. The SQL is rendered by
 * `core/version_table.ts`; this module only executes it and turns server
 * errors into StrataErrors that name the table and the fix.
 *
 * @module
 */

import { isDbServerError } from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";
import type { AppliedRow, Db, TableName } from "../core/types.ts";
import {
  parseTableComment,
  queryCheckConstraints,
  queryLog,
  queryRows,
  queryTableInfo,
  renderCreateTables,
  renderFormatUpgrade,
  TABLE_FORMAT,
  type TableContext,
} from "../core/version_table.ts";

/** What the database holds: whether the table exists, its format, and its rows in version order. */
export interface StoredState {
  readonly exists: boolean;
  /** The table's format (null when it does not exist). */
  readonly format: number | null;
  readonly rows: readonly AppliedRow[];
}

interface TableInfo {
  table_exists: boolean;
  log_exists: boolean;
  schema_exists: boolean;
  comment: string | null;
  /** The tables of the two that a role other than this one (or one it belongs to) owns. */
  foreign_owned: string | null;
}

interface RawRow {
  version: string;
  name: string;
  checksum: string;
  state: AppliedRow["state"];
  statement_index: number | null;
  applied_order: string;
  applied_at: Date;
  execution_ms: number | null;
  applied_by: string;
  strata_version: string;
  file_hash: string | null;
}

export function displayName(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

async function tableInfo(db: Db, table: TableName): Promise<TableInfo> {
  const q = queryTableInfo(table);
  const [info] = await guard(() => db.query<TableInfo>(q.text, q.params), {
    action: `look up the version table "${displayName(table)}"`,
    fix: `Grant the role USAGE on schema "${table.schema}"`,
  });
  return info;
}

/** The table's format; throws `TABLE_FORMAT` for a table strata did not make or cannot read. */
function checkFormat(table: TableName, info: TableInfo): number {
  const format = parseTableComment(info.comment);
  const name = displayName(table);
  if (format !== null && format > TABLE_FORMAT) {
    throw new StrataError(
      "TABLE_FORMAT",
      `Cannot use version table "${name}": it has format ${format}, written by a newer strata`,
      { hint: `This strata understands formats 1 to ${TABLE_FORMAT}; upgrade strata` },
    );
  }
  if (format !== null && info.log_exists) return format;
  throw new StrataError(
    "TABLE_FORMAT",
    `Cannot use "${name}" as the version table: ` +
      (format !== null
        ? `its log table "${name}_log" is missing`
        : "it exists but was not made by strata"),
    { hint: "Choose another name with --table, or move the existing table away" },
  );
}

/**
 * Refuse (`TABLE_FORMAT`) to write to a version or log table that another
 * role owns: its triggers, rules, defaults and checks would run with the
 * connecting role's privileges (a superuser's, often), so a role allowed to
 * create tables in the schema could plant one and be made superuser by the
 * next deploy. Owned by the connecting role, by a role it is a member of (a
 * shared owner role; a superuser's implied rights do not count), or by a
 * superuser (who needs no trigger to act) is fine.
 */
function refuseForeignOwned(table: TableName, info: TableInfo): void {
  if (info.foreign_owned === null) return;
  throw new StrataError(
    "TABLE_FORMAT",
    `Cannot write to the version tables of "${displayName(table)}": owned by another role: ` +
      info.foreign_owned,
    {
      hint: "A table another role owns runs that role's triggers, rules and defaults with the " +
        "privileges strata connects with. Connect as its owner (or a member of the owning role), " +
        "or inspect the table and take it over (ALTER TABLE ... OWNER TO ...); nothing was changed",
    },
  );
}

/**
 * Read the applied rows. Returns `{exists: false, format: null, rows: []}`
 * when the table does not exist (nothing is created); reads tables of any
 * format up to this strata's without changing them. Throws `TABLE_FORMAT`
 * when a table of that name exists but is not a strata version table of a
 * known format, or (with `write`: the caller is going to write to them) when
 * another role owns the version or log table, and `PERMISSION_DENIED` when
 * the role may not read it.
 */
export async function readState(
  db: Db,
  table: TableName,
  options: { write?: boolean } = {},
): Promise<StoredState> {
  const info = await tableInfo(db, table);
  if (options.write) refuseForeignOwned(table, info);
  if (!info.table_exists) return { exists: false, format: null, rows: [] };
  const format = checkFormat(table, info);
  const raw = await guard(() => db.query<RawRow>(queryRows(table, format)), {
    action: `read the version table "${displayName(table)}"`,
    fix: `GRANT SELECT, INSERT, UPDATE, DELETE ON ${displayName(table)}, ` +
      `${displayName(table)}_log TO the role strata connects as`,
  });
  return { exists: true, format, rows: raw.map(toAppliedRow) };
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
    fileHash: r.file_hash,
  };
}

/**
 * Make the tables ready for writing, while holding the advisory lock: create
 * them (and the schema, only when it does not exist, so no CREATE privilege
 * on the database is needed otherwise), or upgrade an older format in place
 * in one logged transaction. `state`, read under the same lock by
 * `readState(..., { write: true })`, spares the look-up when it shows the
 * tables in this strata's format. Throws `TABLE_FORMAT` like `readState`
 * with `write`, and `PERMISSION_DENIED`.
 */
export async function ensureTables(
  db: Db,
  ctx: TableContext,
  state?: StoredState,
): Promise<void> {
  if (state?.format === TABLE_FORMAT) return;
  const sql = await renderEnsureTables(db, ctx);
  if (sql === "") return;
  await guard(() => db.runScript(sql), {
    action: `create or upgrade the version table "${displayName(ctx.table)}"`,
    fix: `Grant the role CREATE on schema "${ctx.table.schema}" (or create the schema for it), ` +
      "or choose a --table in a schema the role owns",
  });
}

/**
 * The SQL that `ensureTables` would run (empty when the tables are ready):
 * the creation DDL, or the upgrade of an older format. Used by `--dry-run`
 * so that the printed script does what the command would.
 */
export async function renderEnsureTables(db: Db, ctx: TableContext): Promise<string> {
  const info = await tableInfo(db, ctx.table);
  refuseForeignOwned(ctx.table, info);
  if (!info.table_exists) {
    return renderCreateTables(ctx.table, { schema: !info.schema_exists, log: !info.log_exists });
  }
  const format = checkFormat(ctx.table, info);
  if (format === TABLE_FORMAT) return "";
  const q = queryCheckConstraints(ctx.table);
  const checks = await db.query<{ name: string; def: string; is_log: boolean }>(q.text, q.params);
  return renderFormatUpgrade(format, {
    state: checks.filter((c) => !c.is_log && /\bstate\b/.test(c.def)).map((c) => c.name),
    direction: checks.filter((c) => c.is_log && /\bdirection\b/.test(c.def)).map((c) => c.name),
  }, ctx);
}

/** One entry of the log table. */
export interface LogEntry {
  readonly id: string;
  readonly version: string | null;
  readonly name: string;
  readonly direction: "up" | "down" | "stamp" | "repair" | "adopt" | "format";
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
  const q = queryLog(table, limit);
  return await guard(() => db.query<LogEntry>(q.text, q.params), {
    action: `read the log table "${displayName(table)}_log"`,
    fix: `GRANT SELECT ON ${displayName(table)}_log TO the role strata connects as`,
  });
}

/**
 * Run `fn`; a server "permission denied" (SQLSTATE 42501) becomes
 * `PERMISSION_DENIED` (exit 3) naming what strata tried and the fix.
 */
export async function guard<T>(
  fn: () => Promise<T>,
  what: { readonly action: string; readonly fix: string },
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDbServerError(err) && err.sqlstate === "42501") {
      throw new StrataError("PERMISSION_DENIED", `Cannot ${what.action}: ${err.message}`, {
        hint: `${what.fix}; nothing was changed`,
        cause: err,
      });
    }
    throw err;
  }
}
