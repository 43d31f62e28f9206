/**
 * `upgrade` and `downgrade`: load and check every file, take the lock, read
 * the state, plan, run, report one line per migration and a summary.
 *
 * @module
 */

import { findEdited } from "../core/checksum.ts";
import { StrataError } from "../core/errors.ts";
import { parseTarget, planDowngrade, planUpgrade, type Target } from "../core/plan.ts";
import { renderPlanScript, stepFile } from "../core/script.ts";
import { versionLabel } from "../core/state.ts";
import type { AppliedRow, Migration, Plan } from "../core/types.ts";
import { STRATA_VERSION } from "../core/version.ts";
import { runPlan } from "../db/runner.ts";
import { ensureTables, readState } from "../db/store.ts";
import type { CommandContext } from "./context.ts";
import { dryRunState, isDryRun } from "./dry_run.ts";
import { loadDir } from "./load.ts";
import { doneRecord, planRecord, reporter, summaryLine } from "./migrate_report.ts";
import type { MigrateValues } from "./options.ts";
import { openEarly, withSession } from "./session.ts";

/** What `upgrade` or `downgrade` was asked to do. */
export interface MigrateRequest {
  readonly verb: "upgrade" | "downgrade";
  readonly options: MigrateValues;
  readonly args: readonly string[];
}

/** Lock retries when `--lock-retries` is not given. */
export const DEFAULT_LOCK_RETRIES = 3;

/** Run `upgrade [TARGET]` or `downgrade TARGET`; returns the exit code (0). */
export async function runMigrate(ctx: CommandContext, request: MigrateRequest): Promise<number> {
  const { verb, options } = request;
  const targetText = request.args[0] ?? (verb === "upgrade" ? "head" : undefined);
  if (targetText === undefined) {
    throw new StrataError("USAGE", "Cannot downgrade: no target given", {
      hint: 'Say how far: "strata downgrade -1" (one step), "strata downgrade 0003", or ' +
        '"strata downgrade base" (everything)',
    });
  }
  const target = parseTarget(targetText, verb);
  const lockRetries = parseRetries(options["lock-retries"]);
  const dryRun = isDryRun(options);
  const early = dryRun ? null : openEarly(ctx, true);
  let migrations: readonly Migration[];
  try {
    migrations = await loadDir(ctx);
  } catch (err) {
    early?.abandon();
    throw err;
  }
  const planFor = (rows: readonly AppliedRow[], edited: ReadonlySet<bigint>) =>
    plan(migrations, rows, { request, target, edited });
  if (dryRun) return await printScript(ctx, { migrations, planFor, request, targetText });
  return await withSession(
    ctx,
    { writable: true, lock: true, opened: early!.opened },
    async (db, stop) => {
      const { rows } = await readState(db, ctx.table);
      const plan = planFor(rows, await findEdited(migrations, rows));
      if (ctx.json) ctx.io.stdout(JSON.stringify(planRecord(plan, migrations)) + "\n");
      if (plan.steps.length === 0) return nothingToDo(ctx, plan, migrations);
      // Created (or upgraded) only once there is something to record, so a refused run
      // changes nothing.
      await ensureTables(db, scriptContext(ctx));
      const ms = await runPlan(db, plan, {
        ...scriptContext(ctx),
        dir: ctx.dir,
        lockRetries,
        singleTransaction: options["single-transaction"],
        stopSignal: stop,
        onEvent: reporter(ctx, plan),
      });
      ctx.io.stdout(
        (ctx.json
          ? JSON.stringify(doneRecord(plan, migrations, ms))
          : summaryLine(plan, migrations, ms)) + "\n",
      );
      return 0;
    },
  );
}

function plan(
  migrations: readonly Migration[],
  rows: readonly AppliedRow[],
  how: { request: MigrateRequest; target: Target; edited: ReadonlySet<bigint> },
): Plan {
  const { options } = how.request;
  const planOptions = {
    allowDrift: options["allow-drift"],
    allowOutOfOrder: options["allow-out-of-order"] === true,
    edited: how.edited,
  };
  const result = how.request.verb === "upgrade"
    ? planUpgrade(migrations, rows, how.target, planOptions)
    : planDowngrade(migrations, rows, how.target, planOptions);
  if (options["single-transaction"]) refuseNonTransactional(result);
  return result;
}

async function printScript(
  ctx: CommandContext,
  job: {
    migrations: readonly Migration[];
    planFor: (rows: readonly AppliedRow[], edited: ReadonlySet<bigint>) => Plan;
    request: MigrateRequest;
    targetText: string;
  },
): Promise<number> {
  const { migrations, request } = job;
  const { rows, edited, prepareTables } = await dryRunState(ctx, migrations, request.options.from);
  const plan = job.planFor(rows, edited);
  const title =
    `strata ${request.verb} ${job.targetText}: ${versionLabel(migrations, plan.from)} ` +
    `-> ${versionLabel(migrations, plan.to)} (${plan.steps.length} migrations)`;
  const script = renderPlanScript(plan, scriptContext(ctx), {
    prepareTables: plan.steps.length > 0 ? prepareTables : "",
    singleTransaction: request.options["single-transaction"],
    title,
  });
  ctx.io.stdout(ctx.json ? JSON.stringify({ script }) + "\n" : script);
  return 0;
}

function nothingToDo(ctx: CommandContext, plan: Plan, migrations: readonly Migration[]): number {
  ctx.io.stdout(
    ctx.json
      ? JSON.stringify(doneRecord(plan, migrations, 0)) + "\n"
      : `Nothing to do: the database is at ${versionLabel(migrations, plan.from)}\n`,
  );
  return 0;
}

function scriptContext(ctx: CommandContext) {
  return { table: ctx.table, strataVersion: STRATA_VERSION };
}

function parseRetries(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LOCK_RETRIES;
  if (!/^\d+$/.test(value) || Number(value) > 1000) {
    throw new StrataError("USAGE", `Cannot use --lock-retries "${value}": not a count`, {
      hint: "Give a whole number from 0 to 1000 (0: never retry)",
    });
  }
  return Number(value);
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
