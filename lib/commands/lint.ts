/**
 * `lint`: check migrations for statements that lock, rewrite or scan busy
 * tables, on PostgreSQL's own parser; with `--trace`, run them on a scratch
 * database and report what PostgreSQL really did. Also the check
 * `upgrade --lint` runs before it takes any lock.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import type { FileLint } from "../core/lint_check.ts";
import { checkLintOptions, DEFAULT_PG_VERSION, type LINT_OPTIONS } from "../core/lint_options.ts";
import {
  assembleReport,
  hasFailed,
  lintFailedError,
  type LintReport,
  renderGithub,
  renderText,
  reportJson,
  summarize,
  type VersionSource,
} from "../core/lint_report.ts";
import { type LintScope, planLintSteps } from "../core/lint_scope.ts";
import type { AppliedRow, Db, Migration, Plan } from "../core/types.ts";
import { readState } from "../db/store.ts";
import { lintSteps } from "../lint/lint.ts";
import { type TraceResult, traceSteps } from "../lint/trace.ts";
import { type CommandContext, tableContext } from "./context.ts";
import { loadDir, planState } from "./load.ts";
import type { OptionValues } from "./options.ts";
import { withScratch } from "./scratch.ts";
import { hasDatabase, serverMajor, withSession } from "./session.ts";

/** The values `lint` receives. */
export type LintValues = OptionValues<typeof LINT_OPTIONS>;

/** Exit 0, or throw `LINT_FAILED` (exit 6) after printing the report when an error fired. */
export async function runLint(
  ctx: CommandContext,
  options: LintValues,
  args: readonly string[],
): Promise<number> {
  const { format, pgOption } = checkLintOptions(options, args);
  const migrations = await loadDir(ctx);
  const { scope, serverVersion } = await chooseScope(ctx, migrations, { all: options.all, args });
  const steps = planLintSteps(migrations, scope);
  const pgVersion = pgOption ?? serverVersion ?? DEFAULT_PG_VERSION;
  const lints = await lintSteps(steps, { pgVersion });
  const trace = options.trace
    ? await withScratch(ctx, options["scratch-url"], async (scratch) => ({
      display: scratch.display,
      result: await traceSteps(scratch.db, steps, { ...tableContext(ctx), dir: ctx.dir }),
    }))
    : null;
  const report = buildReport(ctx, lints, {
    scope: scope.kind,
    pgVersion,
    versionSource: pgOption ? "option" : serverVersion ? "server" : "assumed",
    trace,
  });
  if (ctx.json) ctx.io.stdout(JSON.stringify(reportJson(report, options)) + "\n");
  else if (format === "github") ctx.io.stdout(renderGithub(report));
  else ctx.io.stdout(renderText(report, { color: ctx.color }));
  if (hasFailed(report, options)) throw lintFailedError(report, { strict: options.strict });
  return 0;
}

async function chooseScope(
  ctx: CommandContext,
  migrations: readonly Migration[],
  ask: { all: boolean; args: readonly string[] },
): Promise<{ scope: LintScope; serverVersion?: number }> {
  if (ask.all) return { scope: { kind: "all" } };
  if (ask.args.length > 0) return { scope: { kind: "explicit", names: ask.args } };
  if (!hasDatabase(ctx)) {
    throw new StrataError(
      "NO_DATABASE",
      "Cannot lint the pending migrations: no database is configured",
      {
        hint: 'Pass --all to lint every file offline, name the files ("strata lint 0007"), or ' +
          "set --database-url / DATABASE_URL to lint what is pending there",
      },
    );
  }
  const state = await withSession(
    ctx,
    { writable: false, lock: false },
    (db) => readLintState(ctx, db, migrations),
  );
  const applied = new Set(state.rows.map((r) => r.version));
  return { scope: { kind: "pending", applied }, serverVersion: state.serverMajor };
}

/** What lint plans from: the applied rows, the edited versions, the server's major version if known. */
export interface LintState {
  readonly rows: readonly AppliedRow[];
  readonly edited: ReadonlySet<bigint>;
  readonly serverMajor?: number;
}

/** The state, read without a lock, and the version the session's preparation read. */
async function readLintState(
  ctx: CommandContext,
  db: Db,
  migrations: readonly Migration[],
): Promise<LintState> {
  const { rows, edited } = planState(migrations, (await readState(db, ctx.table)).rows);
  return { rows, edited, serverMajor: serverMajor(db) };
}

function buildReport(
  ctx: CommandContext,
  lints: readonly FileLint[],
  meta: {
    scope: LintReport["scope"];
    pgVersion: number;
    versionSource: VersionSource;
    trace: { display: string; result: TraceResult } | null;
  },
): LintReport {
  const trace = meta.trace ? { ...meta.trace.result, scratch: meta.trace.display } : null;
  return assembleReport(lints, { ...meta, dir: ctx.dir, trace });
}

/** What `upgrade --lint` needs from `upgrade`. */
export interface UpgradeLintJob {
  readonly migrations: readonly Migration[];
  readonly planFor: (rows: readonly AppliedRow[], edited: ReadonlySet<bigint>) => Plan;
  /** The session `upgrade` is opening (not yet locked), whose state lint reads... */
  readonly early: { readonly opened: Promise<Db>; abandon(): void } | null;
  /** ...or, for a dry run, the state its script is planned from. */
  readonly state?: LintState;
}

/**
 * `upgrade --lint`: plan from the state read without the lock, lint the
 * migrations the plan would apply, print warnings on stderr, and throw
 * `LINT_FAILED` (listing the findings) when an error fired, before any lock
 * is taken. Abandons the early session when it throws.
 */
export async function lintBeforeUpgrade(ctx: CommandContext, job: UpgradeLintJob): Promise<void> {
  try {
    const state = job.early
      ? await readLintState(ctx, await job.early.opened, job.migrations)
      : job.state!;
    const plan = job.planFor(state.rows, state.edited);
    if (plan.direction !== "up" || plan.steps.length === 0) return;
    const names = plan.steps.map((s) => s.migration.versionText);
    const version = state.serverMajor;
    const pgVersion = version ?? DEFAULT_PG_VERSION;
    const lints = await lintSteps(planLintSteps(job.migrations, { kind: "explicit", names }), {
      pgVersion,
    });
    const report = buildReport(ctx, lints, {
      scope: "pending",
      pgVersion,
      versionSource: version ? "server" : "assumed",
      trace: null,
    });
    const text = renderText(report, { color: false });
    if (hasFailed(report, { strict: false })) {
      const s = summarize(report);
      throw new StrataError(
        "LINT_FAILED",
        `Cannot upgrade: lint found ${s.errors} error${s.errors === 1 ? "" : "s"} in the ` +
          "pending migrations; nothing was run and no lock was taken",
        {
          details: text.trimEnd().split("\n").filter((line) => line !== ""),
          hint: "Use the safe alternatives shown, or suppress a finding on purpose with a header " +
            'line "-- lint-ignore: RULE -- the reason"; "strata lint" shows the same report',
        },
      );
    }
    if (summarize(report).warnings > 0) ctx.io.stderr(text);
  } catch (err) {
    job.early?.abandon();
    throw err;
  }
}
