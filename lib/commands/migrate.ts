/**
 * `upgrade` and `downgrade`: load and check every file, take the lock, read
 * the state, plan, run, report one line per migration and a summary.
 *
 * @module
 */

import { StrataError } from "../errors.ts";
import { formatDuration, formatStepLine, stepLabelWidth } from "../output.ts";
import { parseTarget, planDowngrade, planUpgrade, versionLabel } from "../plan.ts";
import { type RunEvent, runPlan } from "../runner.ts";
import { stepFile } from "../script.ts";
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
  const lockRetries = parseRetries(ctx.flags["lock-retries"] as string | undefined);
  const singleTransaction = ctx.flags["single-transaction"] === true;
  const migrations = await loadDir(ctx);
  const options = {
    allowDrift: ctx.flags["allow-drift"] === true,
    allowOutOfOrder: ctx.flags["allow-out-of-order"] === true,
  };
  return await withSession(ctx, { writable: true, lock: true }, async (db, stop) => {
    const { rows, exists } = await readState(db, ctx.table);
    const plan = verb === "upgrade"
      ? planUpgrade(migrations, rows, target, options)
      : planDowngrade(migrations, rows, target, options);
    if (singleTransaction) refuseNonTransactional(plan);
    if (plan.steps.length === 0) {
      ctx.io.stdout(`Nothing to do: the database is at ${versionLabel(migrations, plan.from)}\n`);
      return 0;
    }
    // Created only once there is something to record, so a refused run changes nothing.
    if (!exists) await ensureVersionTable(db, ctx.table);
    const ms = await runPlan(db, plan, {
      table: ctx.table,
      strataVersion: STRATA_VERSION,
      dir: ctx.dir,
      lockRetries,
      singleTransaction,
      stopSignal: stop,
      onEvent: reporter(ctx, plan),
    });
    ctx.io.stdout(summaryLine(plan, migrations, ms) + "\n");
    return 0;
  });
}

function reporter(ctx: CommandContext, plan: Plan): (e: RunEvent) => void {
  const width = stepLabelWidth(plan.steps);
  return (e) => {
    if (e.type === "done") {
      ctx.io.stdout(formatStepLine(e.step, e.ms, { width, color: ctx.color }) + "\n");
    } else if (e.type === "retry") {
      ctx.io.stderr(
        `lock timeout in "${stepFile(e.step).fileName}" (SQLSTATE 55P03): rolled back; retry ` +
          `${e.attempt} of ${e.retries} in ${formatDuration(e.delayMs)}\n`,
      );
    }
  };
}

function parseRetries(value: string | undefined): number {
  if (value === undefined) return 3;
  if (!/^\d+$/.test(value) || Number(value) > 1000) {
    throw new StrataError("USAGE", `Cannot use --lock-retries "${value}": not a count`, {
      hint: "Give a whole number from 0 to 1000 (0: never retry)",
    });
  }
  return Number(value);
}

function summaryLine(plan: Plan, migrations: readonly Migration[], ms: number): string {
  const n = plan.steps.length;
  const what = `${n} migration${n === 1 ? "" : "s"}`;
  const verb = plan.direction === "up" ? "Applied" : "Reverted";
  return `${verb} ${what} in ${formatDuration(ms)}: ` +
    `${versionLabel(migrations, plan.from)} -> ${versionLabel(migrations, plan.to)}`;
}

function refuseNonTransactional(plan: Plan): void {
  const step = plan.steps.find((s) => stepFile(s).runMode.kind === "none");
  if (!step) return;
  const file = stepFile(step);
  throw new StrataError(
    "RUN_MODE_REFUSED",
    `Cannot use --single-transaction: "${file.fileName}" must run outside a transaction`,
    {
      file: file.fileName,
      hint: `${file.runMode.reason}. Run without --single-transaction, or stop before it; ` +
        "nothing was run",
    },
  );
}
