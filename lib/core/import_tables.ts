/**
 * The other tools' version tables: default names, the columns their
 * documented DDL creates, and the read-only queries adoption runs on them.
 * Like strata's own statements, every query is schema-qualified with typed
 * parameters (see `version_table.ts`). Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import type { ImportTool } from "./import_common.ts";
import { quoteIdent, quoteTable } from "./quote.ts";
import type { TableName } from "./types.ts";

/** One tool's table: its default name and columns. */
export interface ForeignTableSpec {
  readonly defaultName: string;
  /** The columns adoption reads, in order. */
  readonly columns: readonly string[];
  /** Boolean columns (they must be `boolean`; everything else is cast to text). */
  readonly booleans: readonly string[];
  /**
   * True when the table must have exactly these columns: dbmate's and
   * golang-migrate's tables share a name and are told apart by their columns.
   */
  readonly exact: boolean;
}

/** Every tool's table as its documentation creates it. */
export const FOREIGN_TABLES: Readonly<Record<ImportTool, ForeignTableSpec>> = {
  "dbmate": { defaultName: "schema_migrations", columns: ["version"], booleans: [], exact: true },
  "golang-migrate": {
    defaultName: "schema_migrations",
    columns: ["version", "dirty"],
    booleans: ["dirty"],
    exact: true,
  },
  "goose": {
    defaultName: "goose_db_version",
    columns: ["id", "version_id", "is_applied"],
    booleans: ["is_applied"],
    exact: false,
  },
  "flyway": {
    defaultName: "flyway_schema_history",
    columns: ["installed_rank", "version", "type", "script", "success"],
    booleans: ["success"],
    exact: false,
  },
  "alembic": {
    defaultName: "alembic_version",
    columns: ["version_num"],
    booleans: [],
    exact: true,
  },
};

/** A column of the other tool's table, as the catalog gives it. */
export interface ForeignColumn {
  readonly name: string;
  /** Its type as `format_type` writes it (`boolean`, `bigint`, `character varying(128)`). */
  readonly type: string;
}

/** The columns (`ForeignColumn` rows) of `table` in order; no rows when it does not exist. */
export function queryColumns(table: TableName): { text: string; params: readonly unknown[] } {
  return {
    text: `SELECT a.attname::pg_catalog.text AS name,
            pg_catalog.format_type(a.atttypid, NULL) AS type
       FROM pg_catalog.pg_attribute a
      WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1::pg_catalog.text)
        AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    params: [quoteTable(table)],
  };
}

/**
 * Check `found` (as the catalog lists them) against `tool`'s table. Throws
 * `ADOPT_MISMATCH` when the table does not exist, and `TABLE_FORMAT` naming
 * the columns (and the tool whose table it looks like) when they differ, or
 * naming the column when one the tool keeps as `boolean` has another type
 * (read untyped, its values would all count as false).
 */
export function checkColumns(
  tool: ImportTool,
  table: TableName,
  found: readonly ForeignColumn[],
): void {
  const name = `${table.schema}.${table.name}`;
  const columns = found.map((c) => c.name);
  if (columns.length === 0) {
    throw new StrataError("ADOPT_MISMATCH", `Cannot adopt from ${tool}: no table "${name}"`, {
      hint: `Point --tool-table at ${tool}'s table, or --database-url at the database ${tool} ` +
        "migrated; nothing was changed",
    });
  }
  const spec = FOREIGN_TABLES[tool];
  const missing = spec.columns.filter((c) => !columns.includes(c));
  const extra = spec.exact ? columns.filter((c) => !spec.columns.includes(c)) : [];
  if (missing.length === 0 && extra.length === 0) {
    checkBooleans(tool, name, found);
    return;
  }
  const like = (Object.keys(FOREIGN_TABLES) as ImportTool[]).find((t) =>
    t !== tool && FOREIGN_TABLES[t].columns.every((c) => columns.includes(c)) &&
    (!FOREIGN_TABLES[t].exact || columns.length === FOREIGN_TABLES[t].columns.length)
  );
  throw new StrataError(
    "TABLE_FORMAT",
    `Cannot adopt "${name}" as ${tool}'s table: its columns are (${columns.join(", ")})`,
    {
      hint: (like ? `It looks like ${like}'s table: use --from ${like}. ` : "") +
        `${tool}'s table has (${spec.columns.join(", ")}); nothing was changed`,
    },
  );
}

function checkBooleans(tool: ImportTool, name: string, found: readonly ForeignColumn[]): void {
  const wrong = found.find((c) =>
    FOREIGN_TABLES[tool].booleans.includes(c.name) && c.type !== "boolean"
  );
  if (wrong === undefined) return;
  throw new StrataError(
    "TABLE_FORMAT",
    `Cannot adopt "${name}" as ${tool}'s table: its column "${wrong.name}" is ${wrong.type}, ` +
      "not boolean",
    {
      hint: `${tool} keeps "${wrong.name}" as boolean; check that this is ${tool}'s table ` +
        "(--tool-table) or convert the column; nothing was changed",
    },
  );
}

/**
 * The rows adoption reads from `tool`'s table (never written to). Boolean
 * columns are cast to `boolean` too, after `checkColumns` checked their type.
 */
export function queryForeignRows(tool: ImportTool, table: TableName): string {
  const spec = FOREIGN_TABLES[tool];
  const columns = spec.columns.map((c) =>
    spec.booleans.includes(c)
      ? `${quoteIdent(c)}::pg_catalog.bool AS ${quoteIdent(c)}`
      : `${quoteIdent(c)}::pg_catalog.text AS ${quoteIdent(c)}`
  );
  return `SELECT ${columns.join(", ")} FROM ${quoteTable(table)}`;
}
