/**
 * `upgrade` and `downgrade`: load and check every file, take the lock, read
 * the state, plan, run, report one line per migration and a summary.
 *
 * @module
 */

import { findEdited } from "../core/checksum.ts";
import { StrataError } from "../core/errors.ts";
import { formatDuration, formatProgress, formatStepLine, stepLabelWidth } from "../core/output.ts";
import { parseTarget, planDowngrade, planUpgrade } from "../core/plan.ts";
import { versionLabel } from "../core/state.ts";
import { type RunEvent, runPlan } from "../db/runner.ts";
import { renderPlanScript, stepFile } from "../core/script.ts";
import { ensureTables, readState } from "../db/store.ts";
import type { AppliedRow, Migration, Plan, Step } from "../core/types.ts";
import { STRATA_VERSION } from "../core/version.ts";
import { type CommandContext, loadDir, openEarly, withSession } from "./context.ts";
import { dryRunState, isDryRun } from "./dry_run.ts";

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
  const dryRun = isDryRun(ctx);
  const early = dryRun ? null : openEarly(ctx, true);
  let migrations: readonly Migration[];
  try {
    migrations = await loadDir(ctx);
  } catch (err) {
    early?.abandon();
    throw err;
  }
  const options = {
    allowDrift: ctx.flags["allow-drift"] === true,
    allowOutOfOrder: ctx.flags["allow-out-of-order"] === true,
  };
  const planFor = (rows: readonly AppliedRow[], edited: ReadonlySet<bigint>) => {
    const plan = verb === "upgrade"
      ? planUpgrade(migrations, rows, target, { ...options, edited })
      : planDowngrade(migrations, rows, target, { ...options, edited });
    if (singleTransaction) refuseNonTransactional(plan);
    return plan;
  };
  if (dryRun) {
    const { rows, edited, prepareTables } = await dryRunState(ctx, migrations);
    const plan = planFor(rows, edited);
    const title = `strata ${verb} ${targetText}: ${versionLabel(migrations, plan.from)} -> ` +
      `${versionLabel(migrations, plan.to)} (${plan.steps.length} migrations)`;
    const script = renderPlanScript(plan, scriptContext(ctx), {
      prepareTables: plan.steps.length > 0 ? prepareTables : "",
      singleTransaction,
      title,
    });
    ctx.io.stdout(ctx.json ? JSON.stringify({ script }) + "\n" : script);
    return 0;
  }
  return await withSession(
    ctx,
    { writable: true, lock: true, opened: early!.opened },
    async (db, stop) => {
      const { rows } = await readState(db, ctx.table);
      const plan = planFor(rows, await findEdited(migrations, rows));
      if (ctx.json) ctx.io.stdout(JSON.stringify(planRecord(plan, migrations)) + "\n");
      if (plan.steps.length === 0) {
        if (ctx.json) ctx.io.stdout(JSON.stringify(doneRecord(plan, migrations, 0)) + "\n");
        else {ctx.io.stdout(
            `Nothing to do: the database is at ${versionLabel(migrations, plan.from)}\n`,
          );}
        return 0;
      }
      // Created (or upgraded) only once there is something to record, so a refused run
      // changes nothing.
      await ensureTables(db, scriptContext(ctx));
      const ms = await runPlan(db, plan, {
        ...scriptContext(ctx),
        dir: ctx.dir,
        lockRetries,
        singleTransaction,
        stopSignal: stop,
        onEvent: reporter(ctx, plan),
      });
      ctx.io.stdout(
        (ctx.json
          ? JSON.stringify(doneRecord(plan, migrations, ms))
          : summaryLine(plan, migrations, ms)) +
          "\n",
      );
      return 0;
    },
  );
}

function scriptContext(ctx: CommandContext) {
  return { table: ctx.table, strataVersion: STRATA_VERSION };
}

function planRecord(plan: Plan, migrations: readonly Migration[]) {
  return {
    event: "plan",
    direction: plan.direction,
    from: plan.from === null ? null : versionLabel(migrations, plan.from),
    to: plan.to === null ? null : versionLabel(migrations, plan.to),
    steps: plan.steps.map((s) => ({
      version: s.migration.versionText,
      name: s.migration.name,
      file: stepFile(s).fileName,
      runs: stepFile(s).runMode.kind === "none" ? "statement-by-statement" : "transaction",
    })),
  };
}

function doneRecord(plan: Plan, migrations: readonly Migration[], ms: number) {
  return {
    event: "done",
    direction: plan.direction,
    count: plan.steps.length,
    ms: Math.round(ms),
    from: plan.from === null ? null : versionLabel(migrations, plan.from),
    to: plan.to === null ? null : versionLabel(migrations, plan.to),
  };
}

function reporter(ctx: CommandContext, plan: Plan): (e: RunEvent) => void {
  const width = stepLabelWidth(plan.steps);
  const progress = createProgress(ctx, plan.steps.length);
  return (e) => {
    if (ctx.json) {
      if (e.type === "done") ctx.io.stdout(JSON.stringify(stepRecord(e.step, e.ms)) + "\n");
      if (e.type === "retry") {
        const { step, ...rest } = e;
        ctx.io.stdout(
          JSON.stringify({ ...rest, event: "retry", version: step.migration.versionText }) + "\n",
        );
      }
      return;
    }
    if (e.type === "start") progress(e.index, e.step);
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

function stepRecord(step: Step, ms: number | null) {
  return {
    event: "step",
    direction: step.kind,
    version: step.migration.versionText,
    name: step.migration.name,
    message: step.migration.message,
    file: stepFile(step).fileName,
    ms: ms === null ? null : Math.round(ms),
  };
}

/** On a terminal, when more steps run than fit on a screen, a one-line counter on stderr. */
function createProgress(ctx: CommandContext, total: number): (index: number, step: Step) => void {
  if (!ctx.stderrIsTty || total <= ctx.screenRows) return () => {};
  return (index, step) => ctx.io.stderr(formatProgress(index, total, step.migration.versionText));
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
