/**
 * `upgrade` and `downgrade`: load and check every file, take the lock, read
 * the state, plan, run, report one line per migration and a summary.
 *
 * @module
 */

import type { BaselineView } from "../core/baseline.ts";
import { findStaleFileHashes } from "../core/checksum.ts";
import { checkEnvSet } from "../core/env_subst.ts";
import { StrataError } from "../core/errors.ts";
import { parseTarget, planDowngrade, planUpgrade, type Target } from "../core/plan.ts";
import { renderPlanScript, stepFile } from "../core/script.ts";
import { versionLabel } from "../core/state.ts";
import type { AppliedRow, Db, Migration, Plan } from "../core/types.ts";
import { TABLE_FORMAT } from "../core/version_table.ts";
import { renderFileHashes } from "../core/version_rows.ts";
import { type RunEvent, runPlan } from "../db/runner.ts";
import { recordBaseline } from "../db/baseline_record.ts";
import { ensureTables, readState, type StoredState } from "../db/store.ts";
import { type CommandContext, tableContext } from "./context.ts";
import { dryRunState, isDryRun } from "./dry_run.ts";
import type { LintState } from "./lint.ts";
import { type EnvUse, loadDir, planState, requireStepFiles } from "./load.ts";
import { doneRecord, planRecord, reporter, summaryLine } from "./migrate_report.ts";
import type { MigrateValues } from "./options.ts";
import { openEarly, withSession } from "./session.ts";

/** What `upgrade` or `downgrade` was asked to do. */
export interface MigrateRequest {
  readonly verb: "upgrade" | "downgrade";
  readonly options: MigrateValues;
  readonly args: readonly string[];
  /** `upgrade --lint`: lint what would run, and refuse on an error, before any lock. */
  readonly lint?: boolean;
}

/** Lock retries when `--lock-retries` is not given. */
export const DEFAULT_LOCK_RETRIES = 3;

/** What a run of `upgrade` or `downgrade` did: its plan (no steps: nothing to do) and time. */
export interface MigrateOutcome {
  readonly plan: Plan;
  readonly migrations: readonly Migration[];
  readonly ms: number;
}

/** Run `upgrade [TARGET]` or `downgrade TARGET`; returns the exit code (0). */
export async function runMigrate(ctx: CommandContext, request: MigrateRequest): Promise<number> {
  if (isDryRun(request.options)) {
    const script = await migrateScript(ctx, request);
    ctx.io.stdout(ctx.json ? JSON.stringify({ script }) + "\n" : script);
    return 0;
  }
  const { plan, migrations, ms } = await migrateDatabase(ctx, request, (plan, migrations) => {
    if (ctx.json) ctx.io.stdout(JSON.stringify(planRecord(plan, migrations)) + "\n");
    return reporter(ctx, plan);
  });
  if (plan.steps.length === 0) return nothingToDo(ctx, plan, migrations);
  ctx.io.stdout(
    (ctx.json
      ? JSON.stringify(doneRecord(plan, migrations, ms))
      : summaryLine(plan, migrations, ms)) +
      "\n",
  );
  return 0;
}

/**
 * The work of `upgrade` / `downgrade` (the CLI and the library API): load and
 * check every file, take the lock, read the state, plan, refuse what must be
 * refused (an unset `env` variable among them), then run. `onPlan` sees the
 * plan first and returns the handler of the run's events. Throws StrataError.
 */
export async function migrateDatabase(
  ctx: CommandContext,
  request: MigrateRequest,
  onPlan?: (plan: Plan, migrations: readonly Migration[]) => ((e: RunEvent) => void) | undefined,
): Promise<MigrateOutcome> {
  const { target, lockRetries } = parseRequest(request);
  const early = openEarly(ctx, true);
  const { migrations, planFor } = await loadAndLint(ctx, { request, target, early, env: "attach" });
  if (request.verb === "upgrade" && request.options["check-drift"]) {
    await refuseDrift(ctx, migrations, request.options).catch((err) => {
      early.abandon();
      throw err;
    });
  }
  return await withSession(
    ctx,
    { writable: true, lock: true, opened: early.opened },
    async (db, stop) => {
      const stored = await readState(db, ctx.table, { write: true });
      const { view, rows, edited } = planState(migrations, stored.rows);
      const plan = planFor(rows, edited);
      const onEvent = onPlan?.(plan, migrations);
      // Refused before strata writes anything (the baseline's record, file hashes).
      if (plan.steps.length > 0) checkEnvSet(plan.steps);
      await recordBaseline(db, view, tableContext(ctx), stored);
      await refreshFileHashes(db, ctx, { stored, view, edited, migrations });
      if (plan.steps.length === 0) return { plan, migrations, ms: 0 };
      // Created (or upgraded) only once there is something to record, so a refused run
      // changes nothing.
      await ensureTables(db, tableContext(ctx), stored);
      const ms = await runPlan(db, plan, {
        ...tableContext(ctx),
        dir: ctx.dir,
        lockRetries,
        singleTransaction: request.options["single-transaction"],
        stopSignal: stop,
        onEvent,
      });
      return { plan, migrations, ms };
    },
  );
}

/**
 * Record the byte hashes of unchanged applied files that lack a current one,
 * so the next runs need not lex them. Only on tables already in this format
 * (an older table is upgraded by the first real write, not by this), and not
 * while a baseline is being recorded (the next run does it).
 */
async function refreshFileHashes(
  db: Db,
  ctx: CommandContext,
  s: {
    stored: StoredState;
    view: BaselineView;
    edited: ReadonlySet<bigint>;
    migrations: readonly Migration[];
  },
): Promise<void> {
  if (s.stored.format !== TABLE_FORMAT || s.view.replaced.length > 0) return;
  const stale = findStaleFileHashes(s.migrations, s.view.rows, s.edited);
  if (stale.length > 0) await db.runScript(renderFileHashes(stale, tableContext(ctx)));
}

/**
 * The `--dry-run` script of `upgrade` / `downgrade` (the CLI and the library
 * API): `${NAME}` as written unless `--resolve-env`. Throws StrataError.
 */
export async function migrateScript(ctx: CommandContext, request: MigrateRequest): Promise<string> {
  const { target, targetText } = parseRequest(request);
  const { options } = request;
  const reveal = options["resolve-env"] === true;
  const { migrations, planFor, lint } = await loadAndLint(ctx, {
    request,
    target,
    early: null,
    env: reveal ? "reveal" : "none",
  });
  // One read of the state, for the lint (when asked) and the plan.
  const state = await dryRunState(ctx, migrations, options.from);
  await lint?.(state);
  const { rows, edited, prepareTables } = state;
  const plan = planFor(rows, edited);
  if (reveal) checkEnvSet(plan.steps);
  const title = `strata ${request.verb} ${targetText}: ${versionLabel(migrations, plan.from)} ` +
    `-> ${versionLabel(migrations, plan.to)} (${plan.steps.length} migrations)`;
  return renderPlanScript(plan, { ...tableContext(ctx), restore: state.restore }, {
    prepareTables: plan.steps.length > 0 ? prepareTables : "",
    singleTransaction: options["single-transaction"],
    title,
  });
}

type PlanFor = (rows: readonly AppliedRow[], edited: ReadonlySet<bigint>) => Plan;

function parseRequest(request: MigrateRequest) {
  const { verb, options } = request;
  const targetText = request.args[0] ?? (verb === "upgrade" ? "head" : undefined);
  if (targetText === undefined) {
    throw new StrataError("USAGE", "Cannot downgrade: no target given", {
      hint: 'Say how far: "strata downgrade -1" (one step), "strata downgrade 0003", or ' +
        '"strata downgrade base" (everything)',
    });
  }
  if (options["resolve-env"] && !isDryRun(options)) {
    throw new StrataError("USAGE", "Cannot use --resolve-env without --dry-run", {
      hint: "--resolve-env prints the values of ${NAME} variables in the dry-run script",
    });
  }
  const target = parseTarget(targetText, verb);
  return { target, targetText, lockRetries: parseRetries(options["lock-retries"]) };
}

/**
 * Load the files (closing an early session on failure) and lint them when
 * asked: at once from the early session's state, or, for a dry run (no early
 * session), through the returned `lint`, given the state the script is
 * planned from.
 */
async function loadAndLint(
  ctx: CommandContext,
  job: {
    request: MigrateRequest;
    target: Target;
    early: ReturnType<typeof openEarly> | null;
    env: EnvUse;
  },
): Promise<{
  migrations: readonly Migration[];
  planFor: PlanFor;
  lint?: (state: LintState) => Promise<void>;
}> {
  const { request, target, early } = job;
  let migrations: readonly Migration[];
  try {
    // Lazy: only the files this run uses are lexed (requireStepFiles, once planned).
    migrations = await loadDir(ctx, { env: job.env, lazy: true });
  } catch (err) {
    early?.abandon();
    throw err;
  }
  const planFor: PlanFor = (rows, edited) =>
    plan(migrations, rows, { ctx, request, target, edited });
  if (!request.lint) return { migrations, planFor };
  // Imported only here: the parser must not slow down a plain upgrade's start.
  const { lintBeforeUpgrade } = await import("./lint.ts");
  if (early) {
    await lintBeforeUpgrade(ctx, { migrations, planFor, early });
    return { migrations, planFor };
  }
  return {
    migrations,
    planFor,
    lint: (state) => lintBeforeUpgrade(ctx, { migrations, planFor, early: null, state }),
  };
}

function plan(
  migrations: readonly Migration[],
  rows: readonly AppliedRow[],
  how: {
    ctx: CommandContext;
    request: MigrateRequest;
    target: Target;
    edited: ReadonlySet<bigint>;
  },
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
  requireStepFiles(how.ctx, result.steps);
  if (options["single-transaction"]) refuseNonTransactional(result);
  return result;
}

/** `upgrade --check-drift`: a deploy gate, checked before the lock is taken. */
async function refuseDrift(
  ctx: CommandContext,
  migrations: readonly Migration[],
  options: MigrateValues,
): Promise<void> {
  const { checkDrift } = await import("./drift.ts");
  const result = await checkDrift(ctx, migrations, {
    "scratch-url": options["scratch-url"],
    ignore: options.ignore,
    privileges: options.privileges === true,
  });
  if (result.drift.length === 0) return;
  const { describeDrift } = await import("../core/drift.ts");
  throw new StrataError(
    "SCHEMA_DRIFT",
    `Cannot upgrade: the live schema differs from a replay of its applied migrations ` +
      `(${result.drift.length} differences)`,
    {
      details: result.drift.flatMap(describeDrift),
      hint: "Someone changed the schema by hand. Bring it back in line (or write a migration " +
        "that records the change), ignore objects managed elsewhere with --ignore, or run " +
        "without --check-drift; nothing was run",
    },
  );
}

function nothingToDo(ctx: CommandContext, plan: Plan, migrations: readonly Migration[]): number {
  ctx.io.stdout(
    ctx.json
      ? JSON.stringify(doneRecord(plan, migrations, 0)) + "\n"
      : `Nothing to do: the database is at ${versionLabel(migrations, plan.from)}\n`,
  );
  return 0;
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
