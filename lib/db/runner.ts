/**
 * Execute a plan on a `Db`. A transactional migration is one message (BEGIN;
 * SET LOCAL …; the file; the version-table and log writes; COMMIT), atomic
 * with its record and one round trip; one that fails only on its lock timeout
 * (SQLSTATE 55P03) is retried with backoff. A non-transactional migration
 * runs statement by statement between a `started` row and its final record,
 * so an interruption stays visible. `singleTransaction` wraps the whole plan.
 *
 * @module
 */

import { type DbServerError, isDbServerError } from "../core/db_error.ts";
import { type ErrorCode, StrataError } from "../core/errors.ts";
import { caretSnippet, locatePosition } from "../core/location.ts";
import {
  renderMarkFinished,
  renderMarkStarted,
  renderMarkStatement,
  renderSessionTimeouts,
  renderTransactionalStep,
  type ScriptContext,
  stepFile,
  type StepSql,
} from "../core/script.ts";
import { recordFailure } from "./store.ts";
import type { Db, Plan, Step } from "../core/types.ts";

/** Progress of a run, for output. */
export type RunEvent =
  | { readonly type: "start"; readonly step: Step; readonly index: number; readonly total: number }
  /** `ms` is null for steps that ran together in one batch (`--single-transaction`). */
  | { readonly type: "done"; readonly step: Step; readonly ms: number | null }
  | {
    readonly type: "retry";
    readonly step: Step;
    readonly attempt: number;
    readonly retries: number;
    readonly delayMs: number;
  };

/** What the runner needs besides the plan. */
export interface RunOptions extends ScriptContext {
  /** Directory shown in front of file names in error locations. */
  readonly dir: string;
  readonly onEvent?: (event: RunEvent) => void;
  /** Retries of a transactional migration that failed with SQLSTATE 55P03 (default 3). */
  readonly lockRetries?: number;
  /** Run every step inside one transaction (all transactional steps only). */
  readonly singleTransaction?: boolean;
  /** The signal received, if any: checked between steps, and to classify a cancelled statement. */
  readonly stopSignal?: () => "SIGINT" | "SIGTERM" | null;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Where a failure happened, for the error message. */
interface FailurePoint {
  readonly plan: Plan;
  readonly index: number;
  /** The file text the position is mapped into. */
  readonly text: string;
  /**
   * Added to the server's 0-based character position to get a position in
   * `text`: negative when strata's own SQL came first in the message, positive
   * when the message was one statement from inside the file.
   */
  readonly offset: number;
  /** For a non-transactional step: the 0-based statement that failed, and how many there are. */
  readonly statement?: { readonly index: number; readonly count: number };
}

/**
 * Run every step in order; returns the total milliseconds. On failure throws
 * `MIGRATION_FAILED` (file:line:col, the line with a caret, the server's
 * message, detail and hint, and what was and was not applied), or
 * `INTERRUPTED_BY_SIGINT` / `INTERRUPTED_BY_SIGTERM` after a signal.
 */
export async function runPlan(db: Db, plan: Plan, options: RunOptions): Promise<number> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  if (options.singleTransaction) {
    await runBatched(db, plan, options);
    return now() - started;
  }
  for (let i = 0; i < plan.steps.length; i++) {
    const step = plan.steps[i];
    refuseIfStopping(plan, i, options);
    options.onEvent?.({ type: "start", step, index: i, total: plan.steps.length });
    const t0 = now();
    if (stepFile(step).runMode.kind === "none") await runStatements(db, plan, i, options);
    else await runTransactional(db, plan, i, options);
    options.onEvent?.({ type: "done", step, ms: now() - t0 });
  }
  return now() - started;
}

/** Texts of this size are sent as one message when everything runs in one transaction. */
const BATCH_CHARS = 4 * 1024 * 1024;

/**
 * `--single-transaction`: every step in one transaction, sent in as few
 * messages as fit in `BATCH_CHARS` (one round trip for a thousand small
 * files). A server error position is mapped back to the step and file it
 * falls in. Steps report `ms: null`: they ran together.
 */
async function runBatched(db: Db, plan: Plan, options: RunOptions): Promise<void> {
  const parts = plan.steps.map((step) =>
    renderTransactionalStep(step, options, { inOuterTransaction: true })
  );
  let first = 0;
  let prefix = "BEGIN;\n";
  while (first < parts.length) {
    refuseIfStopping(plan, first, options);
    let last = first;
    let size = parts[first].body.length;
    while (last + 1 < parts.length && size + parts[last + 1].body.length < BATCH_CHARS) {
      size += parts[++last].body.length;
    }
    const pieces = parts.slice(first, last + 1);
    const text = prefix + pieces.map((p) => p.prefix + p.body + p.suffix).join("") +
      (last + 1 === parts.length ? "COMMIT;\n" : "");
    try {
      await db.runScript(text);
    } catch (err) {
      await rollbackQuietly(db);
      if (!isDbServerError(err)) throw err;
      const at = locateBatchStep(err, { prefix, pieces, first });
      throw failure(
        err,
        { plan, index: at.index, text: parts[at.index].body, offset: -at.offset },
        options,
      );
    }
    for (let i = first; i <= last; i++) {
      options.onEvent?.({ type: "done", step: plan.steps[i], ms: null });
    }
    prefix = "";
    first = last + 1;
  }
}

/** Which step of a batch a server error position falls in, and where that step's body starts. */
function locateBatchStep(
  err: DbServerError,
  batch: { prefix: string; pieces: readonly StepSql[]; first: number },
): { index: number; offset: number } {
  const position = (err.position ?? 1) - 1;
  let chars = [...batch.prefix].length;
  for (let k = 0; k < batch.pieces.length; k++) {
    const p = batch.pieces[k];
    const bodyStart = chars + [...p.prefix].length;
    const end = bodyStart + [...p.body].length + [...p.suffix].length;
    if (position < end || k === batch.pieces.length - 1) {
      return { index: batch.first + k, offset: bodyStart };
    }
    chars = end;
  }
  return { index: batch.first, offset: 0 };
}

function refuseIfStopping(plan: Plan, index: number, options: RunOptions): void {
  const signal = options.stopSignal?.();
  if (!signal) return;
  throw new StrataError(
    signalCode(signal),
    `Stopped by ${signal} before "${label(plan.steps[index])}"`,
    {
      details: summary(plan, index, {
        single: options.singleTransaction === true,
        state: "not started",
      }),
    },
  );
}

async function runTransactional(
  db: Db,
  plan: Plan,
  index: number,
  options: RunOptions,
): Promise<void> {
  const step = plan.steps[index];
  const sql = renderTransactionalStep(step, options);
  const retries = options.lockRetries ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  for (let attempt = 0;; attempt++) {
    const t0 = performance.now();
    try {
      await db.runScript(sql.prefix + sql.body + sql.suffix);
      return;
    } catch (err) {
      await rollbackQuietly(db);
      if (!isDbServerError(err)) throw err;
      if (err.sqlstate === "55P03" && attempt < retries && !options.stopSignal?.()) {
        const delayMs = Math.min(100 * 2 ** attempt, 2000);
        options.onEvent?.({ type: "retry", step, attempt: attempt + 1, retries, delayMs });
        await sleep(delayMs);
        continue;
      }
      await logFailure(db, step, options, err, performance.now() - t0);
      throw failure(err, { plan, index, text: sql.body, offset: -[...sql.prefix].length }, options);
    }
  }
}

async function runStatements(
  db: Db,
  plan: Plan,
  index: number,
  options: RunOptions,
): Promise<void> {
  const step = plan.steps[index];
  const file = stepFile(step);
  const t0 = performance.now();
  const timeouts = renderSessionTimeouts(file.header);
  await db.runScript(renderMarkStarted(step, options));
  if (timeouts.set) await db.runScript(timeouts.set);
  const count = file.statements.length;
  for (let k = 0; k < count; k++) {
    const s = file.statements[k];
    if (k > 0) await db.runScript(renderMarkStatement(step, k, options));
    try {
      await db.runScript(file.text.slice(s.sqlStart, s.end));
    } catch (err) {
      if (!isDbServerError(err)) throw err;
      await logFailure(db, step, options, err, performance.now() - t0);
      const before = [...file.text.slice(0, s.sqlStart)].length;
      throw failure(err, {
        plan,
        index,
        text: file.text,
        offset: before,
        statement: { index: k, count },
      }, options);
    }
  }
  if (timeouts.reset) await db.runScript(timeouts.reset);
  await db.runScript(renderMarkFinished(step, performance.now() - t0, options));
}

async function logFailure(db: Db, step: Step, options: RunOptions, err: DbServerError, ms: number) {
  await recordFailure(db, options.table, {
    migration: step.migration,
    direction: step.kind,
    ms,
    detail: `${err.sqlstate} ${err.message}`,
    strataVersion: options.strataVersion,
  });
}

async function rollbackQuietly(db: Db): Promise<void> {
  try {
    await db.runScript("ROLLBACK");
  } catch {
    // Not in a transaction (or the connection is gone, which rolls back too).
  }
}

function signalCode(signal: "SIGINT" | "SIGTERM"): ErrorCode {
  return signal === "SIGINT" ? "INTERRUPTED_BY_SIGINT" : "INTERRUPTED_BY_SIGTERM";
}

function label(step: Step): string {
  return stepFile(step).fileName;
}

function failure(err: DbServerError, at: FailurePoint, options: RunOptions): StrataError {
  const step = at.plan.steps[at.index];
  const file = stepFile(step);
  const path = joinPath(options.dir, file.fileName);
  const loc = err.position ? locatePosition(at.text, err.position, -at.offset) : undefined;
  const details = [loc ? `at ${path}:${loc.line}:${loc.column}` : `in ${path}`];
  if (loc) details.push(...caretSnippet(loc));
  if (err.sqlstate) details.push(`SQLSTATE ${err.sqlstate}`);
  if (err.detail) details.push(`detail: ${err.detail}`);
  if (err.where) details.push(`context: ${err.where.split("\n")[0]}`);
  if (err.sqlstate === "53200") {
    details.push(
      "the server ran out of lock table space: one transaction touched too many objects; raise " +
        "max_locks_per_transaction, or run without --single-transaction",
    );
  }
  if (at.statement) {
    details.push(
      `it runs outside a transaction: statements 1 to ${at.statement.index} of ` +
        `${at.statement.count} were applied and remain; statement ${at.statement.index + 1} failed`,
    );
  }
  details.push(...summary(at.plan, at.index, {
    single: options.singleTransaction === true,
    state: at.statement ? "interrupted" : "rolled back",
  }));
  const signal = options.stopSignal?.();
  const code = signal && err.sqlstate === "57014" ? signalCode(signal) : "MIGRATION_FAILED";
  const message = code === "MIGRATION_FAILED"
    ? `Migration "${file.fileName}" failed: ${err.message}`
    : `Stopped by ${signal} during "${file.fileName}": the running statement was cancelled`;
  return new StrataError(code, message, {
    file: file.fileName,
    line: loc?.line,
    column: loc?.column,
    details,
    hint: at.statement
      ? `"${file.fileName}" is now marked interrupted. Inspect the database, finish or undo the ` +
        `rest by hand, then record the truth with "strata stamp VERSION"`
      : err.hint,
    cause: err,
  });
}

function joinPath(dir: string, name: string): string {
  return dir ? `${dir.replace(/\/+$/, "")}/${name}` : name;
}

function summary(
  plan: Plan,
  index: number,
  options: { single: boolean; state: "rolled back" | "interrupted" | "not started" },
): string[] {
  const labels = (steps: readonly Step[]) => steps.map((s) => s.migration.versionText).join(", ");
  const verb = plan.direction === "up" ? "applied" : "reverted";
  const done = plan.steps.slice(0, index);
  const rest = plan.steps.slice(index + 1);
  const failed = plan.steps[index].migration.versionText;
  if (options.single) {
    return [`the single transaction was rolled back: nothing was ${verb} (${labels(plan.steps)})`];
  }
  return [
    done.length ? `${verb} before the failure: ${labels(done)}` : `nothing was ${verb} before it`,
    {
      "rolled back": `${failed} was rolled back: nothing of it remains`,
      "interrupted": `${failed} is marked interrupted`,
      "not started": `${failed} was not started`,
    }[options.state],
    rest.length ? `not run: ${labels(rest)}` : "no further migrations were planned",
  ];
}
