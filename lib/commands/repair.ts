/**
 * `repair VERSION...`: re-record the checksums of the named applied
 * migrations after a person checked their edited files. Shows each change,
 * writes them with one `repair` log row per version in one transaction,
 * under the lock. Never without explicit versions.
 *
 * @module
 */

import { checkRepairVersions, planRepair, type RepairPlan } from "../core/import_repair.ts";
import { renderRepair } from "../core/version_rows.ts";
import { ensureTables, readState } from "../db/store.ts";
import { type CommandContext, tableContext } from "./context.ts";
import { loadDir, planState } from "./load.ts";
import { withSession } from "./session.ts";
import { recordBaseline } from "../db/baseline_record.ts";

/** Re-record the checksums of `versions`; prints old and new checksum of each. */
export async function runRepair(
  ctx: CommandContext,
  versions: readonly string[],
): Promise<number> {
  checkRepairVersions(versions);
  const migrations = await loadDir(ctx);
  const sctx = tableContext(ctx);
  return await withSession(ctx, { writable: true, lock: true }, async (db) => {
    const stored = await readState(db, ctx.table, { write: true });
    const { view, rows, edited } = planState(migrations, stored.rows);
    const plan = planRepair(migrations, rows, { versions, edited });
    if (plan.changes.length > 0) {
      // A database migrated before a squash records its baseline first, as upgrade would.
      await recordBaseline(db, view, sctx, stored);
      await ensureTables(db, sctx, stored);
      await db.runScript(renderRepair(plan.changes, sctx));
    }
    report(ctx, plan);
    return 0;
  });
}

function report(ctx: CommandContext, plan: RepairPlan): void {
  if (ctx.json) {
    ctx.io.stdout(
      JSON.stringify({
        repaired: plan.changes.map((c) => ({
          version: c.migration.versionText,
          before: c.before,
          after: c.migration.checksum,
        })),
        unchanged: plan.unchanged.map((m) => m.versionText),
      }) + "\n",
    );
    return;
  }
  for (const c of plan.changes) {
    const m = c.migration;
    ctx.io.stdout(
      `~  ${m.versionText}  ${m.message}\n     was ${c.before}\n     now ${m.checksum}\n`,
    );
  }
  for (const m of plan.unchanged) {
    ctx.io.stdout(`=  ${m.versionText}  ${m.message}  (unchanged: its file matches the record)\n`);
  }
  ctx.io.stdout(
    `Repaired ${plan.changes.length} checksum${plan.changes.length === 1 ? "" : "s"}` +
      (plan.unchanged.length ? `, ${plan.unchanged.length} already matching` : "") + "\n",
  );
}
