/**
 * Execute a plan on a `Db`. A transactional migration is one message (BEGIN;
 * SET LOCAL …; the file; the session restored; the version-table and log
 * writes through the session's prepared statements; COMMIT), atomic with its
 * record and one round trip; one that
 * fails only on its lock timeout (SQLSTATE 55P03) is retried with backoff. A
 * statement-by-statement migration runs between a `started` (or
 * `reverting`) row and its final record, so an interruption stays visible.
 * `singleTransaction` wraps the whole plan.
 *
 * @module
 */

import { type DbServerError, isDbServerError } from "../core/db_error.ts";
import { restoreServerError } from "../core/env_subst.ts";
import {
  type FailureContext,
  isBookkeepingError,
  migrationFailure,
  type Signal,
  stoppedBefore,
} from "../core/failure.ts";
import {
  renderBatchEnd,
  renderSessionTimeouts,
  renderStatementMark,
  renderTransactionalStep,
  restoreOf,
  type ScriptContext,
  statementText,
  stepFile,
} from "../core/script.ts";
import type { Db, Plan, Step } from "../core/types.ts";
import type { TableContext } from "../core/version_table.ts";
import { quoteTable } from "../core/quote.ts";
import {
  PREPARED_RECORDS,
  renderFailureLog,
  renderMarkFinished,
  renderMarkStarted,
  renderPrepareRecord,
} from "../core/version_rows.ts";
import { sessionRestore } from "./session.ts";
import { displayName, guard } from "./store.ts";
import { StrataError } from "../core/errors.ts";

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
  /** Retries of a transactional migration that failed with SQLSTATE 55P03. */
  readonly lockRetries: number;
  /** Run every step inside one transaction (all transactional steps only). */
  readonly singleTransaction?: boolean;
  /** The signal received, if any: checked between steps, and to classify a cancelled statement. */
  readonly stopSignal?: () => Signal | null;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Run every step in order; returns the total milliseconds. On failure throws
 * `MIGRATION_FAILED` (file:line:col, the line with a caret, the server's
 * message, detail and hint, and what was and was not applied, also as
 * `partial`), `BOOKKEEPING_FAILED` when strata's own write failed after the
 * file, or `INTERRUPTED_BY_SIGINT` / `INTERRUPTED_BY_SIGTERM` after a signal.
 */
export async function runPlan(db: Db, plan: Plan, given: RunOptions): Promise<number> {
  // Each file's text ends with the restore for this session's server.
  const options = { ...given, restore: given.restore ?? sessionRestore(db) };
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
    if (stepFile(step).runMode.kind === "none") {
      // What the file's statements did to the session is not known: check before the next record.
      preparedRecords.delete(db);
      await runStatements(db, plan, i, options);
    } else {
      await prepareRecordOrFail(db, plan, i, options);
      await runTransactional(db, plan, i, options);
    }
    options.onEvent?.({ type: "done", step, ms: now() - t0 });
  }
  return now() - started;
}

function failureContext(options: RunOptions): FailureContext {
  return {
    dir: options.dir,
    singleTransaction: options.singleTransaction === true,
    signal: options.stopSignal?.() ?? null,
  };
}

function refuseIfStopping(plan: Plan, index: number, options: RunOptions): void {
  if (options.stopSignal?.()) throw stoppedBefore(plan, index, failureContext(options));
}

/**
 * `--single-transaction`: every step in one transaction, each step's text
 * its own message (BEGIN with the first, the batch's record and COMMIT with
 * the last), so a failure is the failing file's: the server gives no
 * position for an error at run time (a duplicate key, a division by zero),
 * and a batch of files sent as one message could not say which file it came
 * from. Steps report `ms: null`: they commit together.
 */
async function runBatched(db: Db, plan: Plan, options: RunOptions): Promise<void> {
  const last = plan.steps.length - 1;
  const t0 = performance.now();
  for (let i = 0; i <= last; i++) {
    if (options.stopSignal?.()) {
      // The transaction the first message opened is rolled back before the stop is reported (an
      // application's own PGlite session stays open after strata is done with it).
      if (i > 0) await rollbackQuietly(db);
      throw stoppedBefore(plan, i, failureContext(options));
    }
    const sql = renderTransactionalStep(plan.steps[i], options, { inOuterTransaction: true });
    const prefix = (i === 0 ? "BEGIN;\n" : "") + sql.prefix;
    try {
      await db.runScript(
        prefix + sql.body + sql.suffix + (i === last ? renderBatchEnd(plan.steps, options) : ""),
      );
    } catch (err) {
      await rollbackQuietly(db);
      if (!isDbServerError(err)) throw err;
      throw await fileFailed(db, plan, i, options, { err, prefix, t0 });
    }
  }
  for (const step of plan.steps) options.onEvent?.({ type: "done", step, ms: null });
}

function isOwnError(err: DbServerError, bodyEnd: number, step: Step, options: RunOptions): boolean {
  const file = stepFile(step);
  const last = file.statements.at(-1);
  const bodyClosed = last === undefined || file.text.slice(last.sqlStart, last.end).endsWith(";");
  return isBookkeepingError(err, { bodyEnd, tableName: options.table.name, bodyClosed });
}

async function runTransactional(
  db: Db,
  plan: Plan,
  index: number,
  options: RunOptions,
): Promise<void> {
  const step = plan.steps[index];
  const sql = renderTransactionalStep(step, options);
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  for (let attempt = 0;; attempt++) {
    const t0 = performance.now();
    try {
      await db.runScript(sql.prefix + sql.body + sql.suffix);
      return;
    } catch (err) {
      await rollbackQuietly(db);
      preparedRecords.delete(db); // A file may have deallocated them (inside a DO block).
      if (!isDbServerError(err)) throw err;
      if (err.sqlstate === "55P03" && attempt < options.lockRetries && !options.stopSignal?.()) {
        const delayMs = Math.min(100 * 2 ** attempt, 2000);
        const retries = options.lockRetries;
        options.onEvent?.({ type: "retry", step, attempt: attempt + 1, retries, delayMs });
        await sleep(delayMs);
        continue;
      }
      throw await fileFailed(db, plan, index, options, { err, prefix: sql.prefix, t0 });
    }
  }
}

/**
 * The error of a transactional step whose message failed (already rolled
 * back): the server's error placed in the file (its body follows `prefix` in
 * the message), the failure appended to the log, and whether it was strata's
 * own write or the file's.
 */
async function fileFailed(
  db: Db,
  plan: Plan,
  index: number,
  options: RunOptions,
  at: { err: DbServerError; prefix: string; t0: number },
): Promise<StrataError> {
  const step = plan.steps[index];
  const file = stepFile(step);
  const body = file.runMode.body;
  const start = [...at.prefix].length;
  const shown = restoreServerError(at.err, file, { start, text: body });
  await logFailure(db, step, options, shown, performance.now() - at.t0);
  return migrationFailure(shown, {
    plan,
    index,
    text: body,
    offset: -start,
    bookkeeping: isOwnError(shown, start + [...body].length, step, options),
  }, failureContext(options));
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
  const grant = `GRANT SELECT, INSERT, UPDATE, DELETE ON ${displayName(options.table)}, ` +
    `${displayName(options.table)}_log TO the role strata connects as`;
  await guard(
    () => db.runScript(renderMarkStarted(step, options) + renderSessionTimeouts(file.header)),
    { action: `record that "${file.fileName}" is starting`, fix: grant },
  );
  const count = file.statements.length;
  for (let k = 0; k < count; k++) {
    const s = file.statements[k];
    const mark = renderStatementMark(step, k, options);
    // strata's mark runs in the same session as the file's statements: a failure of it (a
    // setting the file made) is recovered and reported like the statement's own.
    let own = mark !== "";
    try {
      if (own) await db.runScript(mark);
      own = false;
      await db.runScript(statementText(file, k));
    } catch (err) {
      if (!isDbServerError(err)) throw err;
      const firstLost = await recoverAfterStatement(
        db,
        file.runMode.blockStarts?.[k] ?? null,
        k,
        restoreOf(options),
      );
      const shown = restoreServerError(err, file, {
        start: 0,
        text: file.text.slice(s.sqlStart, s.end),
      });
      await logFailure(db, step, options, shown, performance.now() - t0);
      throw migrationFailure(shown, {
        plan,
        index,
        text: file.text,
        offset: [...file.text.slice(0, s.sqlStart)].length,
        statement: { index: k, count, firstLost },
        bookkeeping: own,
      }, failureContext(options));
    }
  }
  try {
    await db.runScript(
      restoreOf(options) + renderMarkFinished(step, performance.now() - t0, options),
    );
  } catch (err) {
    await rollbackQuietly(db); // The mark's own transaction, aborted.
    if (!isDbServerError(err) || err.sqlstate !== "42501") throw err;
    // Every statement ran and committed; only strata's record of it failed.
    throw new StrataError(
      "PERMISSION_DENIED",
      `Cannot record "${file.fileName}" as done: ${err.message}`,
      {
        hint: `Its statements all ran and are committed; its row still says it started (an ` +
          `interrupted migration). ${grant}, then record it: ` +
          (step.kind === "up"
            ? `"strata stamp ${step.migration.versionText}"`
            : `"strata stamp" with the version below ${step.migration.versionText}`),
        cause: err,
      },
    );
  }
}

/**
 * After a failed statement of a statement-by-statement file: roll back the
 * file's own transaction if the session is in one (the server says so), put
 * the session back, and return the index of the first statement whose
 * effects are gone.
 */
async function recoverAfterStatement(
  db: Db,
  blockStart: number | null,
  failed: number,
  restore: string,
): Promise<number> {
  let inBlock = false;
  try {
    inBlock = (await db.transactionStatus()) !== "idle";
    await db.runScript((inBlock ? "ROLLBACK;\n" : "") + restore);
  } catch {
    // The session is gone; the server rolled back whatever was open.
  }
  return inBlock ? (blockStart ?? failed) : failed;
}

/** Append the failure to the log table, after the rollback (best effort: never throws). */
async function logFailure(
  db: Db,
  step: Step,
  options: RunOptions,
  err: DbServerError,
  ms: number,
): Promise<void> {
  try {
    await db.runScript(
      renderFailureLog(step, { ms, detail: `${err.sqlstate} ${err.message}` }, options),
    );
  } catch {
    // The failure itself is what the user must see; a lost audit row must not hide it.
  }
}

/** What each session has prepared with `renderPrepareRecord`: for which table and version. */
const preparedRecords = new WeakMap<Db, string>();

/**
 * Prepare the statements that record a step on `db`'s session, once per
 * session: again for another table or strata version. A `Db` strata has
 * not prepared before may still be a session that holds them (a library
 * caller's PGlite wrapped anew on each call): those are deallocated first.
 */
async function prepareRecord(db: Db, ctx: TableContext): Promise<void> {
  const key = `${quoteTable(ctx.table)} ${ctx.strataVersion}`;
  if (preparedRecords.get(db) === key) return;
  preparedRecords.delete(db);
  const held = await db.query<{ name: string }>(PREPARED_RECORDS);
  const drop = held.map((r) => `DEALLOCATE ${r.name};\n`).join("");
  await db.runScript(drop + renderPrepareRecord(ctx));
  preparedRecords.set(db, key);
}

/** `prepareRecord` before step `index`; its failure is strata's, before the file ran. */
async function prepareRecordOrFail(
  db: Db,
  plan: Plan,
  index: number,
  options: RunOptions,
): Promise<void> {
  try {
    await prepareRecord(db, options);
  } catch (err) {
    await rollbackQuietly(db);
    if (!isDbServerError(err)) throw err;
    throw migrationFailure(err, {
      plan,
      index,
      text: "",
      offset: 0,
      bookkeeping: true,
      beforeFile: true,
    }, failureContext(options));
  }
}

/** Roll back the transaction a failed step left open, if the server says one is (never throws). */
async function rollbackQuietly(db: Db): Promise<void> {
  try {
    if ((await db.transactionStatus()) !== "idle") await db.runScript("ROLLBACK");
  } catch {
    // The connection is gone, which rolls back too.
  }
}
