/**
 * Take a schema snapshot: run the catalog queries of
 * `core/snapshot_queries.ts` in one read-only, repeatable-read transaction
 * under `search_path = pg_catalog, pg_temp` (nothing another role planted
 * can take them over; safe on a live database and on a standby: no lock,
 * no write).
 *
 * @module
 */

import { quoteTable } from "../core/quote.ts";
import type { Snapshot } from "../core/snapshot_diff.ts";
import { DATA_TABLES, snapshotQueries } from "../core/snapshot_queries.ts";
import type { Db, TableName } from "../core/types.ts";

/** What to include in a snapshot. */
export interface SnapshotOptions {
  /** Grants and owners too. */
  readonly privileges?: boolean;
  /** Each table's rows too, as a count and a digest (`data schema.table`). */
  readonly data?: boolean;
}

/** A row count and digest of every user table (partitions count in their parent too). */
async function tableData(
  db: Db,
  strataTables: readonly string[],
): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  const tables = await db.query<{ key: string; relation: string }>(DATA_TABLES, [...strataTables]);
  for (const { key, relation } of tables) {
    const [row] = await db.query<{ n: string; digest: string | null }>(
      `SELECT count(*)::text AS n, md5(string_agg(x::text, ',' ORDER BY x::text)) AS digest
         FROM ${relation} AS x`,
    );
    out.push([`data ${key}`, `${row.n} rows ${row.digest ?? ""}`.trim()]);
  }
  return out;
}

/**
 * A snapshot of every user object in the database, leaving out strata's
 * version table and log table (`table`). Deterministic: keys are sorted.
 */
export async function takeSnapshot(
  db: Db,
  table: TableName,
  options: SnapshotOptions = {},
): Promise<Snapshot> {
  await db.runScript(
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n" +
      "SET LOCAL search_path = pg_catalog, pg_temp;",
  );
  try {
    const [names] = await db.query<{ t: string; l: string }>(
      `SELECT coalesce(to_regclass($1::text)::text, '-') AS t,
              coalesce(to_regclass($2::text)::text, '-') AS l`,
      [quoteTable(table), quoteTable(table, "_log")],
    );
    const entries: Array<[string, string]> = [];
    for (const q of snapshotQueries({ privileges: options.privileges === true })) {
      const params = q.includes("$1") ? [names.t, names.l] : [];
      const rows = await db.query<{ key: string; def: string | null }>(q, params);
      for (const r of rows) entries.push([r.key, r.def ?? ""]);
    }
    if (options.data) entries.push(...await tableData(db, [names.t, names.l]));
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return Object.fromEntries(entries);
  } finally {
    await db.runScript("COMMIT");
  }
}
