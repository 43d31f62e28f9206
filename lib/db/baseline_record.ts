/**
 * Record a squash baseline on a database migrated before the squash (see
 * `core/baseline.ts`): no SQL of any migration runs.
 *
 * @module
 */

import type { BaselineView } from "../core/baseline.ts";
import type { Db } from "../core/types.ts";
import type { TableContext } from "../core/version_table.ts";
import { renderBaselineRecord } from "../core/version_rows.ts";
import { ensureTables, type StoredState } from "./store.ts";

/**
 * Write the baseline's record when `view` says the version table still
 * holds the rows it replaced; a no-op otherwise. Call it while holding the
 * lock, after the plan was accepted.
 */
export async function recordBaseline(
  db: Db,
  view: BaselineView,
  ctx: TableContext,
  state: StoredState,
): Promise<void> {
  if (!view.baseline || view.replaced.length === 0) return;
  await ensureTables(db, ctx, state);
  await db.runScript(renderBaselineRecord(view.baseline, view.replaced, ctx));
}
