/**
 * `stamp TARGET`: record a state without running any migration's SQL. Also
 * the way out of an interrupted non-transactional migration.
 *
 * @module
 */

import { parseTarget, planStamp, versionLabel } from "../plan.ts";
import { renderStamp } from "../script.ts";
import { ensureVersionTable, readState } from "../store.ts";
import { STRATA_VERSION } from "../version.ts";
import { type CommandContext, loadDir, withSession } from "./context.ts";

/** Print each row it adds, removes or resolves, then apply them in one transaction. */
export async function runStamp(ctx: CommandContext): Promise<number> {
  const target = parseTarget(ctx.positionals[0], "stamp");
  const migrations = await loadDir(ctx);
  return await withSession(ctx, { writable: true, lock: true }, async (db) => {
    const { rows, exists } = await readState(db, ctx.table);
    const change = planStamp(migrations, rows, target);
    const label = versionLabel(migrations, change.to);
    const count = change.add.length + change.remove.length + change.resolve.length;
    if (count === 0) {
      ctx.io.stdout(`Nothing to do: the version table already records ${label}\n`);
      return 0;
    }
    for (const r of change.remove) {
      ctx.io.stdout(
        `-  ${versionLabel(migrations, r.version)}  ${r.name}  (row removed; no SQL run)\n`,
      );
    }
    for (const m of change.resolve) {
      ctx.io.stdout(`~  ${m.versionText}  ${m.message}  (interrupted -> applied; no SQL run)\n`);
    }
    for (const m of change.add) {
      ctx.io.stdout(`+  ${m.versionText}  ${m.message}  (recorded as applied; no SQL run)\n`);
    }
    if (!exists) await ensureVersionTable(db, ctx.table);
    await db.runScript(renderStamp(change, { table: ctx.table, strataVersion: STRATA_VERSION }));
    ctx.io.stdout(
      `Stamped ${label}: ${change.add.length} added, ${change.remove.length} removed, ` +
        `${change.resolve.length} resolved\n`,
    );
    return 0;
  });
}
