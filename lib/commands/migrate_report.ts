/**
 * What `upgrade` and `downgrade` print: one aligned line per migration with
 * its duration, retries, a progress counter on a terminal, the summary, and
 * the `--json` records of the same events.
 *
 * @module
 */

import { formatDuration, formatProgress, formatStepLine, stepLabelWidth } from "../core/output.ts";
import { stepFile } from "../core/script.ts";
import { versionLabel } from "../core/state.ts";
import type { Migration, Plan, Step } from "../core/types.ts";
import type { RunEvent } from "../db/runner.ts";
import type { CommandContext } from "./context.ts";

/** The `plan` record printed before a `--json` run. */
export function planRecord(plan: Plan, migrations: readonly Migration[]) {
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

/** The `done` record printed after a `--json` run. */
export function doneRecord(plan: Plan, migrations: readonly Migration[], ms: number) {
  return {
    event: "done",
    direction: plan.direction,
    count: plan.steps.length,
    ms: Math.round(ms),
    from: plan.from === null ? null : versionLabel(migrations, plan.from),
    to: plan.to === null ? null : versionLabel(migrations, plan.to),
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

function jsonEvent(ctx: CommandContext, e: RunEvent): void {
  if (e.type === "done") ctx.io.stdout(JSON.stringify(stepRecord(e.step, e.ms)) + "\n");
  if (e.type === "retry") {
    const { step, ...rest } = e;
    ctx.io.stdout(
      JSON.stringify({ ...rest, event: "retry", version: step.migration.versionText }) + "\n",
    );
  }
}

/** The run's event handler: step lines on stdout, retries and progress on stderr. */
export function reporter(ctx: CommandContext, plan: Plan): (e: RunEvent) => void {
  const width = stepLabelWidth(plan.steps);
  const progress = createProgress(ctx, plan.steps.length);
  return (e) => {
    if (ctx.json) return jsonEvent(ctx, e);
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

/** On a terminal, when more steps run than fit on a screen, a one-line counter on stderr. */
function createProgress(ctx: CommandContext, total: number): (index: number, step: Step) => void {
  if (!ctx.stderrIsTty || total <= ctx.screenRows) return () => {};
  return (index, step) => ctx.io.stderr(formatProgress(index, total, step.migration.versionText));
}

/** `Applied 3 migrations in 41 ms: 0002 -> 0005`. */
export function summaryLine(plan: Plan, migrations: readonly Migration[], ms: number): string {
  const n = plan.steps.length;
  const what = `${n} migration${n === 1 ? "" : "s"}`;
  const verb = plan.direction === "up" ? "Applied" : "Reverted";
  return `${verb} ${what} in ${formatDuration(ms)}: ` +
    `${versionLabel(migrations, plan.from)} -> ${versionLabel(migrations, plan.to)}`;
}
