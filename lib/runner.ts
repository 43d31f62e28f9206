/**
 * Execute a plan on a `Db`: each transactional migration is one message
 * (BEGIN; SET LOCAL …; the file; the version-table and log writes; COMMIT),
 * so it is atomic with its record and costs one round trip.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { caretSnippet, locatePosition } from "./location.ts";
import { renderTransactionalStep, type ScriptContext } from "./script.ts";
import { recordFailure } from "./store.ts";
import type { Db, Plan, Step } from "./types.ts";

/** Progress of a run, for output. */
export type RunEvent =
  | { readonly type: "start"; readonly step: Step; readonly index: number; readonly total: number }
  | { readonly type: "done"; readonly step: Step; readonly ms: number };

/** What the runner needs besides the plan. */
export interface RunOptions extends ScriptContext {
  /** Directory shown in front of file names in error locations. */
  readonly dir: string;
  readonly onEvent?: (event: RunEvent) => void;
  readonly now?: () => number;
}

interface ServerError {
  message: string;
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
  where?: string;
}

/**
 * Run every step in order. Returns the total milliseconds. On a failing step
 * the step is rolled back, a failed attempt is logged, and `MIGRATION_FAILED`
 * is thrown with the file:line:col, the line with a caret, the server's
 * message, detail and hint, and what was and was not applied.
 */
export async function runPlan(db: Db, plan: Plan, options: RunOptions): Promise<number> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  for (let i = 0; i < plan.steps.length; i++) {
    const step = plan.steps[i];
    options.onEvent?.({ type: "start", step, index: i, total: plan.steps.length });
    const t0 = now();
    const sql = renderTransactionalStep(step, options);
    try {
      await db.runScript(sql.prefix + sql.body + sql.suffix);
    } catch (err) {
      const ms = now() - t0;
      await rollbackQuietly(db);
      if (!isServerError(err)) throw err;
      await recordFailure(db, options.table, {
        migration: step.migration,
        direction: step.kind,
        ms,
        detail: `${err.code ?? ""} ${err.message}`.trim(),
        strataVersion: options.strataVersion,
      });
      throw failure(err, { plan, index: i, prefix: sql.prefix, body: sql.body, dir: options.dir });
    }
    options.onEvent?.({ type: "done", step, ms: now() - t0 });
  }
  return now() - started;
}

async function rollbackQuietly(db: Db): Promise<void> {
  try {
    await db.runScript("ROLLBACK");
  } catch {
    // Not in a transaction (or the connection is gone): nothing to roll back.
  }
}

function isServerError(err: unknown): err is ServerError {
  return (err as { name?: string })?.name === "PostgresError";
}

function failure(
  err: ServerError,
  at: { plan: Plan; index: number; prefix: string; body: string; dir: string },
): StrataError {
  const step = at.plan.steps[at.index];
  const file = step.kind === "up" ? step.migration.up : step.migration.down!;
  const path = at.dir ? `${at.dir.replace(/\/+$/, "")}/${file.fileName}` : file.fileName;
  const details: string[] = [];
  const loc = err.position
    ? locatePosition(at.body, Number(err.position), [...at.prefix].length)
    : undefined;
  details.push(loc ? `at ${path}:${loc.line}:${loc.column}` : `in ${path}`);
  if (loc) details.push(...caretSnippet(loc));
  if (err.code) details.push(`SQLSTATE ${err.code}`);
  if (err.detail) details.push(`detail: ${err.detail}`);
  if (err.where) details.push(`context: ${err.where.split("\n")[0]}`);
  details.push(...summary(at.plan, at.index));
  return new StrataError(
    "MIGRATION_FAILED",
    `Migration "${file.fileName}" failed: ${err.message}`,
    {
      file: file.fileName,
      line: loc?.line,
      column: loc?.column,
      details,
      hint: err.hint,
      cause: err,
    },
  );
}

function summary(plan: Plan, index: number): string[] {
  const label = (s: Step) => s.migration.versionText;
  const verb = plan.direction === "up" ? "applied" : "reverted";
  const done = plan.steps.slice(0, index).map(label);
  const failed = label(plan.steps[index]);
  const rest = plan.steps.slice(index + 1).map(label);
  return [
    done.length
      ? `${verb} before the failure: ${done.join(", ")}`
      : `nothing was ${verb} before it`,
    `${failed} was rolled back: nothing of it remains`,
    rest.length ? `not run: ${rest.join(", ")}` : "no further migrations were planned",
  ];
}
