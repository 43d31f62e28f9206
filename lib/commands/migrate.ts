/**
 * `upgrade` and `downgrade`: load and check every file, take the lock, read
 * the state, plan, run, report one line per migration and a summary.
 *
 * @module
 */

import { StrataError } from "../errors.ts";
import { formatDuration, formatStepLine, stepLabelWidth } from "../output.ts";
import { parseTarget, planDowngrade, planUpgrade, versionLabel } from "../plan.ts";
import { runPlan } from "../runner.ts";
import { ensureVersionTable, readState } from "../store.ts";
import type { Migration, Plan } from "../types.ts";
import { STRATA_VERSION } from "../version.ts";
import { type CommandContext, loadDir, withSession } from "./context.ts";

/** Run `upgrade [TARGET]` or `downgrade TARGET`; returns the exit code (0). */
export async function runMigrate(
  ctx: CommandContext,
  verb: "upgrade" | "downgrade",
): Promise<number> {
  const targetText = ctx.positionals[0] ?? (verb === "upgrade" ? "head" : undefined);
  if (targetText === undefined) {
    throw new StrataError("USAGE", "Cannot downgrade: no target given", {
      hint: 'Say how far: "strata downgrade -1" (one step), "strata downgrade 0003", or ' +
        '"strata downgrade base" (everything)',
    });
  }
  const target = parseTarget(targetText, verb);
  const migrations = await loadDir(ctx);
  const options = {
    allowDrift: ctx.flags["allow-drift"] === true,
    allowOutOfOrder: ctx.flags["allow-out-of-order"] === true,
  };
  return await withSession(ctx, { writable: true, lock: true }, async (db) => {
    const { rows, exists } = await readState(db, ctx.table);
    const plan = verb === "upgrade"
      ? planUpgrade(migrations, rows, target, options)
      : planDowngrade(migrations, rows, target, options);
    refuseNonTransactional(plan);
    if (plan.steps.length === 0) {
      ctx.io.stdout(`Nothing to do: the database is at ${versionLabel(migrations, plan.from)}\n`);
      return 0;
    }
    // Created only once there is something to record, so a refused run changes nothing.
    if (!exists) await ensureVersionTable(db, ctx.table);
    const width = stepLabelWidth(plan.steps);
    const ms = await runPlan(db, plan, {
      table: ctx.table,
      strataVersion: STRATA_VERSION,
      dir: ctx.dir,
      onEvent: (e) => {
        if (e.type === "done") {
          ctx.io.stdout(formatStepLine(e.step, e.ms, { width, color: ctx.color }) + "\n");
        }
      },
    });
    ctx.io.stdout(summaryLine(plan, migrations, ms) + "\n");
    return 0;
  });
}

function summaryLine(plan: Plan, migrations: readonly Migration[], ms: number): string {
  const n = plan.steps.length;
  const what = `${n} migration${n === 1 ? "" : "s"}`;
  const verb = plan.direction === "up" ? "Applied" : "Reverted";
  return `${verb} ${what} in ${formatDuration(ms)}: ` +
    `${versionLabel(migrations, plan.from)} -> ${versionLabel(migrations, plan.to)}`;
}

function refuseNonTransactional(plan: Plan): void {
  for (const step of plan.steps) {
    const file = step.kind === "up" ? step.migration.up : step.migration.down!;
    if (file.runMode.kind === "transaction") continue;
    throw new StrataError(
      "NOT_SUPPORTED",
      `Cannot run "${file.fileName}" yet: it must run outside a transaction (${file.runMode.reason})`,
      {
        file: file.fileName,
        hint:
          "Statement-by-statement migrations are not supported by this version; nothing was run",
      },
    );
  }
}
