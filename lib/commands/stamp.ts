/**
 * `stamp TARGET`: record a state without running any migration's SQL. Also
 * the way out of an interrupted non-transactional migration.
 *
 * @module
 */

import { parseTarget } from "../core/plan.ts";
import { planStamp, type StampChange } from "../core/plan_stamp.ts";
import { versionLabel } from "../core/state.ts";
import { renderStampScript } from "../core/script.ts";
import { renderStamp } from "../core/version_rows.ts";
import { recordBaseline } from "../db/baseline_record.ts";
import { ensureTables, readState } from "../db/store.ts";
import type { Migration } from "../core/types.ts";
import type { DryRunValues } from "./options.ts";
import { type CommandContext, tableContext } from "./context.ts";
import { loadDir, planState } from "./load.ts";
import { withSession } from "./session.ts";
import { dryRunState, isDryRun } from "./dry_run.ts";

/** Print each row it adds, removes or resolves, then apply them in one transaction. */
export async function runStamp(
  ctx: CommandContext,
  options: DryRunValues,
  targetText: string,
): Promise<number> {
  const target = parseTarget(targetText, "stamp");
  const dryRun = isDryRun(options);
  const migrations = await loadDir(ctx, { lazy: true });
  const sctx = tableContext(ctx);
  if (dryRun) {
    const { rows, prepareTables } = await dryRunState(ctx, migrations, options.from);
    const change = planStamp(migrations, rows, target);
    const title = `strata stamp ${targetText}: record ${versionLabel(migrations, change.to)}`;
    const script = renderStampScript(change, sctx, { prepareTables, title });
    ctx.io.stdout(ctx.json ? JSON.stringify({ script }) + "\n" : script);
    return 0;
  }
  return await withSession(ctx, { writable: true, lock: true }, async (db) => {
    const stored = await readState(db, ctx.table, { write: true });
    const { view, rows } = planState(migrations, stored.rows);
    const change = planStamp(migrations, rows, target);
    await recordBaseline(db, view, sctx, stored);
    const count = change.add.length + change.remove.length + change.resolve.length;
    if (count > 0) {
      await ensureTables(db, sctx, stored);
      await db.runScript(renderStamp(change, sctx));
    }
    report(ctx, change, migrations);
    return 0;
  });
}

function report(ctx: CommandContext, change: StampChange, migrations: readonly Migration[]): void {
  const label = versionLabel(migrations, change.to);
  if (ctx.json) {
    ctx.io.stdout(
      JSON.stringify({
        to: change.to === null ? null : label,
        added: change.add.map((m) => m.versionText),
        removed: change.remove.map((r) => versionLabel(migrations, r.version)),
        resolved: change.resolve.map((m) => m.versionText),
      }) + "\n",
    );
    return;
  }
  if (change.add.length + change.remove.length + change.resolve.length === 0) {
    ctx.io.stdout(`Nothing to do: the version table already records ${label}\n`);
    return;
  }
  for (const r of change.remove) {
    // Named as on the + lines: the file's message, or the recorded name when the file is gone.
    const name = migrations.find((m) => m.version === r.version)?.message ?? r.name;
    ctx.io.stdout(
      `-  ${versionLabel(migrations, r.version)}  ${name}  (row removed; no SQL run)\n`,
    );
  }
  for (const m of change.resolve) {
    ctx.io.stdout(`~  ${m.versionText}  ${m.message}  (interrupted -> applied; no SQL run)\n`);
  }
  for (const m of change.add) {
    ctx.io.stdout(`+  ${m.versionText}  ${m.message}  (recorded as applied; no SQL run)\n`);
  }
  ctx.io.stdout(
    `Stamped ${label}: ${change.add.length} added, ${change.remove.length} removed, ` +
      `${change.resolve.length} resolved\n`,
  );
}
