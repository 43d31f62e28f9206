/**
 * Record a squash baseline on a database migrated before the squash (see
 * `core/baseline.ts`): no SQL of any migration runs.
 *
 * @module
 */

import { type BaselineView, resolveBaseline } from "../core/baseline.ts";
import type { AppliedRow, Db, Migration } from "../core/types.ts";
import type { TableContext } from "../core/version_table.ts";
import { renderBaselineRecord } from "../core/version_rows.ts";
import { ensureTables } from "./store.ts";

/** The rows as the baseline sees them (`resolveBaseline`). */
export function baselineView(
  migrations: readonly Migration[],
  rows: readonly AppliedRow[],
): BaselineView {
  return resolveBaseline(migrations, rows);
}

/**
 * Write the baseline's record when `view` says the version table still
 * holds the rows it replaced; a no-op otherwise. Call it while holding the
 * lock, after the plan was accepted.
 */
export async function recordBaseline(db: Db, view: BaselineView, ctx: TableContext): Promise<void> {
  if (!view.baseline || view.replaced.length === 0) return;
  await ensureTables(db, ctx);
  await db.runScript(renderBaselineRecord(view.baseline, view.replaced, ctx));
}
