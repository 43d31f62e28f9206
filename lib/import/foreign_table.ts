/**
 * Reading another tool's version table for adoption: check its columns
 * against the tool's documented DDL, then read its rows. Read-only: the
 * other tool's table is never written.
 *
 * @module
 */

import type { ImportTool } from "../core/import_common.ts";
import type { ForeignRow } from "../core/import_adopt.ts";
import {
  checkColumns,
  type ForeignColumn,
  queryColumns,
  queryForeignRows,
} from "../core/import_tables.ts";
import type { Db, TableName } from "../core/types.ts";
import { guard } from "../db/store.ts";

/**
 * The rows of `tool`'s table `table`. Throws `ADOPT_MISMATCH` when it does
 * not exist, `TABLE_FORMAT` when its columns (or a boolean column's type)
 * are not the tool's, and `PERMISSION_DENIED` when the role may not read it.
 */
export async function readForeignRows(
  db: Db,
  tool: ImportTool,
  table: TableName,
): Promise<ForeignRow[]> {
  const name = `${table.schema}.${table.name}`;
  const q = queryColumns(table);
  checkColumns(tool, table, await db.query<ForeignColumn>(q.text, q.params));
  return await guard(() => db.query<ForeignRow>(queryForeignRows(tool, table)), {
    action: `read ${tool}'s table "${name}"`,
    fix: `GRANT SELECT ON ${name} TO the role strata connects as`,
  });
}
